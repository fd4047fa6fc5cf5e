// Every visible control of the page: a key (data-a11y-key, so that the focused one can be named),
// its touch target, and the visible labels tied to it.
() => {
  var shown = function (el) {
    var box = el.getBoundingClientRect();
    return box.width > 1 && box.height > 1 && getComputedStyle(el).visibility !== "hidden";
  };
  var selector = "a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex='-1'])";
  return Array.prototype.filter.call(document.querySelectorAll(selector), function (el) {
    return shown(el) && !el.disabled;
  }).map(function (el, i) {
    el.setAttribute("data-a11y-key", String(i));
    var labels = el.labels ? Array.prototype.filter.call(el.labels, shown) : [];
    var check = el.type === "checkbox" || el.type === "radio";
    // A tick box's target is its label row (a click on the label ticks it).
    var target = (check && labels.length ? labels[0] : el).getBoundingClientRect();
    return {
      key: String(i),
      name: el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.name ? "[name=" + el.name + "]" : "") +
        " " + JSON.stringify((el.textContent || el.value || "").trim().slice(0, 30)),
      field: /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName),
      // WCAG 2.5.5 exempts a link inside a sentence.
      inline: el.tagName === "A" && getComputedStyle(el).display === "inline",
      width: Math.round(target.width), height: Math.round(target.height),
      labels: labels.map(function (l) { return l.textContent.trim(); }).filter(Boolean)
    };
  });
}
