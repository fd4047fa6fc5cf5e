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
  // A signed-in phone stays signed in for 30 days (issue 16): when the short access cookie has
  // expired, the refresh cookie (HttpOnly, sent only to the session routes) buys a new one. The
  // readable vc_stay marker says one is worth trying. A refresh token is single use, so tabs
  // take turns (Web Locks): each then sends the cookie the previous one left.
  var SESSIONS = "/api/registry/v1/sessions";
  var refreshing = null;
  function refreshSession() {
    if (!cookie("vc_stay")) { return Promise.resolve(false); }
    if (!refreshing) {
      var run = function () {
        return fetch(SESSIONS + "/refresh", {
          method: "POST", body: "{}", credentials: "same-origin",
          headers: { "Accept": "application/json", "Content-Type": "application/json" }
        }).then(function (response) { return response.ok; }, function () { return false; });
      };
      var turn = window.navigator.locks ? window.navigator.locks.request("vc-refresh", run) : run();
      refreshing = turn.then(function (ok) { refreshing = null; return ok; });
    }
    return refreshing;
  }
  window.vcRefreshSession = refreshSession;

  // JSON over fetch with the session cookie and the double-submit CSRF header; a 401 of an
  // expired access cookie is answered by one refresh and the request sent again.
  window.vcFetch = function (url, options) {
    options = options || {};
    var body = options.body;
    if (body !== undefined && typeof body !== "string") { body = JSON.stringify(body); }
    function send() {
      var headers = Object.assign({ "Accept": "application/json" }, options.headers || {});
      if (body !== undefined && !headers["Content-Type"]) { headers["Content-Type"] = "application/json"; }
      var csrf = cookie("vc_csrf");
      if (csrf) { headers["X-CSRF-Token"] = csrf; }
      return fetch(url, Object.assign({}, options, { body: body, headers: headers, credentials: "same-origin" }))
        .then(function (response) {
          var type = response.headers.get("content-type") || "";
          var parse = type.indexOf("json") >= 0 ? response.json() : Promise.resolve(null);
          return parse.then(function (parsed) { return { status: response.status, ok: response.ok, body: parsed, response: response }; });
        });
    }
    return send().then(function (result) {
      if (result.status !== 401 || String(url).indexOf(SESSIONS) === 0) { return result; }
      return refreshSession().then(function (renewed) { return renewed ? send() : result; });
    });
  };
  window.vcCookie = cookie;

  // Times as people read them: the Shanghai clock (UTC+8, no daylight saving), whatever the
  // phone's or desk's own zone (issue 16). Instants travel as RFC 3339; only display converts.
  var ZONE = "Asia/Shanghai";
  var SHANGHAI_MS = 8 * 3600 * 1000;
  function parts(date) {
    var out = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: ZONE, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(date).forEach(function (p) { out[p.type] = p.value; });
    return out;
  }
  // "2026-12-07 00:30" for 2026-12-06T16:30Z (the same text as shared/localtime.py prints).
  window.vcTime = function (value) {
    if (!value) { return ""; }
    var p = parts(value instanceof Date ? value : new Date(value));
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute;
  };
  window.vcClock = function (date) {
    var p = parts(date);
    return p.hour + ":" + p.minute + ":" + p.second;
  };
  // A datetime-local field holds Shanghai wall time: to an instant and back.
  window.vcFromLocalInput = function (value) {
    return value ? new Date(value + (value.length === 16 ? ":00" : "") + "+08:00").toISOString() : "";
  };
  window.vcLocalInput = function (date) {
    return new Date(date.getTime() + SHANGHAI_MS).toISOString().slice(0, 16);
  };

  // Say `text` through the page's live region (base.html): colour results and errors reach a
  // screen reader even when they appear somewhere the reader is not.
  window.vcAnnounce = function (text) {
    var region = document.querySelector("[data-announce]");
    if (!region) { return; }
    region.textContent = "";
    // Cleared first and written a moment later, so that the same words twice are said twice.
    window.setTimeout(function () { region.textContent = text; }, 60);
  };

  // Tie each `errors[].field` of a 422 to its input: the message beside it, aria-invalid and
  // aria-describedby on it. Returns the first field named, or null.
  window.vcFieldErrors = function (form, errors) {
    if (!form || !form.elements) { return null; }
    form.querySelectorAll("[data-field-error]").forEach(function (note) { note.remove(); });
    Array.prototype.forEach.call(form.elements, function (input) {
      if (input.hasAttribute("aria-invalid")) { input.removeAttribute("aria-invalid"); input.removeAttribute("aria-describedby"); }
    });
    var first = null;
    (errors || []).forEach(function (error) {
      var input = form.elements.namedItem(error.field);
      if (!input || !input.setAttribute) { return; }
      if (!input.id) { input.id = (form.id || "form") + "-" + error.field; }
      var note = document.createElement("p");
      note.className = "error field-error";
      note.id = input.id + "-error";
      note.setAttribute("data-field-error", "");
      note.textContent = error.message;
      input.insertAdjacentElement("afterend", note);
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", note.id);
      first = first || input;
    });
    return first;
  };

  // Show a problem+json answer in `target` (a form's [data-error]), announce it, tie its field
  // errors to their inputs and move the focus to the first of them.
  window.vcProblem = function (target, body, status) {
    var text = (body && (body.detail || body.title)) ||
      (status ? "HTTP " + status : document.documentElement.lang.indexOf("zh") === 0 ? "出錯了 / 出错了" : "Something went wrong");
    var first = window.vcFieldErrors(target.closest("form"), body && body.errors);
    target.textContent = text;
    target.hidden = false;
    window.vcAnnounce(text);
    if (first) { first.focus(); }
  };
  // A page rendered without a live access cookie (base.html: data-session="out") while the
  // phone holds a refresh token: renew the session and show the page again, signed in, or go
  // where the sign-in page was asked to return. At most once in 10 s, so nothing loops.
  function resumeSession() {
    if (document.body.dataset.session !== "out" || !cookie("vc_stay")) { return; }
    var last = 0;
    try { last = Number(window.sessionStorage.getItem("vc_resumed") || 0); } catch (e) { return; }
    if (Date.now() - last < 10000) { return; }
    try { window.sessionStorage.setItem("vc_resumed", String(Date.now())); } catch (e) { return; }
    refreshSession().then(function (renewed) {
      if (!renewed) { return; }
      var target = document.body.dataset.resume;
      if (target) { location.replace(target); } else { location.reload(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    resumeSession();
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
