// Family members: list, and add by name and identity.
(function () {
  "use strict";
  function render(list, dependents) {
    list.textContent = "";
    if (!dependents.length) {
      var empty = document.createElement("li");
      empty.textContent = list.dataset.empty;
      list.appendChild(empty);
      return;
    }
    dependents.forEach(function (d) {
      var item = document.createElement("li");
      item.textContent = d.masked_name + " · " + d.masked_id + " · " + d.relation;
      list.appendChild(item);
    });
  }
  function load(list) {
    window.vcFetch(window.vcRegistry.api + "/dependents").then(function (result) {
      if (window.vcRegistry.signedOut(result) || !result.ok) { return; }
      render(list, result.body.dependents);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var list = document.querySelector("[data-dependents]");
    var form = document.querySelector("form[data-form=dependent]");
    load(list);
    form.addEventListener("vc:done", function () { form.reset(); load(list); });
  });
})();
