// Embed the session's Jitsi room with the IFrame API (external_api.js), using the signed token.
// The script is loaded from here, not from the page's head: a video service out of reach then cannot hold the
// page at "loading…" for ever. If the script fails, or the API is not there after data-timeout milliseconds,
// the page says so and points to the Jitsi app and a new tab (the links under the room).
(function () {
  "use strict";
  function start() {
    var holder = document.getElementById("jitsi-room");
    if (!holder) { return; }
    var loading = document.getElementById("jitsi-loading");
    var settled = false;

    function unavailable() {
      if (settled) { return; }
      settled = true;
      holder.classList.add("is-unavailable");
      if (loading) { loading.textContent = holder.dataset.unavailable; }
      var fallback = document.getElementById("room-fallback");
      if (fallback) { fallback.classList.add("is-offered"); }
    }

    function open() {
      if (settled) { return; }
      if (typeof window.JitsiMeetExternalAPI !== "function") { unavailable(); return; }
      settled = true;
      var lang = holder.dataset.lang;
      var api = new window.JitsiMeetExternalAPI(holder.dataset.domain, {
        roomName: holder.dataset.room,
        jwt: holder.dataset.jwt,
        parentNode: holder,
        width: "100%",
        height: "100%",
        lang: lang,
        userInfo: { displayName: holder.dataset.name },
        configOverwrite: { defaultLanguage: lang, prejoinConfig: { enabled: true } },
        interfaceConfigOverwrite: { LANG_DETECTION: false }
      });
      if (loading) { loading.remove(); }
      window.majlisJitsi = api;
    }

    if (typeof window.JitsiMeetExternalAPI === "function") { open(); return; }
    window.setTimeout(unavailable, parseInt(holder.dataset.timeout, 10) || 15000);
    var script = document.createElement("script");
    script.src = holder.dataset.externalApi;
    script.async = true;
    script.onload = open;
    script.onerror = unavailable;
    document.head.appendChild(script);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
