// The tracing console: runs a contact query, draws the results, exports and notifies (with confirmation).
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var API = "/api/tracing/v1";
  var current = null;

  function el(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function short(id) { return String(id).slice(0, 8); }
  function when(iso) { return window.vcTime(iso); }  // the Shanghai clock
  function say(text) {
    var box = document.getElementById("message");
    box.textContent = text; box.hidden = !text;
  }
  function problem(answer) {
    var body = answer.body || {};
    var fields = (body.errors || []).map(function (e) { return e.field + ": " + e.message; }).join("; ");
    return (body.title || ("HTTP " + answer.status)) + (fields ? " — " + fields : body.detail ? " — " + body.detail : "");
  }
  function cell(row, text) { var td = document.createElement("td"); td.textContent = text; row.appendChild(td); }

  function drawTables(result) {
    var cases = document.getElementById("case-rows");
    cases.textContent = "";
    result.case_visits.forEach(function (v) {
      var tr = document.createElement("tr");
      cell(tr, v.venue_name || short(v.venue_id)); cell(tr, when(v.checked_in_at)); cell(tr, when(v.ends_at));
      cases.appendChild(tr);
    });
    var rows = document.getElementById("contact-rows");
    rows.textContent = "";
    result.contacts.forEach(function (c) {
      var tr = document.createElement("tr");
      cell(tr, c.person_id); cell(tr, String(c.depth)); cell(tr, c.venue_name || short(c.venue_id));
      cell(tr, when(c.contact_checked_in_at)); cell(tr, when(c.case_checked_in_at));
      cell(tr, Number(c.overlap_minutes).toFixed(0));
      rows.appendChild(tr);
    });
    document.getElementById("contact-count").textContent = String(result.contacts.length);
    if (!result.contacts.length) { say(document.getElementById("query-form").dataset.none); }
  }

  // Venues down the side, time across: the case's visits, and each contact's overlap with them.
  function drawTimeline(result) {
    var box = document.getElementById("timeline");
    box.textContent = "";
    var venues = [];
    function lane(id, name) {
      for (var i = 0; i < venues.length; i++) { if (venues[i].id === id) { return i; } }
      venues.push({ id: id, name: name || short(id) }); return venues.length - 1;
    }
    var bars = [];
    result.case_visits.forEach(function (v) {
      bars.push({ lane: lane(v.venue_id, v.venue_name), start: Date.parse(v.checked_in_at), end: Date.parse(v.ends_at), kind: "bar-case", label: "" });
    });
    result.contacts.forEach(function (c) {
      var start = Math.max(Date.parse(c.contact_checked_in_at), Date.parse(c.case_checked_in_at));
      bars.push({ lane: lane(c.venue_id, c.venue_name), start: start, end: start + c.overlap_minutes * 60000,
        kind: c.depth === 2 ? "bar-second" : "bar-contact", label: short(c.person_id) });
    });
    if (!bars.length) { return; }
    var lo = Math.min.apply(null, bars.map(function (b) { return b.start; }));
    var hi = Math.max.apply(null, bars.map(function (b) { return b.end; }));
    var left = 140, width = 900, laneHeight = 28, span = Math.max(hi - lo, 60000);
    var svg = el("svg", { width: left + width + 20, height: venues.length * laneHeight + 40, role: "img" });
    venues.forEach(function (v, i) { svg.appendChild(el("text", { x: 4, y: 20 + i * laneHeight + 14 }, v.name)); });
    var stack = {};
    bars.forEach(function (b) {
      var x = left + (b.start - lo) / span * width;
      var w = Math.max(2, (b.end - b.start) / span * width);
      var offset = b.kind === "bar-case" ? 0 : 8 + ((stack[b.lane] = (stack[b.lane] || 0) + 1) % 3) * 5;
      var rect = el("rect", { x: x, y: 20 + b.lane * laneHeight + offset, width: w, height: b.kind === "bar-case" ? 8 : 4, "class": b.kind });
      rect.appendChild(el("title", {}, (b.label ? b.label + " " : "") + window.vcTime(b.start)));
      svg.appendChild(rect);
    });
    svg.appendChild(el("text", { x: left, y: venues.length * laneHeight + 35 }, window.vcTime(lo)));
    svg.appendChild(el("text", { x: left + width - 150, y: venues.length * laneHeight + 35 }, window.vcTime(hi)));
    box.appendChild(svg);
  }

  // The case in the middle, depth-1 contacts on a ring, depth-2 contacts outside near whom they met.
  function drawGraph(result) {
    var block = document.getElementById("graph-block");
    var box = document.getElementById("graph");
    box.textContent = "";
    block.hidden = result.depth !== 2;
    if (result.depth !== 2) { return; }
    var size = 520, mid = size / 2, where = {};
    var svg = el("svg", { width: size, height: size, role: "img" });
    where[result.person_id] = [mid, mid];
    var first = result.contacts.filter(function (c) { return c.depth === 1; });
    var second = result.contacts.filter(function (c) { return c.depth === 2; });
    first.forEach(function (c, i) {
      var a = 2 * Math.PI * i / Math.max(1, first.length);
      where[c.person_id] = [mid + 130 * Math.cos(a), mid + 130 * Math.sin(a)];
    });
    second.forEach(function (c, i) {
      var a = 2 * Math.PI * i / Math.max(1, second.length);
      where[c.person_id] = [mid + 230 * Math.cos(a), mid + 230 * Math.sin(a)];
    });
    result.contacts.forEach(function (c) {
      var from = where[c.via_person_id] || where[result.person_id], to = where[c.person_id];
      svg.appendChild(el("line", { x1: from[0], y1: from[1], x2: to[0], y2: to[1], "class": "edge" }));
    });
    function node(id, kind) {
      var p = where[id];
      var circle = el("circle", { cx: p[0], cy: p[1], r: kind === "node-case" ? 9 : 6, "class": kind });
      circle.appendChild(el("title", {}, id));
      svg.appendChild(circle);
    }
    node(result.person_id, "node-case");
    first.forEach(function (c) { node(c.person_id, "node-1"); });
    second.forEach(function (c) { node(c.person_id, "node-2"); });
    box.appendChild(svg);
  }

  function show(result) {
    current = result;
    say("");
    document.getElementById("results").hidden = false;
    document.getElementById("csv-link").href = API + "/contact-queries/" + result.query_id + ".csv";
    document.getElementById("confirm-box").hidden = true;
    drawTables(result); drawTimeline(result); drawGraph(result);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("query-form");
    var lookup = document.getElementById("lookup-form");
    lookup.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = { id_kind: lookup.elements.id_kind.value, id_number: lookup.elements.id_number.value.trim() };
      window.vcFetch(API + "/person-lookups", { method: "POST", body: body }).then(function (answer) {
        var found = document.getElementById("found");
        if (answer.status === 200) {
          form.elements.person_id.value = answer.body.person_id;
          found.textContent = answer.body.masked_name + " " + answer.body.masked_id;
        } else {
          found.textContent = problem(answer);
        }
        lookup.elements.id_number.value = "";
      });
    });
    var now = new Date();
    form.elements.to.value = window.vcLocalInput(now);
    form.elements.from.value = window.vcLocalInput(new Date(now.getTime() - 3 * 86400000));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = {
        person_id: form.elements.person_id.value.trim(),
        from: window.vcFromLocalInput(form.elements.from.value),
        to: window.vcFromLocalInput(form.elements.to.value),
        min_overlap_minutes: Number(form.elements.min_overlap_minutes.value || 1),
        depth: Number(form.elements.depth.value)
      };
      if (form.elements.dwell_minutes.value) { body.dwell_minutes = Number(form.elements.dwell_minutes.value); }
      window.vcFetch(API + "/contact-queries", { method: "POST", body: body }).then(function (answer) {
        // A refused field is marked and described beside its input (venuecode.js).
        window.vcFieldErrors(form, answer.status === 201 ? [] : (answer.body || {}).errors);
        if (answer.status === 201) { show(answer.body); } else { say(problem(answer)); }
      });
    });
    var notify = document.getElementById("notify-form");
    var confirmBox = document.getElementById("confirm-box");
    notify.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!current) { return; }
      document.getElementById("confirm-count").textContent = String(current.contacts.length);
      confirmBox.hidden = false;
    });
    document.getElementById("confirm-cancel").addEventListener("click", function () { confirmBox.hidden = true; });
    document.getElementById("confirm-send").addEventListener("click", function () {
      confirmBox.hidden = true;
      var body = { colour: notify.elements.colour.value, reason: notify.elements.reason.value };
      window.vcFetch(API + "/contact-queries/" + current.query_id + "/notifications", { method: "POST", body: body })
        .then(function (answer) {
          say(answer.status === 202 ? form.dataset.sent + ": " + answer.body.notified : problem(answer));
        });
    });
  });
})();
