// The inspector's reverse scan: read a health code (keyboard-wedge scanner or camera), show the
// masked identity and colour at once, pick a temperature band (a fever must be acknowledged),
// confirm the entry (確認放行).
(function () {
  "use strict";
  function colourName(section, colour) {
    return section.dataset["name" + colour.charAt(0).toUpperCase() + colour.slice(1)] || colour;
  }
  // A QR may hold the bare token or a URL ending in it.
  function tokenOf(text) {
    var value = (text || "").trim();
    var slash = value.lastIndexOf("/");
    return (slash >= 0 ? value.slice(slash + 1) : value).toUpperCase();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var section = document.querySelector("[data-inspect]");
    if (!section) { return; }
    var input = section.querySelector("[data-code]");
    var venue = section.querySelector("[data-venue]");
    var card = section.querySelector("[data-person]");
    var error = section.querySelector("[data-error]");
    var done = section.querySelector("[data-done]");
    var confirm = section.querySelector("[data-confirm]");
    var bands = section.querySelectorAll("[data-band]");
    var fever = section.querySelector("[data-fever]");
    var feverAck = section.querySelector("[data-fever-ack]");
    var current = null;
    var band = null;

    function reset() {
      current = null; band = null;
      card.hidden = true; confirm.disabled = true;
      document.body.className = "";
      bands.forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
      fever.hidden = true; feverAck.checked = false;
      input.value = "";
      input.focus();
    }
    function showError(text) { error.textContent = text; error.hidden = false; window.vcAnnounce(text); }

    function verify(text) {
      var token = tokenOf(text);
      if (!token) { return; }
      error.hidden = true; done.hidden = true;
      window.vcFetch(section.dataset.verify, { method: "POST", body: { token: token } }).then(function (answer) {
        if (!answer.ok) { reset(); showError((answer.body && answer.body.detail) || String(answer.status)); return; }
        var who = answer.body;
        current = token;
        card.querySelector("[data-masked-name]").textContent = who.masked_name;
        card.querySelector("[data-masked-id]").textContent = who.masked_id;
        card.querySelector("[data-code-type]").textContent = colourName(section, who.colour);
        card.querySelector("[data-reason-text]").textContent = who.reason_text;
        document.body.className = "colour-" + who.colour;
        card.hidden = false;
        window.vcAnnounce([colourName(section, who.colour), who.masked_name, who.reason_text].join(" · "));
      }, function () { showError(document.querySelector("[data-offline]").textContent); });
    }

    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); verify(input.value); }
    });
    // A pasted code has no Enter after it; read it once the paste has landed.
    input.addEventListener("paste", function () { window.setTimeout(function () { verify(input.value); }, 0); });

    // A fever is never let in by a slip: the warning must be acknowledged before 確認放行.
    function ready() { return Boolean(current && band && (band !== "fever" || feverAck.checked)); }
    bands.forEach(function (button) {
      button.addEventListener("click", function () {
        band = button.dataset.band;
        bands.forEach(function (b) { b.setAttribute("aria-pressed", b === button ? "true" : "false"); });
        fever.hidden = band !== "fever";
        if (band !== "fever") { feverAck.checked = false; }
        confirm.disabled = !ready();
      });
    });
    feverAck.addEventListener("change", function () { confirm.disabled = !ready(); });

    confirm.addEventListener("click", function () {
      if (!ready()) { return; }
      confirm.disabled = true;
      var body = { venue_id: venue.value, health_code_token: current, temperature_band: band };
      if (band === "fever") { body.fever_acknowledged = true; }
      window.vcFetch(section.dataset.api, { method: "POST", body: body }).then(function (answer) {
        if (!answer.ok) { confirm.disabled = !ready(); showError((answer.body && answer.body.detail) || String(answer.status)); return; }
        reset();
        done.hidden = false;
        window.vcAnnounce(done.textContent);
      }, function () { confirm.disabled = false; showError(document.querySelector("[data-offline]").textContent); });
    });

    var camera = section.querySelector("[data-camera]");
    var video = section.querySelector("[data-video]");
    var noCamera = section.querySelector("[data-no-camera]");

    function scanned(text) {
      camera.disabled = false;
      video.hidden = true;
      input.value = text;
      verify(text);
    }
    function cannotScan() {
      camera.disabled = false;
      camera.hidden = true;
      noCamera.hidden = false;
      window.vcAnnounce(noCamera.textContent);
    }

    // The browser's own detector where it has one (Android Chrome).
    function detectNatively() {
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
        video.srcObject = stream; video.hidden = false;
        return video.play().then(function () {
          var timer = window.setInterval(function () {
            detector.detect(video).then(function (codes) {
              if (!codes.length) { return; }
              window.clearInterval(timer);
              stream.getTracks().forEach(function (track) { track.stop(); });
              scanned(codes[0].rawValue);
            });
          }, 300);
        });
      }).catch(function (err) { camera.disabled = false; showError(String(err)); });
    }

    // iOS Safari and WeChat on iOS have no BarcodeDetector: @zxing/browser decodes the camera's
    // frames in JavaScript. It is loaded only then (440 kB), from this app (never a CDN).
    function loadDecoder() {
      return new Promise(function (resolve, reject) {
        if (window.ZXingBrowser) { resolve(window.ZXingBrowser); return; }
        var script = document.createElement("script");
        script.src = section.dataset.decoder;
        script.onload = function () { if (window.ZXingBrowser) { resolve(window.ZXingBrowser); } else { reject(new Error("no decoder")); } };
        script.onerror = function () { reject(new Error("no decoder")); };
        document.head.appendChild(script);
      });
    }
    function detectInScript() {
      loadDecoder().then(function (zxing) {
        var reader = new zxing.BrowserQRCodeReader();
        video.hidden = false;
        return reader.decodeFromConstraints({ video: { facingMode: "environment" } }, video, function (result, err, controls) {
          if (!result) { return; }
          controls.stop();
          scanned(result.getText());
        });
      }, cannotScan).catch(function (err) { camera.disabled = false; video.hidden = true; showError(String(err)); });
    }

    if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
      camera.hidden = false;
      camera.addEventListener("click", function () {
        camera.disabled = true;  // one camera at a time; enabled again once a code is read
        if ("BarcodeDetector" in window) { detectNatively(); } else { detectInScript(); }
      });
    } else {
      // No camera API at all (an old WebView, or a page not served over HTTPS).
      cannotScan();
    }
    reset();
  });
})();
