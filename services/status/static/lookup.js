// Assisted lookup (老幼助查): ask by name and ID, show the masked answer and the person's health
// code for display_seconds, then clear both. An inspector can also register a person who is not
// registered yet (no phone, no password) and record their entry into the venue in one step:
// 確認放行 sends the shown code to checkin's reverse-scan path, as if the inspector scanned it.
(function () {
  "use strict";
  // Status learns a new person from registry's event within a second or two; a lookup before
  // that says 404. A few tries, spaced out, stay well inside the caller's 10 lookups a minute.
  var AFTER_REGISTERING_MS = [1000, 1500, 2500, 4000, 6000];

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-lookup]");
    if (!form) { return; }
    var result = document.querySelector("[data-result]");
    var error = form.querySelector("[data-error]");
    var register = document.querySelector("form[data-register]");
    var registerError = register.querySelector("[data-error]");
    var registered = document.querySelector("[data-registered]");
    var entered = document.querySelector("[data-entered]");
    var setup = form.querySelector("[data-entry-setup]");
    var venue = form.querySelector("[data-venue]");
    var fever = form.querySelector("[data-fever]");
    var feverAck = form.querySelector("[data-fever-ack]");
    var enter = result.querySelector("[data-enter]");
    var ticking = null;
    var asked = null;   // the name and number of the last lookup, kept only to register that person
    var entry = null;   // what 確認放行 sends: the shown code, the venue and the band

    function colourName(colour) {
      return result.dataset["name" + colour.charAt(0).toUpperCase() + colour.slice(1)] || colour;
    }
    var bands = form.querySelectorAll("[data-band]");
    var measured = "normal";
    function band() { return measured; }
    function pick(value) {
      measured = value;
      bands.forEach(function (b) { b.setAttribute("aria-pressed", b.dataset.band === value ? "true" : "false"); });
      fever.hidden = value !== "fever";
      if (fever.hidden) { feverAck.checked = false; }
    }

    // Only an inspector bound to a venue records entries and registers people on the spot.
    window.vcFetch(form.dataset.venues, { method: "GET" }).then(function (answer) {
      if (!answer.ok || !answer.body || !answer.body.venues.length) { return; }
      answer.body.venues.forEach(function (v) {
        var option = document.createElement("option");
        option.value = v.venue_id;
        option.textContent = v.name;
        venue.appendChild(option);
      });
      setup.hidden = false;
    });
    bands.forEach(function (button) {
      button.addEventListener("click", function () { pick(button.dataset.band); });
    });

    function clear() {
      if (ticking) { clearInterval(ticking); ticking = null; }
      entry = null;
      result.classList.add("hidden");
      result.querySelector("[data-masked-name]").textContent = "";
      result.querySelector("[data-reason-text]").textContent = "";
      result.querySelector("[data-code-type]").textContent = "";
      result.querySelector("[data-qr]").removeAttribute("src");
      enter.hidden = true;
      document.body.className = "";
    }

    // Where and how the person enters, read before the form is cleared for the next person.
    function chosen() {
      if (setup.hidden) { return null; }
      var picked = { venue_id: venue.value, temperature_band: band() };
      if (picked.temperature_band === "fever") { picked.fever_acknowledged = feverAck.checked; }
      return picked;
    }

    function show(found, picked) {
      result.className = "hc-band hc-" + found.colour;
      result.querySelector("[data-masked-name]").textContent = found.masked_name;
      result.querySelector("[data-reason-text]").textContent = found.reason_text;
      // The colour is never the only signal: its name is written and said with the reason.
      var name = colourName(found.colour);
      result.querySelector("[data-code-type]").textContent = name;
      result.querySelector("[data-qr]").src = found.token_qr;
      window.vcAnnounce([found.masked_name, name, found.reason_text].join(" · "));
      if (picked) {
        entry = Object.assign({ health_code_token: found.token, masked_name: found.masked_name }, picked);
        enter.hidden = false;
      }
      var left = found.display_seconds;
      var countdown = result.querySelector("[data-countdown]");
      countdown.textContent = String(left);
      ticking = setInterval(function () {
        left -= 1;
        countdown.textContent = String(left);
        if (left <= 0) { clear(); }
      }, 1000);
    }

    function lookUp(body, retries) {
      return window.vcFetch(form.dataset.api, { method: "POST", body: body }).then(function (answer) {
        if (answer.status === 404 && retries && retries.length) {
          return new Promise(function (resolve) { window.setTimeout(resolve, retries[0]); })
            .then(function () { return lookUp(body, retries.slice(1)); });
        }
        if (!answer.ok) {
          // Not registered: an inspector may register the person right here.
          if (answer.status === 404 && !setup.hidden) {
            register.hidden = false;
            register.querySelector("[data-register-who]").textContent = body.name;
            register.elements.birth_date.focus();
          }
          // Said in the page's language: nobody by that name and number (a 404 carries no field).
          var problem = answer.status === 404 ? { detail: form.dataset.notFound } : answer.body;
          window.vcProblem(error, problem, answer.status);
          return;
        }
        registered.hidden = true;
        register.hidden = true;
        asked = null;
        var picked = chosen();
        // The name and number leave the screen; the venue stays chosen, the band is measured anew.
        form.elements.name.value = "";
        form.elements.id_number.value = "";
        pick("normal");
        show(answer.body, picked);
      });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clear();
      error.hidden = true; entered.hidden = true; register.hidden = true; registered.hidden = true;
      window.vcFieldErrors(form, []);
      if (band() === "fever" && !feverAck.checked) {
        window.vcProblem(error, { detail: fever.querySelector("[role=alert]").textContent });
        feverAck.focus();
        return;
      }
      asked = { name: form.elements.name.value, id_number: form.elements.id_number.value };
      lookUp(asked, null);
    });

    register.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!asked) { return; }
      registerError.hidden = true;
      var body = { name: asked.name, id_number: asked.id_number, birth_date: register.elements.birth_date.value };
      window.vcFetch(register.dataset.api, { method: "POST", body: body }).then(function (answer) {
        if (!answer.ok) { window.vcProblem(registerError, answer.body, answer.status); return; }
        register.reset();
        register.hidden = true;
        error.hidden = true;
        registered.hidden = false;
        window.vcAnnounce(registered.textContent);
        lookUp({ name: asked.name, id_number: asked.id_number }, AFTER_REGISTERING_MS);
      });
    });

    enter.addEventListener("click", function () {
      if (!entry) { return; }
      var who = entry.masked_name;
      var body = Object.assign({}, entry);
      delete body.masked_name;
      enter.disabled = true;
      window.vcFetch(result.dataset.entries, { method: "POST", body: body }).then(function (answer) {
        enter.disabled = false;
        if (!answer.ok) { window.vcProblem(error, answer.body, answer.status); return; }
        clear();
        entered.textContent = entered.dataset.prefix + " · " + who;
        entered.hidden = false;
        window.vcAnnounce(entered.textContent);
      });
    });
  });
})();
