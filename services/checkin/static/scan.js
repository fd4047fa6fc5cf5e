// The poster's check-in page: tick people, confirm, fill the screen with the code's colour.
// A scan that cannot be sent for lack of network is kept with its Idempotency-Key in
// localStorage and sent again when the network is back, so it is recorded exactly once.
(function () {
  "use strict";
  var STORE = "vc_pending_scans";
  var RANK = { green: 0, unknown: 1, yellow: 2, red: 3 };
  // The server replays an Idempotency-Key's answer for 24 hours; an older queued scan is dropped.
  var KEEP_MS = 23 * 3600 * 1000;

  function pending() {
    var list;
    try { list = JSON.parse(localStorage.getItem(STORE) || "[]"); } catch (e) { return []; }
    return list.filter(function (s) { return s && s.key && Date.now() - (s.at || 0) < KEEP_MS; });
  }
  function keep(list) {
    try { localStorage.setItem(STORE, JSON.stringify(list)); } catch (e) { /* private mode: nothing to keep */ }
  }
  function remember(scan) {
    var list = pending().filter(function (s) { return s.key !== scan.key; });
    list.push(scan);
    keep(list);
  }
  function forget(key) { keep(pending().filter(function (s) { return s.key !== key; })); }
  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return Date.now().toString(16) + "-" + Math.random().toString(16).slice(2);
  }
  function clockText(date) { return window.vcClock(date); }  // the Shanghai clock, as staff read it

  document.addEventListener("DOMContentLoaded", function () {
    var section = document.querySelector("[data-scan]");
    if (!section) { return; }
    var form = section.querySelector("[data-scan-form]");
    var error = section.querySelector("[data-error]");
    var queued = section.querySelector("[data-queued]");
    var result = document.querySelector("[data-result]");
    var token = section.dataset.venueToken;
    // The inspector's "temperature normal, quick check-in" link (/c/<token>?temperature_band=normal)
    // carries the band the door measured: it is recorded with the check-in.
    var band = new URLSearchParams(window.location.search).get("temperature_band");
    if (band !== "normal" && band !== "fever") { band = null; }
    var lastPeople = [];
    var retryTimer = null;

    function showError(text) { error.textContent = text; error.hidden = false; window.vcAnnounce(text); }

    function showResult(body) {
      var worst = "green";
      var list = result.querySelector("[data-result-people]");
      list.textContent = "";
      lastPeople = [];
      body.checkins.forEach(function (c) {
        if (RANK[c.colour] > RANK[worst]) { worst = c.colour; }
        lastPeople.push(c.person_id);
        var item = document.createElement("li");
        item.className = "colour-" + c.colour;
        // The colour is never the only signal: its name and its reason are written, green too.
        item.textContent = c.masked_name + " · " + section.dataset["name" + c.colour.charAt(0).toUpperCase() + c.colour.slice(1)] +
          " · " + c.reason_text;
        list.appendChild(item);
      });
      document.body.className = "colour-" + worst;
      var name = section.dataset["name" + worst.charAt(0).toUpperCase() + worst.slice(1)];
      result.querySelector("[data-code-type]").textContent = name;
      var at = new Date(body.checkins[0].checked_in_at);
      result.querySelector("[data-checked-in-at]").textContent = window.vcTime(at);  // Shanghai clock
      var clock = result.querySelector("[data-clock]");
      clock.textContent = clockText(new Date());
      window.setInterval(function () { clock.textContent = clockText(new Date()); }, 1000);
      section.hidden = true;
      result.hidden = false;
      // The screen changed colour: a screen reader says which, and for whom (the live region).
      window.vcAnnounce([name].concat(Array.prototype.map.call(list.children, function (li) { return li.textContent; })).join(". "));
    }

    function send(scan) {
      return window.vcFetch(section.dataset.api, {
        method: "POST", body: scan.body, headers: { "Idempotency-Key": scan.key }
      }).then(function (answer) {
        if (answer.status === 201 || answer.status === 200) {
          forget(scan.key);
          queued.hidden = true;
          showResult(answer.body);
        } else if (answer.status === 503) {
          // The server is up but cannot record yet: keep the key and try again shortly.
          remember(scan);
          var wait = parseInt(answer.response.headers.get("Retry-After") || "2", 10);
          retryLater(wait * 1000);
        } else {
          forget(scan.key);
          window.vcProblem(error, answer.body, answer.status);
        }
      }, function () {
        // No network: keep the scan with its key; the same key is sent when we are back online.
        remember(scan);
        queued.hidden = false;
        window.vcAnnounce(queued.textContent);
      });
    }

    function retryLater(ms) {
      if (retryTimer) { return; }
      retryTimer = window.setTimeout(function () { retryTimer = null; flush(); }, ms);
    }

    function flush() {
      pending().filter(function (s) { return s.body.venue_token === token; }).forEach(send);
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      error.hidden = true;
      var ids = Array.prototype.map.call(form.querySelectorAll("input[name=person_id]:checked"), function (box) { return box.value; });
      if (!ids.length) { showError(section.dataset.pick); return; }
      var now = Date.now();
      // scanned_at goes with every attempt: a retry is stored at the first attempt's time.
      var scan = { key: newKey(), at: now, body: { venue_token: token, person_ids: ids, scanned_at: new Date(now).toISOString() } };
      if (band) { scan.body.temperature_band = band; }
      remember(scan);
      send(scan);
    });

    result.querySelector("[data-checkout]").addEventListener("click", function () {
      window.vcFetch(section.dataset.checkoutApi, {
        method: "POST", body: { venue_token: token, person_ids: lastPeople }
      }).then(function (answer) {
        var done = result.querySelector("[data-checkout-done]");
        done.textContent = answer.ok ? section.dataset.checkedOut : ((answer.body && answer.body.detail) || String(answer.status));
        done.hidden = false;
      });
    });

    window.addEventListener("online", flush);
    if (navigator.onLine !== false) { flush(); }

    // Arriving from a registration begun on this poster (registry.js adds #checkin): the citizen
    // came here to check in, so the scan is made at once; the mark is dropped first, so a reload
    // does not scan again.
    if (window.location.hash === "#checkin") {
      history.replaceState(null, "", window.location.pathname + window.location.search);
      form.requestSubmit();
    }
  });
})();
