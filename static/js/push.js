// Notifications on this device (account page): register the service worker, ask for permission, subscribe with the
// server's VAPID key and tell the server; or unsubscribe. Without JavaScript the page says what it needs instead.
(function () {
  "use strict";

  function start() {
    var box = document.querySelector("[data-push]");
    if (!box) { return; }
    var status = box.querySelector("[data-push-status]");
    var on = box.querySelector("[data-push-on]");
    var off = box.querySelector("[data-push-off]");
    var registration = null;

    function say(text) { status.textContent = text; }

    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
      say(box.dataset.msgUnsupported);
      return;
    }

    function applicationServerKey(base64url) {
      var base64 = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
      var raw = window.atob(base64);
      var bytes = new Uint8Array(raw.length);
      for (var i = 0; i < raw.length; i += 1) { bytes[i] = raw.charCodeAt(i); }
      return bytes;
    }

    function tellServer(method, body) {
      return fetch(box.dataset.api, {
        method: method, credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf },
        body: JSON.stringify(body)
      }).then(function (response) { if (!response.ok) { throw new Error(String(response.status)); } });
    }

    function show(subscription) {
      var denied = Notification.permission === "denied";
      on.hidden = Boolean(subscription) || denied;
      off.hidden = !subscription;
      say(denied && !subscription ? box.dataset.msgDenied : subscription ? box.dataset.msgOn : box.dataset.msgOff);
    }

    function failed() { say(box.dataset.msgFailed); }

    navigator.serviceWorker.register(box.dataset.sw, { scope: "/" })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (ready) { registration = ready; return ready.pushManager.getSubscription(); })
      .then(show)
      .catch(function () { say(box.dataset.msgUnsupported); });

    on.addEventListener("click", function () {
      if (!registration) { return; }
      Notification.requestPermission().then(function (permission) {
        if (permission !== "granted") { show(null); return null; }
        return registration.pushManager.subscribe({
          userVisibleOnly: true, applicationServerKey: applicationServerKey(box.dataset.vapidKey)
        }).then(function (subscription) {
          return tellServer("POST", subscription.toJSON()).then(function () { show(subscription); off.focus(); });
        });
      }).catch(failed);
    });

    off.addEventListener("click", function () {
      if (!registration) { return; }
      registration.pushManager.getSubscription().then(function (subscription) {
        if (!subscription) { show(null); return null; }
        var endpoint = subscription.endpoint;
        return subscription.unsubscribe()
          .then(function () { return tellServer("DELETE", { endpoint: endpoint }); })
          .then(function () { show(null); on.focus(); });
      }).catch(failed);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
