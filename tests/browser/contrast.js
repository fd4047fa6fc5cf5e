// The contrast of every visible text on the page, computed from the computed styles alone
// (WCAG 2.1 relative luminance), as an oracle independent of axe-core.
() => {
  function rgba(text) {
    var m = text.match(/rgba?\(([^)]+)\)/);
    if (!m) { return [0, 0, 0, 0]; }
    var p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  }
  // Paint `top` (with its alpha) over an opaque `under`.
  function over(top, under) {
    var a = top[3];
    return [0, 1, 2].map(function (i) { return top[i] * a + under[i] * (1 - a); }).concat([1]);
  }
  function background(el) {
    var layers = [];
    for (var node = el; node && node.nodeType === 1; node = node.parentElement) {
      var colour = rgba(getComputedStyle(node).backgroundColor);
      if (colour[3] > 0) { layers.push(colour); }
      if (colour[3] >= 1) { break; }
    }
    var result = [255, 255, 255, 1]; // the canvas behind everything
    for (var i = layers.length - 1; i >= 0; i -= 1) { result = over(layers[i], result); }
    return result;
  }
  function opacity(el) {
    var value = 1;
    for (var node = el; node && node.nodeType === 1; node = node.parentElement) {
      value *= Number(getComputedStyle(node).opacity);
    }
    return value;
  }
  function luminance(c) {
    var v = [0, 1, 2].map(function (i) {
      var s = c[i] / 255;
      return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  }
  function hex(c) {
    return "#" + [0, 1, 2].map(function (i) { return Math.round(c[i]).toString(16).padStart(2, "0"); }).join("");
  }
  var found = [];
  document.body.querySelectorAll("*").forEach(function (el) {
    var own = Array.prototype.filter.call(el.childNodes, function (n) {
      return n.nodeType === 3 && n.textContent.trim();
    }).map(function (n) { return n.textContent.trim(); }).join(" ");
    var box = el.getBoundingClientRect();
    // Not painted: display none, hidden, or the 1-pixel live region kept for screen readers.
    if (!own || box.width <= 1 || box.height <= 1 || getComputedStyle(el).visibility === "hidden") { return; }
    var style = getComputedStyle(el);
    var back = background(el);
    var fore = rgba(style.color);
    fore[3] *= opacity(el);
    var shown = over(fore, back);
    var l1 = luminance(shown), l2 = luminance(back);
    var ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    var px = parseFloat(style.fontSize);
    var large = px >= 24 || (px >= 18.66 && Number(style.fontWeight) >= 700);
    found.push({
      text: own.slice(0, 40), ratio: Math.floor(ratio * 100) / 100, needed: large ? 3 : 4.5,
      colour: hex(shown), background: hex(back), large: large
    });
  });
  return found;
}
