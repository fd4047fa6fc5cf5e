// The page's horizontal overflow, each visible text's font size (keyed by its place in the
// DOM), the texts that reach past the right edge of the screen, and words split over two lines.
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
  // A word of Latin letters or digits split across two lines ("Gree|n"); a hyphen is a fair place
  // to break ("health-|code", "2VC7X-|1SHEM"), and longer runs are identifiers that may wrap.
  var WORD = /[A-Za-z0-9][A-Za-z0-9:./]{0,10}[A-Za-z0-9]/g;
  function brokenWords(el) {
    var found = [];
    Array.prototype.forEach.call(el.childNodes, function (n) {
      if (n.nodeType !== 3) { return; }
      var match;
      WORD.lastIndex = 0;
      while ((match = WORD.exec(n.textContent)) !== null) {
        if (/[A-Za-z0-9]/.test(n.textContent.charAt(WORD.lastIndex))) { continue; } // part of a longer run
        var range = document.createRange();
        range.setStart(n, match.index);
        range.setEnd(n, match.index + match[0].length);
        var tops = {};
        Array.prototype.forEach.call(range.getClientRects(), function (r) { if (r.width > 0) { tops[Math.round(r.top)] = 1; } });
        if (Object.keys(tops).length > 1) { found.push(match[0]); }
      }
    });
    return found;
  }
  var broken = [];
  var sizes = {};
  var outside = [];
  var width = document.documentElement.clientWidth;
  document.body.querySelectorAll("*").forEach(function (el) {
    var own = Array.prototype.some.call(el.childNodes, function (n) { return n.nodeType === 3 && n.textContent.trim(); });
    var box = el.getBoundingClientRect();
    if (!own || box.width <= 1 || box.height <= 1 || el.closest("svg")) { return; }
    sizes[place(el)] = parseFloat(getComputedStyle(el).fontSize);
    brokenWords(el).forEach(function (word) { broken.push(place(el) + " " + JSON.stringify(word)); });
    if ((box.right > width + 1 || box.left < -1) && !scrollsOnItsOwn(el)) {
      outside.push(place(el) + " " + JSON.stringify(el.textContent.trim().slice(0, 30)) + " " + Math.round(box.left) + ".." + Math.round(box.right));
    }
  });
  return {scrollWidth: document.documentElement.scrollWidth, clientWidth: width, sizes: sizes, outside: outside, broken: broken};
}
