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
    var names = body.region_names || {};
    field("region", [names.province, names.city, names.district].filter(function (n) {
      return n && n !== "市辖区" && n !== "县";
    }).join(" ") + " (" + body.region_code + ")");
    field("address", body.address || "");
    document.querySelector("[data-handover-form]").classList.remove("hidden");
    loadHandover(body.venue_id);
    field("declaration_code", grouped(body.declaration_code));
    field("poster_version", String(body.poster_version));
    renderInspectors(document.querySelector("[data-inspectors]"), body.inspectors || []);
  }

  var pendingOffer = null;

  function loadHandover(venueId) {
    window.vcFetch(api() + "/venues/" + venueId + "/handovers").then(function (result) {
      if (!result.ok) { return; }
      var pending = result.body.handovers.filter(function (h) { return h.state === "pending"; })[0] || null;
      pendingOffer = pending;
      var form = document.querySelector("[data-handover-form]");
      var line = form.querySelector("[data-handover-pending]");
      line.hidden = !pending;
      line.textContent = pending ? form.dataset.pending + pending.to_masked_name : "";
      form.querySelector("[data-handover-cancel]").hidden = !pending;
    });
  }

  function loadIncoming() {
    var box = document.querySelector("[data-incoming-handovers]");
    window.vcFetch(api() + "/handovers/incoming").then(function (result) {
      if (!result.ok) { return; }
      box.textContent = "";
      box.classList.toggle("hidden", !result.body.handovers.length);
      result.body.handovers.forEach(function (h) {
        var p = document.createElement("p");
        p.textContent = box.dataset.offers + h.venue_name + " (" + h.from_masked_name + ")";
        box.appendChild(p);
        [["accept", box.dataset.accept], ["decline", box.dataset.decline]].forEach(function (pair) {
          var button = document.createElement("button");
          button.type = "button";
          button.className = pair[0] === "accept" ? "primary" : "secondary";
          button.textContent = pair[1];
          button.addEventListener("click", function () {
            window.vcFetch(api() + "/handovers/" + h.handover_id + "/" + pair[0], { method: "POST" })
              .then(function () { loadIncoming(); load(); });
          });
          box.appendChild(button);
        });
      });
    });
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
    loadIncoming();
    var handover = document.querySelector("[data-handover-form]");
    handover.addEventListener("submit", function (event) {
      event.preventDefault();
      var error = handover.querySelector("[data-error]");
      error.hidden = true;
      if (!venue || !confirmed(handover.querySelector("button[type=submit]"))) { return; }
      var body = { to_phone: handover.elements.to_phone.value.trim() };
      window.vcFetch(api() + "/venues/" + venue.venue_id + "/handovers", { method: "POST", body: body })
        .then(function (result) {
          if (!result.ok) { window.vcRegistry.showError(error, result.body); return; }
          loadHandover(venue.venue_id);
        });
    });
    handover.querySelector("[data-handover-cancel]").addEventListener("click", function () {
      if (!pendingOffer) { return; }
      window.vcFetch(api() + "/handovers/" + pendingOffer.handover_id + "/cancel", { method: "POST" })
        .then(function () { loadHandover(venue.venue_id); });
    });
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
