// Family links: my family members (unlink, withdraw a request), the people who may act for me
// (accept or decline a request after reading what it allows, revoke), and adding a member.
(function () {
  "use strict";
  function button(label, onClick, kind) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = kind || "secondary";
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }
  function fill(list, items, make) {
    list.textContent = "";
    if (!items.length) {
      var empty = document.createElement("li");
      empty.textContent = list.dataset.empty;
      list.appendChild(empty);
      return;
    }
    items.forEach(function (item) { list.appendChild(make(item)); });
  }
  function act(method, path) {
    var error = document.querySelector("[data-links-error]");
    return window.vcFetch(window.vcRegistry.api + path, { method: method }).then(function (result) {
      error.hidden = result.ok;
      if (!result.ok) { error.textContent = (result.body && result.body.detail) || String(result.status); }
      load();
    });
  }
  function dependent(list, d) {
    var item = document.createElement("li");
    var state = d.state === "pending" ? list.dataset.pending : list.dataset.active;
    item.appendChild(document.createTextNode(
      d.masked_name + " · " + d.masked_id + " · " + d.relation + " · " + state + " "));
    var label = d.state === "pending" ? list.dataset.withdraw : list.dataset.unlink;
    item.appendChild(button(label, function () { act("DELETE", "/dependents/" + d.person_id); }));
    return item;
  }
  function guardian(list, g) {
    var item = document.createElement("li");
    var base = "/guardians/" + g.guardian_id;
    if (g.state === "pending") {
      item.appendChild(document.createTextNode(g.masked_name + " (" + g.relation + ") " + list.dataset.asks));
      var notice = document.createElement("p");
      notice.textContent = list.dataset.notice;
      item.appendChild(notice);
      item.appendChild(button(list.dataset.accept, function () { act("POST", base + "/accept"); }, "primary"));
      item.appendChild(button(list.dataset.decline, function () { act("DELETE", base); }));
    } else {
      item.appendChild(document.createTextNode(
        g.masked_name + " (" + g.relation + ") · " + list.dataset.active + " "));
      item.appendChild(button(list.dataset.revoke, function () { act("DELETE", base); }));
    }
    return item;
  }
  function load() {
    var mine = document.querySelector("[data-dependents]");
    var theirs = document.querySelector("[data-guardians]");
    window.vcFetch(window.vcRegistry.api + "/dependents").then(function (result) {
      if (window.vcRegistry.signedOut(result) || !result.ok) { return; }
      fill(mine, result.body.dependents, function (d) { return dependent(mine, d); });
    });
    window.vcFetch(window.vcRegistry.api + "/guardians").then(function (result) {
      if (!result.ok) { return; }
      fill(theirs, result.body.guardians, function (g) { return guardian(theirs, g); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-form=dependent]");
    load();
    form.addEventListener("vc:done", function () { form.reset(); load(); });
  });
})();
