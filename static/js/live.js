// Live refresh without reloading: one Server-Sent Events stream per page says when the session's version changes;
// the page then re-reads its server-rendered fragment (escaped by the server). A reconnecting stream sends the
// last version it saw, so nothing is missed; if the stream cannot be held, the page polls instead.
// A refresh never takes away what a person is typing or where their focus is, and what changed for them is said in
// the page's status region (#live-announcer, aria-live) for screen readers.
(function () {
  "use strict";

  var TYPING = /^(text|search|email|tel|url|number|password)$/;

  function LiveRegion(region) {
    this.region = region;
    this.version = parseInt(region.dataset.liveVersion || "0", 10);
    this.failures = 0;
    this.busy = false;
    this.again = false;
    this.waiting = false;
    this.announcer = document.getElementById("live-announcer");
    this.state = readState(region);
  }

  function isTyping(element) {
    return element && (element.tagName === "TEXTAREA" || (element.tagName === "INPUT" && TYPING.test(element.type)));
  }

  // The states the fragment shows: each question's (and whether it is the viewer's), and the viewer's seat.
  function readState(region) {
    var state = { questions: {}, seat: "" };
    Array.prototype.forEach.call(region.querySelectorAll("[data-status][id^='question-']"), function (item) {
      var body = item.querySelector(".question-body");
      state.questions[item.id] = { status: item.dataset.status, mine: item.hasAttribute("data-mine"),
                                   text: body ? body.textContent.trim() : "" };
    });
    var marker = region.querySelector("[data-live-state]");
    if (marker) { state.seat = marker.dataset.seat || ""; }
    return state;
  }

  function snippet(text) {
    return text.length > 80 ? text.slice(0, 80).replace(/\s+\S*$/, "") + "…" : text;
  }

  // What to say about the change from one state to the next ("mine": the viewer's own; "all": the console's queue).
  LiveRegion.prototype.changes = function (before, after) {
    var say = this.announcer ? this.announcer.dataset : {};
    var mode = this.region.dataset.announce;
    var lines = [];
    Object.keys(after.questions).forEach(function (id) {
      var now = after.questions[id], was = before.questions[id];
      if (was && was.status === now.status) { return; }
      var words = say["say" + cap(now.status)];
      if (mode === "mine") {
        if (now.mine && was && words) { lines.push(words); }
      } else if (mode === "all") {
        if (!was && now.status === "pending" && say.sayNew) { lines.push(say.sayNew + " " + snippet(now.text)); }
        else if (was && words) { lines.push(words + " " + snippet(now.text)); }
      }
    });
    if (mode === "all") {
      Object.keys(before.questions).forEach(function (id) {
        if (!after.questions[id] && say.sayGone) { lines.push(say.sayGone + " " + snippet(before.questions[id].text)); }
      });
    }
    if (mode === "mine" && before.seat === "waitlisted" && after.seat === "confirmed" && say.saySeat) {
      lines.push(say.saySeat);
      var place = document.querySelector("[data-place-state][data-when-seated]");
      if (place) {
        place.textContent = place.dataset.whenSeated;
        place.classList.remove("state-waiting");
        place.classList.add("state-confirmed");
      }
    }
    return lines;
  };

  // data-say-on_air becomes dataset.sayOn_air: the key for a status.
  function cap(status) { return status.charAt(0).toUpperCase() + status.slice(1); }

  LiveRegion.prototype.announce = function (lines) {
    var announcer = this.announcer;
    if (!announcer || !lines.length) { return; }
    // Emptied first, so that the same words said twice are heard twice.
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = lines.join(" "); }, 100);
  };

  // Where the focus is, in terms that survive the fragment being rebuilt: an element's id, or the id of the
  // nearest container with one and the element's place among that container's focusable elements.
  var FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";

  function focusKey(region) {
    var active = document.activeElement;
    if (!active || !region.contains(active) || active === region) { return null; }
    if (active.id) { return { id: active.id }; }
    var holder = active.parentElement ? active.parentElement.closest("[id]") : null;
    if (!holder || !region.contains(holder)) { return null; }
    return { holder: holder.id, index: Array.prototype.indexOf.call(holder.querySelectorAll(FOCUSABLE), active) };
  }

  function restoreFocus(key) {
    if (!key) { return; }
    var target = key.id ? document.getElementById(key.id) : null;
    if (!target && key.holder) {
      var holder = document.getElementById(key.holder);
      target = holder ? holder.querySelectorAll(FOCUSABLE)[key.index] || holder : null;
    }
    if (target && target !== document.activeElement) {
      if (!target.hasAttribute("tabindex") && !target.matches(FOCUSABLE)) { return; }
      target.focus({ preventScroll: true });
    }
  }

  LiveRegion.prototype.refresh = function () {
    var self = this;
    if (self.busy) { self.again = true; return; }
    if (isTyping(document.activeElement) && self.region.contains(document.activeElement)) {
      // Someone is typing here (a rejection reason, an answer note): refresh once they leave the field.
      if (!self.waiting) {
        self.waiting = true;
        self.region.addEventListener("focusout", function () {
          self.waiting = false;
          window.setTimeout(function () { self.refresh(); }, 0);
        }, { once: true });
      }
      return;
    }
    self.busy = true;
    fetch(self.region.dataset.liveFragment, { credentials: "same-origin", headers: { "X-Requested-With": "live" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        if (isTyping(document.activeElement) && self.region.contains(document.activeElement)) {
          self.again = true;  // typing began while the fragment was on its way: try again after it
          return;
        }
        var typed = {};
        Array.prototype.forEach.call(self.region.querySelectorAll("input[id], textarea[id]"), function (field) {
          if (isTyping(field) && field.value) { typed[field.id] = field.value; }
        });
        var key = focusKey(self.region);
        self.region.innerHTML = html;
        Object.keys(typed).forEach(function (id) {
          var field = document.getElementById(id);
          if (field && !field.value) { field.value = typed[id]; }
        });
        restoreFocus(key);
        var state = readState(self.region);
        self.announce(self.changes(self.state, state));
        self.state = state;
        self.region.dispatchEvent(new CustomEvent("live:updated", { bubbles: true }));
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
      // A refused stream (503 when the server's streams are taken) is closed for good by the browser; one that keeps
      // dropping is cut by a proxy. Either way the page keeps up by polling.
      if (source.readyState === EventSource.CLOSED || self.failures > 5) {
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
      // The physical key (event.code), not the character: on an Arabic layout J types "ت" and A types "ش".
      var match = /^Key([A-Z])$/.exec(event.code || "");
      if (!match) { return; }
      var key = match[1].toLowerCase();
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
