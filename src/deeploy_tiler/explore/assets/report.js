// deeploy_tiler report: draws the charts (plotly.js, inlined above) from their JSON specs, and makes
// the tables sortable (click a header) and filterable (every word typed must appear in the row).
(function () {
  "use strict";
  function specs() {
    return Array.prototype.slice.call(document.querySelectorAll("script.dt-spec"));
  }
  function draw() {
    var jobs = specs().map(function (s) {
      var div = document.getElementById(s.getAttribute("data-for"));
      var spec = JSON.parse(s.textContent);
      var config = {responsive: true, displaylogo: false, scrollZoom: false};
      return Plotly.newPlot(div, spec.data, spec.layout, config);
    });
    Promise.all(jobs).then(function () {
      document.body.setAttribute("data-charts-drawn", String(jobs.length));
    });
  }
  function cellValue(row, k) {
    var c = row.cells[k];
    var v = c.getAttribute("data-v");
    return v === null ? c.textContent.trim().toLowerCase() : parseFloat(v);
  }
  function sortBy(table, k, th) {
    var body = table.tBodies[0];
    var dir = th.getAttribute("data-dir") === "desc" ? "asc" : "desc";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("data-dir"); });
    th.setAttribute("data-dir", dir);
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, k), y = cellValue(b, k);
      var c = x < y ? -1 : x > y ? 1 : 0;
      return dir === "asc" ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  function filter(table, text) {
    var words = text.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
      var t = r.textContent.toLowerCase() + " " + (r.getAttribute("title") || "").toLowerCase();
      var ok = words.every(function (w) { return t.indexOf(w) >= 0; });
      r.style.display = ok ? "" : "none";
      if (ok) { shown += 1; }
    });
    var count = document.getElementById(table.id + "-count");
    if (count) { count.textContent = shown + " of " + table.tBodies[0].rows.length + " rows"; }
  }
  function tables() {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, k) {
        th.addEventListener("click", function () { sortBy(table, k, th); });
      });
      var box = document.getElementById(table.id + "-filter");
      if (box) { box.addEventListener("input", function () { filter(table, box.value); }); }
    });
  }
  window.addEventListener("DOMContentLoaded", function () { tables(); draw(); });
})();
