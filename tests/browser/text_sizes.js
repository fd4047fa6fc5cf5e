// The page's horizontal overflow, each visible text's font size (keyed by its place in the
// DOM), and the texts that reach past the right edge of the screen.
() => {
  function place(el) {
    var parts = [];
    for (var node = el; node && node !== document.body; node = node.parentElement) {
      var same = Array.prototype.filter.call(node.parentElement.children, function (c) { return c.tagName === node.tagName; });
      parts.unshift(node.tagName.toLowerCase() + (same.length > 1 ? ":" + (same.indexOf(node) + 1) : ""));
    }
    return parts.join(">");
  }
  // A box that scrolls sideways on its own keeps what it holds reachable (a data table, a chart).
  function scrollsOnItsOwn(el) {
    for (var node = el.parentElement; node && node !== document.body; node = node.parentElement) {
      var x = getComputedStyle(node).overflowX;
      if (x === "auto" || x === "scroll") { return true; }
    }
    return false;
  }
  var sizes = {};
  var outside = [];
  var width = document.documentElement.clientWidth;
  document.body.querySelectorAll("*").forEach(function (el) {
    var own = Array.prototype.some.call(el.childNodes, function (n) { return n.nodeType === 3 && n.textContent.trim(); });
    var box = el.getBoundingClientRect();
    if (!own || box.width <= 1 || box.height <= 1 || el.closest("svg")) { return; }
    sizes[place(el)] = parseFloat(getComputedStyle(el).fontSize);
    if ((box.right > width + 1 || box.left < -1) && !scrollsOnItsOwn(el)) {
      outside.push(place(el) + " " + JSON.stringify(el.textContent.trim().slice(0, 30)) + " " + Math.round(box.left) + ".." + Math.round(box.right));
    }
  });
  return {scrollWidth: document.documentElement.scrollWidth, clientWidth: width, sizes: sizes, outside: outside};
}
