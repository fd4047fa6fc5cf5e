// The health authority's form: PUT a person's colour, reason, optional expiry and note.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-authority]");
    if (!form) { return; }
    var error = form.querySelector("[data-error]");
    var saved = form.querySelector("[data-saved-message]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      error.hidden = true;
      saved.hidden = true;
      window.vcFieldErrors(form, []);
      var f = form.elements;
      var body = { colour: f.colour.value, reason: f.reason.value };
      // valid_until is typed on the Shanghai clock.
      if (f.valid_until.value) { body.valid_until = window.vcFromLocalInput(f.valid_until.value); }
      if (f.note.value) { body.note = f.note.value; }
      var url = form.dataset.api + encodeURIComponent(f.person_id.value.trim()) + "/status";
      window.vcFetch(url, { method: "PUT", body: body }).then(function (answer) {
        if (!answer.ok) {
          window.vcProblem(error, answer.body, answer.status);
          return;
        }
        saved.textContent = form.dataset.saved + " " + answer.body.version + " · " + answer.body.reason_text;
        saved.hidden = false;
        window.vcAnnounce(saved.textContent);
      });
    });
  });
})();
