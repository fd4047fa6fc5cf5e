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

    // A detector reads the video's current frame: the text of a QR on it, or null. The browser's
    // own where it has one (Android Chrome).
    function nativeDetector() {
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return function (frame) {
        return detector.detect(frame).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
      };
    }
    // iOS Safari and WeChat on iOS have no BarcodeDetector: jsQR decodes the frame, drawn on a
    // canvas, in JavaScript. It is loaded only then (250 kB), from this app (never a CDN).
    var SIDE = 800;  // a larger frame is scaled down first: a phone's 1080p costs several times more
    function loadDecoder() {
      return new Promise(function (resolve, reject) {
        if (window.jsQR) { resolve(window.jsQR); return; }
        var script = document.createElement("script");
        script.src = section.dataset.decoder;
        script.onload = function () { if (window.jsQR) { resolve(window.jsQR); } else { reject(new Error("no decoder")); } };
        script.onerror = function () { reject(new Error("no decoder")); };
        document.head.appendChild(script);
      });
    }
    function scriptDetector(jsQR) {
      var canvas = document.createElement("canvas");
      var context = canvas.getContext("2d", { willReadFrequently: true });
      return function (frame) {
        var scale = Math.min(1, SIDE / Math.max(frame.videoWidth, frame.videoHeight));
        canvas.width = Math.round(frame.videoWidth * scale);
        canvas.height = Math.round(frame.videoHeight * scale);
        if (!canvas.width || !canvas.height) { return Promise.resolve(null); }
        context.drawImage(frame, 0, 0, canvas.width, canvas.height);
        var image = context.getImageData(0, 0, canvas.width, canvas.height);
        var code = jsQR(image.data, image.width, image.height);
        return Promise.resolve(code ? code.data : null);
      };
    }

    // The camera's frames go to the detector every 300 ms, one at a time, until one holds a code.
    function scan(detect) {
      return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
        video.srcObject = stream; video.hidden = false;
        return video.play().then(function () {
          var busy = false;
          var timer = window.setInterval(function () {
            if (busy) { return; }
            busy = true;
            Promise.resolve(video).then(detect).then(function (text) {
              busy = false;
              if (!text) { return; }
              window.clearInterval(timer);
              stream.getTracks().forEach(function (track) { track.stop(); });
              scanned(text);
            }, function () { busy = false; });
          }, 300);
        });
      });
    }

    if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
      camera.hidden = false;
      camera.addEventListener("click", function () {
        camera.disabled = true;  // one camera at a time; enabled again once a code is read
        var detector = "BarcodeDetector" in window ? Promise.resolve(nativeDetector())
          : loadDecoder().then(scriptDetector, function () { cannotScan(); return null; });
        detector.then(function (detect) { return detect && scan(detect); }).catch(function (err) {
          camera.disabled = false; video.hidden = true; showError(String(err));
        });
      });
    } else {
      // No camera API at all (an old WebView, or a page not served over HTTPS).
      cannotScan();
    }
    reset();
  });
})();
