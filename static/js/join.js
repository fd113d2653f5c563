// Embed the session's Jitsi room with the IFrame API (external_api.js), using the signed token.
(function () {
  "use strict";
  function start() {
    var holder = document.getElementById("jitsi-room");
    if (!holder) { return; }
    var loading = document.getElementById("jitsi-loading");
    if (typeof window.JitsiMeetExternalAPI !== "function") {
      if (loading) { loading.textContent = holder.getAttribute("data-unavailable") || loading.textContent; }
      return;
    }
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
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
