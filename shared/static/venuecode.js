// venuecode pages: language and large-type switches, and fetch with the CSRF header.
(function () {
  "use strict";
  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }
  function setCookie(name, value) {
    document.cookie = name + "=" + encodeURIComponent(value) + "; path=/; max-age=31536000; samesite=lax";
  }
  // JSON over fetch with the session cookie and the double-submit CSRF header.
  window.vcFetch = function (url, options) {
    options = options || {};
    var headers = Object.assign({ "Accept": "application/json" }, options.headers || {});
    if (options.body !== undefined && typeof options.body !== "string") {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(options.body);
    }
    var csrf = cookie("vc_csrf");
    if (csrf) { headers["X-CSRF-Token"] = csrf; }
    return fetch(url, Object.assign({}, options, { headers: headers, credentials: "same-origin" }))
      .then(function (response) {
        var type = response.headers.get("content-type") || "";
        var parse = type.indexOf("json") >= 0 ? response.json() : Promise.resolve(null);
        return parse.then(function (body) { return { status: response.status, ok: response.ok, body: body, response: response }; });
      });
  };
  window.vcCookie = cookie;
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-lang]").forEach(function (button) {
      button.addEventListener("click", function () { setCookie("vc_lang", button.dataset.lang); location.reload(); });
    });
    document.querySelectorAll("[data-large-toggle]").forEach(function (button) {
      button.addEventListener("click", function () {
        var on = !document.documentElement.classList.contains("large");
        document.documentElement.classList.toggle("large", on);
        button.setAttribute("aria-pressed", on ? "true" : "false");
        setCookie("vc_large", on ? "1" : "0");
      });
    });
    var banner = document.querySelector("[data-offline]");
    if (banner) {
      window.addEventListener("offline", function () { banner.hidden = false; });
      window.addEventListener("online", function () { banner.hidden = true; });
    }
  });
})();
