// Assisted lookup: ask by name and ID, show the masked answer for display_seconds, then clear it.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-lookup]");
    if (!form) { return; }
    var result = document.querySelector("[data-result]");
    var error = form.querySelector("[data-error]");
    var ticking = null;

    function clear() {
      if (ticking) { clearInterval(ticking); ticking = null; }
      result.classList.add("hidden");
      result.querySelector("[data-masked-name]").textContent = "";
      result.querySelector("[data-reason-text]").textContent = "";
      result.querySelector("[data-code-type]").textContent = "";
      document.body.className = "";
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clear();
      error.hidden = true;
      window.vcFieldErrors(form, []);
      var body = { name: form.elements.name.value, id_number: form.elements.id_number.value };
      window.vcFetch(form.dataset.api, { method: "POST", body: body }).then(function (answer) {
        if (!answer.ok) {
          window.vcProblem(error, answer.body, answer.status);
          return;
        }
        form.reset();
        var found = answer.body;
        result.className = "hc-band hc-" + found.colour;
        result.querySelector("[data-masked-name]").textContent = found.masked_name;
        result.querySelector("[data-reason-text]").textContent = found.reason_text;
        // The colour is never the only signal: its name is written and said with the reason.
        var name = result.dataset["name" + found.colour.charAt(0).toUpperCase() + found.colour.slice(1)] || found.colour;
        result.querySelector("[data-code-type]").textContent = name;
        window.vcAnnounce([found.masked_name, name, found.reason_text].join(" · "));
        var left = found.display_seconds;
        var countdown = result.querySelector("[data-countdown]");
        countdown.textContent = String(left);
        ticking = setInterval(function () {
          left -= 1;
          countdown.textContent = String(left);
          if (left <= 0) { clear(); }
        }, 1000);
      });
    });
  });
})();
