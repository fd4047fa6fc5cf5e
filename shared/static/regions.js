// The region picker (shared/templates/region_picker.html): each list filled from the registry's
// GET /api/registry/v1/regions?parent=... when the one above it changes. Without this script the
// server renders the lists from the form's GET parameters.
(function () {
  "use strict";
  var API = "/api/registry/v1/regions";

  function fill(select, regions) {
    select.textContent = "";
    var none = document.createElement("option");
    none.value = "";
    none.textContent = select.dataset.choose;
    select.appendChild(none);
    regions.forEach(function (r) {
      var option = document.createElement("option");
      option.value = r.code;
      option.textContent = r.name;
      option.dataset.selectable = r.selectable ? "true" : "false";
      select.appendChild(option);
    });
  }

  function load(parent) {
    return fetch(API + "?parent=" + encodeURIComponent(parent), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { regions: [] }; })
      .then(function (body) { return body.regions; });
  }

  function wire(picker) {
    var province = picker.querySelector("[data-level=province]");
    var city = picker.querySelector("[data-level=city]");
    var district = picker.querySelector("[data-level=district]");
    province.addEventListener("change", function () {
      fill(district, []);
      load(province.value).then(function (regions) { fill(city, regions); });
    });
    city.addEventListener("change", function () {
      var picked = city.options[city.selectedIndex];
      if (!city.value) { fill(district, []); return; }
      // A city without districts (东莞市, 中山市) is itself the county-level unit.
      if (picked.dataset.selectable === "true") {
        fill(district, [{ code: city.value, name: picked.textContent, selectable: true }]);
        district.value = city.value;
        return;
      }
      load(city.value).then(function (regions) { fill(district, regions); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-region-picker]").forEach(wire);
  });
})();
