// Every visible control of the page: a key (data-a11y-key, so that the focused one can be named),
// its touch target, the visible labels tied to it, and the colours of its edge and of what is behind it.
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
    var style = getComputedStyle(el);
    // The backgrounds behind the control, nearest first, down to the first opaque one.
    var behind = [];
    for (var node = el.parentElement; node; node = node.parentElement) {
      var fill = getComputedStyle(node).backgroundColor;
      behind.push(fill);
      if (!/rgba\(.*,\s*0(\.\d+)?\)$/.test(fill) && fill !== "transparent") { break; }
    }
    return {
      key: String(i),
      name: el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.name ? "[name=" + el.name + "]" : "") +
        " " + JSON.stringify((el.textContent || el.value || "").trim().slice(0, 30)),
      field: /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName),
      // WCAG 2.5.5 exempts a link inside a sentence.
      inline: el.tagName === "A" && getComputedStyle(el).display === "inline",
      // A text link is known by its text, not by an edge (WCAG 1.4.11 is about components' boundaries).
      link: el.tagName === "A" && !el.classList.contains("button"),
      width: Math.round(target.width), height: Math.round(target.height),
      labels: labels.map(function (l) { return l.textContent.trim(); }).filter(Boolean),
      // What WCAG 1.4.11 compares: the control's edge (its border, or its own fill) and what is behind it.
      check: check,
      border: parseFloat(style.borderTopWidth) > 0 ? style.borderTopColor : null,
      fill: style.backgroundColor,
      behind: behind
    };
  });
}
