// The administrator's venue: create it, the declaration code (copy, rotate), poster, inspectors.
(function () {
  "use strict";
  var api = function () { return window.vcRegistry.api; };
  var venue = null;

  function field(name, value) {
    document.querySelectorAll("[data-my-venue] [data-field=" + name + "]").forEach(function (el) {
      el.textContent = value;
    });
  }
  function grouped(code) { return code.slice(0, 5) + "-" + code.slice(5); }

  function renderInspectors(list, inspectors) {
    list.textContent = "";
    if (!inspectors.length) {
      var empty = document.createElement("li");
      empty.textContent = list.dataset.empty;
      list.appendChild(empty);
    }
    inspectors.forEach(function (inspector) {
      var item = document.createElement("li");
      item.textContent = inspector.masked_name + " ";
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "secondary";
      remove.textContent = list.dataset.remove;
      remove.addEventListener("click", function () {
        act("DELETE", "/venues/" + venue.venue_id + "/inspectors/" + inspector.person_id);
      });
      item.appendChild(remove);
      list.appendChild(item);
    });
  }

  function show(body) {
    venue = body;
    document.querySelector("[data-create-venue]").classList.add("hidden");
    document.querySelector("[data-my-venue]").classList.remove("hidden");
    field("name", body.name);
    field("region_code", body.region_code + (body.address ? " · " + body.address : ""));
    field("declaration_code", grouped(body.declaration_code));
    field("poster_version", String(body.poster_version));
    renderInspectors(document.querySelector("[data-inspectors]"), body.inspectors || []);
  }

  function load() {
    window.vcFetch(api() + "/venues/mine").then(function (result) {
      if (window.vcRegistry.signedOut(result)) { return; }
      if (result.status === 404) {
        document.querySelector("[data-create-venue]").classList.remove("hidden");
        return;
      }
      if (result.ok) { show(result.body); }
    });
  }

  function act(method, path, body) {
    var error = document.querySelector("[data-my-venue] [data-error]");
    error.hidden = true;
    return window.vcFetch(api() + path, { method: method, body: body }).then(function (result) {
      if (!result.ok) { window.vcRegistry.showError(error, result.body); return; }
      load();
    });
  }

  function confirmed(button) { return window.confirm(button.dataset.confirm); }

  document.addEventListener("DOMContentLoaded", function () {
    load();
    document.querySelector("[data-create-venue]").addEventListener("vc:done", load);
    document.querySelector("[data-copy]").addEventListener("click", function (event) {
      var button = event.currentTarget;
      if (!venue) { return; }
      navigator.clipboard.writeText(venue.declaration_code).then(function () {
        var label = button.textContent;
        button.textContent = button.dataset.copied;
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
    document.querySelector("[data-rotate]").addEventListener("click", function (event) {
      if (venue && confirmed(event.currentTarget)) { act("POST", "/venues/" + venue.venue_id + "/declaration-code/rotate"); }
    });
    document.querySelector("[data-reissue]").addEventListener("click", function (event) {
      if (venue && confirmed(event.currentTarget)) { act("POST", "/venues/" + venue.venue_id + "/poster/reissue"); }
    });
    document.querySelector("[data-bind-myself]").addEventListener("click", function () {
      if (venue) { act("POST", "/inspector-bindings", { declaration_code: venue.declaration_code }); }
    });
  });
})();
