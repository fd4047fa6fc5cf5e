// The operator page: grant a staff role (registry) and pause or resume notifications (tracing).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var grant = document.getElementById("grant-form");
    if (grant) {
      grant.addEventListener("vc:done", function (event) {
        var note = grant.querySelector("[data-granted-note]");
        note.textContent = grant.dataset.granted + ": " + event.detail.role;
        window.vcAnnounce(note.textContent);
      });
    }
    var box = document.querySelector("[data-notifications]");
    if (!box) { return; }
    var state = box.querySelector("[data-notifications-state]");
    var toggle = box.querySelector("[data-notifications-toggle]");
    var error = box.querySelector("[data-error]");
    var paused = false;
    function show(answer) {
      if (!answer.ok) { window.vcProblem(error, answer.body, answer.status); return; }
      paused = Boolean(answer.body.paused);
      state.textContent = paused ? box.dataset.paused : box.dataset.on;
      toggle.textContent = paused ? box.dataset.resume : box.dataset.pause;
      toggle.hidden = false;
    }
    window.vcFetch(box.dataset.api).then(show);
    toggle.addEventListener("click", function () {
      window.vcFetch(box.dataset.api, { method: "PUT", body: { paused: !paused } }).then(show);
    });
  });
})();
