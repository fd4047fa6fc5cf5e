// Registry pages: JSON forms over the API, problem messages, sign-out. No inline script (CSP).
(function () {
  "use strict";
  var api = "/api/registry/v1";

  // The detail in the form's error line, each field's message beside its input (venuecode.js).
  function showError(target, body) {
    if (target) { window.vcProblem(target, body); }
  }

  function formBody(form) {
    var body = {};
    new FormData(form).forEach(function (value, key) {
      var text = String(value).trim();
      if (text !== "") { body[key] = text; }
    });
    return body;
  }

  function nextPage(fallback) {
    var next = new URLSearchParams(location.search).get("next") || "";
    // Only paths on this origin: never send a freshly signed-in user elsewhere.
    return next.charAt(0) === "/" && next.charAt(1) !== "/" ? next : fallback;
  }

  // A citizen who registered from a poster's page came to check in there: that page makes the
  // scan on arrival (#checkin, read once by scan.js). A sign-in returns one tap from done.
  function arrival(form) {
    var target = nextPage(form.dataset.next);
    return form.dataset.form === "register" && target.indexOf("/c/") === 0 ? target + "#checkin" : target;
  }

  function signedOut(response) {
    if (response.status === 401) {
      document.querySelectorAll("[data-signed-out]").forEach(function (el) { el.hidden = false; });
      return true;
    }
    return false;
  }

  var after = {
    register: function (form, body) {
      return window.vcFetch(api + "/sessions", { method: "POST", body: { id_number: body.id_number, password: body.password } });
    },
  };

  function wire(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var error = form.querySelector("[data-error]");
      if (error) { error.hidden = true; }
      window.vcFieldErrors(form, []);
      var body = formBody(form);
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
      window.vcFetch(form.dataset.api, { method: "POST", body: body }).then(function (result) {
        if (!result.ok) {
          // A 401 on the sign-in form is a wrong password, not an expired session.
          if (form.dataset.form === "login" || !signedOut(result)) { showError(error, result.body); }
          return;
        }
        var more = after[form.dataset.form];
        return Promise.resolve(more ? more(form, body, result) : null).then(function () {
          form.dispatchEvent(new CustomEvent("vc:done", { detail: result.body }));
          if (form.dataset.next) { location.assign(arrival(form)); }
        });
      }).catch(function () { showError(error, null); })
        .then(function () { if (button) { button.disabled = false; } });
    });
  }

  window.vcRegistry = { api: api, showError: showError, signedOut: signedOut };

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-form]").forEach(wire);
    document.querySelectorAll("[data-logout]").forEach(function (button) {
      button.addEventListener("click", function () {
        window.vcFetch(api + "/sessions/logout", { method: "POST" }).then(function () { location.assign("/"); });
      });
    });
    // Every device's refresh tokens are revoked, this one's too (a lost or lent phone).
    document.querySelectorAll("[data-logout-everywhere]").forEach(function (button) {
      button.addEventListener("click", function () {
        if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) { return; }
        window.vcFetch(api + "/sessions/logout-everywhere", { method: "POST" }).then(function () { location.assign("/"); });
      });
    });
  });
})();
