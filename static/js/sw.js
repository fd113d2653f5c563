// The Majlis service worker: shows the notices the server sends by Web Push, and opens their page when tapped.
// The payload is JSON: {title, body, url, lang, dir, stop_url?, stop_label?} (majlis/notifications/push.py).
"use strict";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

// Only pages of this site are opened from a notice.
function onThisSite(url) {
  if (!url) { return null; }
  try {
    var parsed = new URL(url, self.location.origin);
    return parsed.origin === self.location.origin ? parsed.href : null;
  } catch (error) {
    return null;
  }
}

self.addEventListener("push", function (event) {
  var data = {};
  if (event.data) {
    try { data = event.data.json(); } catch (error) { data = { body: event.data.text() }; }
  }
  var target = { url: onThisSite(data.url) || self.location.origin + "/", stop: onThisSite(data.stop_url) };
  var options = {
    body: data.body || "",
    dir: data.dir || "auto",
    lang: data.lang || "",
    icon: "/static/icons/icon-192.png",
    data: target,
    actions: target.stop && data.stop_label ? [{ action: "stop", title: data.stop_label }] : []
  };
  event.waitUntil(self.registration.showNotification(data.title || "Majlis", options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var data = event.notification.data || {};
  var target = event.action === "stop" ? data.stop : data.url;
  if (!target) { return; }
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
    for (var i = 0; i < windows.length; i += 1) {
      if (windows[i].url === target && "focus" in windows[i]) { return windows[i].focus(); }
    }
    return self.clients.openWindow(target);
  }));
});
