// The health-code page: colour band, code type and a QR that renews before its token expires.
(function () {
  "use strict";
  // Renew this long before expiry, so a code on screen is never an expired one.
  var RENEW_EARLY_MS = 10000;
  var RETRY_MS = 5000;
  var timer = null;

  function query(root) {
    var select = root.querySelector("[data-whose]");
    var whom = select ? select.value : "";
    return whom ? "?person_id=" + encodeURIComponent(whom) : "";
  }

  function schedule(ms) {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(load, Math.max(ms, 1000));
  }

  function show(root, body) {
    var band = root.querySelector("[data-band]");
    var name = root.dataset["name" + body.colour.charAt(0).toUpperCase() + body.colour.slice(1)] || body.colour;
    var said = [body.masked_name, name, body.reason_text].join(" · ");
    // The QR renews every minute: say the colour only when it (or whose code) changed.
    if (band.dataset.said !== said) { window.vcAnnounce(said); band.dataset.said = said; }
    band.className = "hc-band hc-" + body.colour;
    document.body.className = "colour-" + body.colour;
    root.querySelector("[data-masked-name]").textContent = body.masked_name;
    // The colour is never the only signal: its name and its reason are written, green too.
    root.querySelector("[data-code-type]").textContent = name;
    root.querySelector("[data-reason-text]").textContent = body.reason_text;
    var updated = root.querySelector("[data-updated]");
    updated.dateTime = body.updated_at;
    updated.textContent = window.vcTime(body.updated_at);  // the Shanghai clock
  }

  function load() {
    var root = document.querySelector("[data-health-code]");
    if (!root) { return; }
    var qs = query(root);
    var error = root.querySelector("[data-error]");
    root.querySelector("[data-paper-link]").href = root.dataset.paper + qs;
    window.vcFetch(root.dataset.api + qs).then(function (result) {
      if (!result.ok) {
        window.vcProblem(error, result.body, result.status);
        if (result.status >= 500) { schedule(RETRY_MS); }
        return;
      }
      error.hidden = true;
      show(root, result.body);
      var sep = qs ? "&" : "?";
      root.querySelector("[data-qr]").src = root.dataset.svg + qs + sep + "_=" + Date.now();
      schedule(new Date(result.body.token_expires_at).getTime() - Date.now() - RENEW_EARLY_MS);
    }, function () { schedule(RETRY_MS); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-health-code]");
    if (!root) { return; }
    var select = root.querySelector("[data-whose]");
    if (select) { select.addEventListener("change", load); }
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { load(); } });
    load();
  });
})();
