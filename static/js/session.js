// The viewer's part of the session page (enter the room, follow as a viewer, speak when called in, watch the
// stream) follows the session live: whenever the page's live region refreshes (live.js, one stream per page), this
// re-reads the part and swaps it in only if what it offers changed (a seat from the line, a question on air, the
// room opening), so a playing stream is not restarted by every vote.
(function () {
  "use strict";
  var busy = false;
  var again = false;

  function refresh() {
    var part = document.getElementById("viewer-part");
    if (!part || !part.dataset.fragment) { return; }
    if (busy) { again = true; return; }
    busy = true;
    fetch(part.dataset.fragment, { credentials: "same-origin", headers: { "X-Requested-With": "live" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;  // the server's own escaped rendering
        var fresh = holder.querySelector("#viewer-part");
        if (fresh && fresh.dataset.offerState !== part.dataset.offerState) {
          part.replaceWith(fresh);
        }
      })
      .catch(function () { /* the next change tries again */ })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  document.addEventListener("live:updated", refresh);
})();
