// The inspector: bind with a declaration code, my venues, quick check-in, poster downloads.
(function () {
  "use strict";
  function link(text, href, download) {
    var a = document.createElement("a");
    a.className = "button";
    a.textContent = text;
    a.href = href;
    if (download) { a.setAttribute("download", ""); }
    return a;
  }
  function render(list, venues) {
    list.textContent = "";
    if (!venues.length) {
      var empty = document.createElement("li");
      empty.textContent = list.dataset.empty;
      list.appendChild(empty);
      return;
    }
    venues.forEach(function (venue) {
      var item = document.createElement("li");
      item.className = "card";
      var title = document.createElement("strong");
      var names = venue.region_names || {};
      var region = [names.city, names.district].filter(function (n) { return n && n !== "市辖区"; }).join(" ");
      title.textContent = venue.name + " · " + (region || venue.region_code);
      item.appendChild(title);
      // The quick check-in opens the poster's own check-in page, as a citizen's scan would.
      item.appendChild(link(list.dataset.quick, "/c/" + encodeURIComponent(venue.venue_token) + "?temperature_band=normal"));
      var code = window.vcRegistry.api + "/venues/" + venue.venue_id + "/code?format=";
      item.appendChild(link(list.dataset.pdf, code + "pdf", true));
      item.appendChild(link(list.dataset.png, code + "png", true));
      var leave = document.createElement("button");
      leave.type = "button";
      leave.className = "secondary";
      leave.textContent = list.dataset.leave;
      leave.addEventListener("click", function () {
        if (!window.confirm(list.dataset.confirm)) { return; }
        window.vcFetch(window.vcRegistry.api + "/inspector-bindings/" + venue.venue_id, { method: "DELETE" })
          .then(function () { load(list); });
      });
      item.appendChild(leave);
      list.appendChild(item);
    });
  }
  function load(list) {
    window.vcFetch(window.vcRegistry.api + "/inspector-bindings").then(function (result) {
      if (window.vcRegistry.signedOut(result) || !result.ok) { return; }
      render(list, result.body.venues);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var list = document.querySelector("[data-venues]");
    var form = document.querySelector("form[data-form=bind]");
    load(list);
    form.addEventListener("vc:done", function () { form.reset(); load(list); });
  });
})();
