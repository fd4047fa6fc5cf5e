// The outbreak picture: common exposures of a set of cases, drawn as SVG (no map), with the
// depth-2 contact graph and the downloads (CSV, GraphML). No inline code: CSP script-src 'self'.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var API = "/api/tracing/v1/exposure-analyses";
  var LEFT = 150, WIDTH = 880, ROW = 26;

  function svgNode(tag, attrs, text) {
    var node = document.createElementNS(NS, tag);
    for (var k in attrs) { if (Object.prototype.hasOwnProperty.call(attrs, k)) { node.setAttribute(k, attrs[k]); } }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function idShort(id) { return String(id).slice(0, 8); }
  function local(iso) { return window.vcTime(iso); }  // the Shanghai clock
  function tell(text, where) {
    var box = document.getElementById(where || "message");
    box.hidden = !text; box.textContent = text;
  }
  function explain(answer) {
    var body = answer.body || {};
    var errs = (body.errors || []).map(function (e) { return e.field + ": " + e.message; });
    return (body.title || "HTTP " + answer.status) + (errs.length ? " — " + errs.join("; ") : (body.detail ? " — " + body.detail : ""));
  }

  // Time across, rows down: one scale for both charts of an analysis.
  function scale(analysis) {
    var lo = Date.parse(analysis.from), hi = Date.parse(analysis.to);
    analysis.timelines.forEach(function (t) {
      t.visits.forEach(function (v) { lo = Math.min(lo, Date.parse(v.checked_in_at)); hi = Math.max(hi, Date.parse(v.ends_at)); });
    });
    var span = Math.max(hi - lo, 60000);
    return { lo: lo, hi: hi, x: function (iso) { return LEFT + (Date.parse(iso) - lo) / span * WIDTH; } };
  }
  function frame(rows, s) {
    var height = rows * ROW + 40;
    var svg = svgNode("svg", { width: LEFT + WIDTH + 20, height: height, role: "img" });
    svg.appendChild(svgNode("line", { x1: LEFT, y1: height - 22, x2: LEFT + WIDTH, y2: height - 22, "class": "axis" }));
    svg.appendChild(svgNode("text", { x: LEFT, y: height - 6 }, window.vcTime(s.lo)));
    svg.appendChild(svgNode("text", { x: LEFT + WIDTH - 150, y: height - 6 }, window.vcTime(s.hi)));
    return svg;
  }
  function bar(svg, s, row, start, end, cls, offset, height, title) {
    var x = s.x(start), w = Math.max(2, s.x(end) - x);
    var rect = svgNode("rect", { x: x, y: 10 + row * ROW + offset, width: w, height: height, "class": cls });
    rect.appendChild(svgNode("title", {}, title));
    svg.appendChild(rect);
  }
  function shared(analysis, person, visit) {
    return analysis.exposures.some(function (e) {
      return e.venue_id === visit.venue_id && e.person_ids.indexOf(person) >= 0 &&
        Date.parse(visit.checked_in_at) >= Date.parse(e.starts_at) && Date.parse(visit.ends_at) <= Date.parse(e.ends_at);
    });
  }

  // Venues down the side: each shared venue-window shaded, the cases' visits inside it as thin bars.
  function drawVenues(analysis, s) {
    var box = document.getElementById("venue-chart");
    box.textContent = "";
    var venues = [];
    analysis.exposures.forEach(function (e) { if (venues.indexOf(e.venue_id) < 0) { venues.push(e.venue_id); } });
    if (!venues.length) { return; }
    var svg = frame(venues.length, s);
    analysis.exposures.forEach(function (e) {
      var row = venues.indexOf(e.venue_id);
      svg.appendChild(svgNode("text", { x: 4, y: 10 + row * ROW + 14 }, e.venue_name || idShort(e.venue_id)));
      bar(svg, s, row, e.starts_at, e.ends_at, "window-shade", 0, ROW - 4, e.case_count + " · " + local(e.starts_at));
    });
    analysis.timelines.forEach(function (t, i) {
      t.visits.forEach(function (v) {
        var row = venues.indexOf(v.venue_id);
        if (row >= 0 && shared(analysis, t.person_id, v)) {
          bar(svg, s, row, v.checked_in_at, v.ends_at, "bar-shared", 2 + (i % 5) * 4, 3, idShort(t.person_id));
        }
      });
    });
    box.appendChild(svg);
  }

  // One row per case: every visit, the shared ones in the case colour.
  function drawCases(analysis, s) {
    var box = document.getElementById("case-chart");
    box.textContent = "";
    var svg = frame(analysis.timelines.length, s);
    analysis.timelines.forEach(function (t, row) {
      svg.appendChild(svgNode("text", { x: 4, y: 10 + row * ROW + 14 }, idShort(t.person_id)));
      t.visits.forEach(function (v) {
        var cls = shared(analysis, t.person_id, v) ? "bar-shared" : "bar-visit";
        bar(svg, s, row, v.checked_in_at, v.ends_at, cls, 4, 12, (v.venue_name || idShort(v.venue_id)) + " · " + local(v.checked_in_at));
      });
    });
    box.appendChild(svg);
  }

  // Cases on the inner ring, depth-1 contacts on the next, depth-2 outside; an arrow-less line a meeting.
  function drawGraph(graph) {
    var box = document.getElementById("outbreak-graph");
    box.textContent = "";
    var size = 620, mid = size / 2, radius = [90, 190, 280], at = {};
    [0, 1, 2].forEach(function (depth) {
      var ring = graph.nodes.filter(function (n) { return n.depth === depth; });
      ring.forEach(function (n, i) {
        var a = 2 * Math.PI * i / Math.max(1, ring.length) + depth * 0.3;
        at[n.person_id] = [mid + radius[depth] * Math.cos(a), mid + radius[depth] * Math.sin(a)];
      });
    });
    var svg = svgNode("svg", { width: size, height: size, role: "img" });
    graph.edges.forEach(function (e) {
      var a = at[e.source], b = at[e.target];
      if (a && b) { svg.appendChild(svgNode("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1], "class": "edge" })); }
    });
    graph.nodes.forEach(function (n) {
      var p = at[n.person_id];
      var dot = svgNode("circle", { cx: p[0], cy: p[1], r: n.depth === 0 ? 9 : 6, "class": n.depth === 0 ? "node-case" : "node-" + n.depth });
      dot.appendChild(svgNode("title", {}, n.person_id));
      svg.appendChild(dot);
    });
    box.appendChild(svg);
  }

  function fillTable(analysis) {
    var rows = document.getElementById("exposure-rows");
    rows.textContent = "";
    analysis.exposures.forEach(function (e, i) {
      rows.appendChild(row([String(i + 1), e.venue_name || idShort(e.venue_id), local(e.starts_at), local(e.ends_at),
        String(e.case_count), e.person_ids.map(idShort).join(" ")]));
    });
    document.getElementById("exposure-count").textContent = String(analysis.exposures.length);
  }

  function picture(analysis, form) {
    var url = API + "/" + analysis.analysis_id;
    tell(analysis.exposures.length ? "" : form.dataset.none);
    document.getElementById("picture").hidden = false;
    document.getElementById("exposures-csv").href = url + ".csv";
    document.getElementById("edges-csv").href = url + "/graph.csv";
    document.getElementById("graphml").href = url + "/graph.graphml";
    var s = scale(analysis);
    fillTable(analysis); drawVenues(analysis, s); drawCases(analysis, s);
    window.vcFetch(url + "/graph", { method: "GET" }).then(function (answer) {
      if (answer.status === 200) { drawGraph(answer.body); } else { tell(explain(answer)); }
    });
  }

  function row(cells) {
    var tr = document.createElement("tr");
    cells.forEach(function (text) { var td = document.createElement("td"); td.textContent = text; tr.appendChild(td); });
    return tr;
  }

  // Venue alerts: the people found, and the second signature or the withdrawal, each confirmed.
  var ALERTS = "/api/tracing/v1/venue-alerts";
  var current = null, pending = null;
  function showAlert(answer) {
    if (answer.status !== 200 && answer.status !== 201) { tell(explain(answer), "alert-message"); return; }
    current = answer.body;
    tell("", "alert-message");
    document.getElementById("alert-view").hidden = false;
    document.getElementById("alert-confirm").hidden = true;
    document.getElementById("alert-state").textContent = current.state;
    document.getElementById("alert-venue").textContent = current.venue_name || current.venue_id;
    document.getElementById("alert-window").textContent = local(current.from) + " → " + local(current.to);
    document.getElementById("alert-id").textContent = "alert_id " + current.alert_id;
    var people = document.getElementById("alert-people");
    people.textContent = "";
    current.people.forEach(function (p) {
      people.appendChild(row([p.masked_name || "", p.person_id, local(p.checked_in_at), local(p.ends_at)]));
    });
    document.getElementById("alert-approve").disabled = current.state !== "pending";
    document.getElementById("alert-withdraw").disabled = current.state === "withdrawn";
  }
  function askFirst(action) {
    pending = action;
    document.getElementById("alert-confirm-count").textContent = String(current.people_count);
    document.getElementById("alert-confirm").hidden = false;
  }
  function localInputs(form, daysBack) {
    var now = new Date();
    form.elements.to.value = window.vcLocalInput(now);
    form.elements.from.value = window.vcLocalInput(new Date(now.getTime() - daysBack * 86400000));
  }
  function wireAlerts() {
    var create = document.getElementById("alert-form");
    localInputs(create, 1);
    create.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = { venue_id: create.elements.venue_id.value.trim(),
        from: window.vcFromLocalInput(create.elements.from.value), to: window.vcFromLocalInput(create.elements.to.value) };
      if (create.elements.dwell_minutes.value) { body.dwell_minutes = Number(create.elements.dwell_minutes.value); }
      if (create.elements.note.value) { body.note = create.elements.note.value; }
      window.vcFetch(ALERTS, { method: "POST", body: body }).then(showAlert);
    });
    var open = document.getElementById("alert-open");
    function openAlert(id) { window.vcFetch(ALERTS + "/" + encodeURIComponent(id), { method: "GET" }).then(showAlert); }
    open.addEventListener("submit", function (event) {
      event.preventDefault();
      openAlert(open.elements.alert_id.value.trim());
    });
    document.getElementById("alert-pending").addEventListener("click", function () {
      window.vcFetch(ALERTS + "?state=pending", { method: "GET" }).then(function (answer) {
        var list = document.getElementById("alert-list");
        list.textContent = "";
        if (answer.status !== 200) { tell(explain(answer), "alert-message"); return; }
        answer.body.alerts.forEach(function (a) {
          var item = document.createElement("li"), button = document.createElement("button");
          button.type = "button";
          button.textContent = (a.venue_name || idShort(a.venue_id)) + " · " + local(a.from) + " · " + a.people_count;
          button.addEventListener("click", function () { openAlert(a.alert_id); });
          item.appendChild(button); list.appendChild(item);
        });
      });
    });
    document.getElementById("alert-approve").addEventListener("click", function () { askFirst("approvals"); });
    document.getElementById("alert-withdraw").addEventListener("click", function () { askFirst("withdrawal"); });
    document.getElementById("alert-confirm-no").addEventListener("click", function () {
      document.getElementById("alert-confirm").hidden = true;
    });
    document.getElementById("alert-confirm-yes").addEventListener("click", function () {
      document.getElementById("alert-confirm").hidden = true;
      window.vcFetch(ALERTS + "/" + current.alert_id + "/" + pending, { method: "POST" }).then(showAlert);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wireAlerts();
    var form = document.getElementById("analysis-form");
    localInputs(form, 7);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = {
        person_ids: form.elements.person_ids.value.split(/[\s,]+/).filter(Boolean),
        from: window.vcFromLocalInput(form.elements.from.value),
        to: window.vcFromLocalInput(form.elements.to.value),
        gap_minutes: Number(form.elements.gap_minutes.value || 0)
      };
      if (form.elements.dwell_minutes.value) { body.dwell_minutes = Number(form.elements.dwell_minutes.value); }
      window.vcFetch(API, { method: "POST", body: body }).then(function (answer) {
        if (answer.status === 201) { picture(answer.body, form); } else { tell(explain(answer)); }
      });
    });
  });
})();
