// Live refresh without reloading: one Server-Sent Events stream per page says when the session's version changes;
// the page then re-reads its server-rendered fragment (escaped by the server). A reconnecting stream sends the
// last version it saw, so nothing is missed; if the stream cannot be held, the page polls instead.
(function () {
  "use strict";

  function LiveRegion(region) {
    this.region = region;
    this.version = parseInt(region.dataset.liveVersion || "0", 10);
    this.failures = 0;
    this.busy = false;
    this.again = false;
  }

  LiveRegion.prototype.refresh = function () {
    var self = this;
    if (self.busy) { self.again = true; return; }
    self.busy = true;
    fetch(self.region.dataset.liveFragment, { credentials: "same-origin", headers: { "X-Requested-With": "live" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var active = document.activeElement;
        var keepFocus = active && self.region.contains(active) && active.tagName === "TEXTAREA";
        if (!keepFocus) {
          self.region.innerHTML = html;
          self.region.dispatchEvent(new CustomEvent("live:updated", { bubbles: true }));
        }
      })
      .catch(function () { /* the next event or poll tries again */ })
      .then(function () {
        self.busy = false;
        if (self.again) { self.again = false; self.refresh(); }
      });
  };

  LiveRegion.prototype.listen = function () {
    var self = this;
    if (!window.EventSource) { self.poll(); return; }
    var url = self.region.dataset.liveEvents + "?since=" + self.version;
    var source = new EventSource(url);
    source.addEventListener("version", function (event) {
      self.failures = 0;
      var version = parseInt(event.data, 10);
      if (version > self.version) {
        self.version = version;
        self.refresh();
      }
    });
    source.onerror = function () {
      self.failures += 1;
      if (self.failures > 5) {  // the stream cannot be held (a proxy, a limit): fall back to polling
        source.close();
        self.poll();
      }
    };
  };

  LiveRegion.prototype.poll = function () {
    var self = this;
    window.setInterval(function () { self.refresh(); }, 5000);
  };

  function shortcuts(region) {
    // Moderators' keys: j/k move between questions; a, r, o, d, m press the matching button of the focused one.
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable)) { return; }
      var items = Array.prototype.slice.call(region.querySelectorAll("[data-question]"));
      if (!items.length) { return; }
      var current = document.activeElement && document.activeElement.closest ? document.activeElement.closest("[data-question]") : null;
      var index = items.indexOf(current);
      var key = event.key.toLowerCase();
      if (key === "j" || key === "k") {
        var next = key === "j" ? Math.min(index + 1, items.length - 1) : Math.max(index - 1, 0);
        items[next < 0 ? 0 : next].focus();
        event.preventDefault();
        return;
      }
      if (!current) { return; }
      var button = current.querySelector('[data-shortcut="' + key + '"]');
      if (!button) { return; }
      event.preventDefault();
      if (key === "r" || key === "d") {
        var field = button.form.querySelector("input[name=note], textarea[name=note]");
        if (field && !field.value) { field.focus(); return; }
      }
      button.form.submit();
    });
  }

  function start() {
    var regions = document.querySelectorAll("[data-live-events]");
    Array.prototype.forEach.call(regions, function (region) {
      new LiveRegion(region).listen();
      if (region.dataset.shortcuts === "on") { shortcuts(region); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
