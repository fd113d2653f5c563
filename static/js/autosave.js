// Autosave the moderators' notes a moment after typing stops (the form still works without script).
(function () {
  "use strict";
  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-autosave]"), function (form) {
      var status = form.querySelector("[data-autosave-status]");
      var timer = null;
      var last = form.elements.body.value;
      function save() {
        if (form.elements.body.value === last) { return; }
        var data = new FormData(form);
        var text = form.elements.body.value;
        fetch(form.action, { method: "POST", body: data, credentials: "same-origin",
                             headers: { "X-Requested-With": "autosave", "Accept": "application/json" } })
          .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
          .then(function () { last = text; if (status) { status.textContent = status.dataset.saved || "✓"; } })
          .catch(function () { if (status) { status.textContent = "!"; } });
      }
      form.elements.body.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(save, 1500);
      });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
