"""Headless Chromium for the page tests: the executable (skip locally, fail under CI when missing), a run
with a fresh profile and no background traffic, and `inspect_page`: load a report with a probe that
records console errors, then checks it the way a person would use it (every chart drawn, no chart
clipping its data, hovering a memory-map rectangle names its tensor, the node table sorts and filters)
and writes what it found into the DOM, which `--dump-dom` hands back. The network log of the same run
lists every request the page made."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        msg = "headless Chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return exe


def run_chromium(exe: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-extensions",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run([exe, *flags, *args], capture_output=True, text=True, timeout=120, check=False)


# Runs first in <head>: every error the page raises or logs is kept.
PROBE_HEAD = """<script>
window.__dtErrors = [];
window.addEventListener('error', function (e) { window.__dtErrors.push('error: ' + e.message); });
window.addEventListener('unhandledrejection', function (e) { window.__dtErrors.push('rejection: ' + e.reason); });
(function () {
  var original = console.error;
  console.error = function () {
    window.__dtErrors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    return original.apply(console, arguments);
  };
})();
</script>"""

# Runs after the charts are drawn; the result goes into <pre id="dt-probe"> as JSON.
PROBE_BODY = """<script>
(function () {
  function inRange(ax, lo, hi) {
    var a = ax.r2c(ax.range[0]), b = ax.r2c(ax.range[1]);
    var min = Math.min(a, b), max = Math.max(a, b), tol = 1e-9 * Math.max(1, Math.abs(max - min));
    return lo >= min - tol && hi <= max + tol;
  }
  function extents(gd) {
    // Data extents per trace from plotly's own calcdata (stacked bars, bases and widths included).
    var out = [];
    gd.calcdata.forEach(function (cd) {
      var t = cd[0].trace;
      if (t.visible !== true) { return; }
      var xa = gd._fullLayout[(t.xaxis || 'x').replace('x', 'xaxis')];
      var ya = gd._fullLayout[(t.yaxis || 'y').replace('y', 'yaxis')];
      var xs = [], ys = [];
      cd.forEach(function (d) {
        if (t.type === 'bar') {
          if (![d.p0, d.p1, d.s0, d.s1].every(isFinite)) { return; }
          xs.push(d.p0, d.p1);  // the bar's left and right edges, after widths and offsets
          ys.push(d.s0, d.s1);  // its bottom and top, after bases and stacking
        } else {
          if (!isFinite(d.x) || !isFinite(d.y)) { return; }
          xs.push(d.x); ys.push(d.y);
        }
      });
      if (!xs.length) { return; }
      out.push({name: t.name, xa: xa, ya: ya, x: [Math.min.apply(null, xs), Math.max.apply(null, xs)],
                y: [Math.min.apply(null, ys), Math.max.apply(null, ys)]});
    });
    return out;
  }
  function hoverRect(gd) {
    // The activation rectangle that stands tallest on screen: zoom onto it (as a person drags a box),
    // move the mouse to its middle, read the hover label.
    var best = null, L = gd._fullLayout;
    gd.data.forEach(function (t, i) {
      if (t.type !== 'bar' || !/^(activation|input|output)/.test(t.name)) { return; }
      t.y.forEach(function (h, j) {
        var px = Math.abs(L.yaxis.c2p(t.base[j] + h) - L.yaxis.c2p(t.base[j]));
        if (!best || px > best.px) { best = {i: i, j: j, px: px}; }
      });
    });
    if (!best) { return Promise.resolve({skipped: true}); }
    var t = gd.data[best.i], j = best.j;
    var expected = /<b>(.*?)<\\/b>/.exec(t.hovertext[j])[1]
      .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    var zoom = {'xaxis.range': [t.x[j] - t.width[j], t.x[j] + t.width[j]],
                'yaxis.range': [t.base[j] - t.y[j], t.base[j] + 2 * t.y[j]]};
    return Plotly.relayout(gd, zoom).then(function () {
      var h = Math.abs(L.yaxis.c2p(t.base[j] + t.y[j]) - L.yaxis.c2p(t.base[j]));
      var drag = gd.querySelector('.nsewdrag');
      var box = drag.getBoundingClientRect();
      var x = box.left + L.xaxis.c2p(t.x[j]);
      var y = box.top + L.yaxis.c2p(t.base[j] + t.y[j] / 2);
      var w = Math.abs(L.xaxis.c2p(t.x[j] + t.width[j] / 2) - L.xaxis.c2p(t.x[j] - t.width[j] / 2));
      drag.dispatchEvent(new MouseEvent('mousemove', {clientX: x, clientY: y, bubbles: true, view: window}));
      var label = gd.querySelector('.hoverlayer');
      return {expected: expected, shown: label ? label.textContent : '', pixels: Math.min(w, h)};
    });
  }
  function tableChecks() {
    var table = document.getElementById('nodes');
    if (!table) { return {skipped: true}; }
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var k = heads.findIndex(function (h) { return h.textContent === 'cycles'; });
    function column() {
      return Array.prototype.map.call(table.tBodies[0].rows, function (r) {
        return parseFloat(r.cells[k].getAttribute('data-v'));
      });
    }
    function sorted(v, dir) {
      for (var i = 1; i < v.length; i++) { if (dir * (v[i] - v[i - 1]) < 0) { return false; } }
      return true;
    }
    heads[k].click();
    var desc = column();
    heads[k].click();
    var asc = column();
    var box = document.getElementById('nodes-filter');
    var op = heads.findIndex(function (h) { return h.textContent === 'op'; });
    var word = table.tBodies[0].rows[0].cells[op].textContent;  // the op of the first row, e.g. Conv
    box.value = word;
    box.dispatchEvent(new Event('input'));
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var visible = rows.filter(function (r) { return r.style.display !== 'none'; });
    var wrong = visible.filter(function (r) {
      return (r.textContent + r.title).toLowerCase().indexOf(word.toLowerCase()) < 0;
    }).length;
    box.value = '';
    box.dispatchEvent(new Event('input'));
    return {rows: rows.length, sortedDesc: sorted(desc, -1), sortedAsc: sorted(asc, 1), distinct: new Set(desc).size,
            filtered: visible.length, filterWrong: wrong, filter: word};
  }
  function run() {
    var charts = Array.prototype.slice.call(document.querySelectorAll('.dt-chart'));
    var report = {charts: [], errors: window.__dtErrors, hover: null, table: null};
    var l2 = null;
    charts.forEach(function (gd) {
      var c = {name: gd.getAttribute('data-chart'), drawn: !!(gd._fullLayout && gd.querySelector('.main-svg')),
               traces: gd.querySelectorAll('.trace').length, clipped: []};
      if (c.drawn) {
        extents(gd).forEach(function (e) {
          if (!inRange(e.xa, e.x[0], e.x[1])) { c.clipped.push(e.name + ' x ' + e.x + ' outside ' + e.xa.range); }
          if (!inRange(e.ya, e.y[0], e.y[1])) { c.clipped.push(e.name + ' y ' + e.y + ' outside ' + e.ya.range); }
        });
        if (/^memory-L2/.test(c.name) && !l2) { l2 = gd; }
      }
      report.charts.push(c);
    });
    report.table = tableChecks();
    report.resources = performance.getEntriesByType('resource').map(function (r) { return r.name; })
      .filter(function (u) { return !/^data:/.test(u); });
    (l2 ? hoverRect(l2) : Promise.resolve(null)).then(function (hover) {
      report.hover = hover;
    }, function (err) {
      report.hover = {error: String(err)};
    }).then(function () {
      var pre = document.createElement('pre');
      pre.id = 'dt-probe';
      pre.textContent = JSON.stringify(report);
      document.body.appendChild(pre);
    });
  }
  function wait() {
    setTimeout(document.body.getAttribute('data-charts-drawn') !== null ? run : wait, 50);
  }
  window.addEventListener('load', wait);
})();
</script>"""


def inspect_page(page: str, tmp_path: Path) -> tuple[dict[str, Any], list[str]]:
    """Load the page (probes added) in headless Chromium: (the probe's findings, every URL the network log
    saw requested other than the page's own file)."""
    exe = chromium()
    path = tmp_path / "report.html"
    path.write_text(page.replace("<head>", "<head>" + PROBE_HEAD, 1).replace("</body>", PROBE_BODY + "</body>", 1))
    netlog = tmp_path / "net.json"
    run = run_chromium(
        exe,
        tmp_path / "profile",
        "--window-size=1400,1000",
        "--virtual-time-budget=30000",
        f"--log-net-log={netlog}",
        "--dump-dom",
        path.as_uri(),
    )
    assert run.returncode == 0, run.stderr[-2000:]
    found = re.search(r'<pre id="dt-probe">(.*?)</pre>', run.stdout, re.S)
    assert found, f"the probe did not finish; DOM ends: {run.stdout[-500:]!r}"
    import html

    report = json.loads(html.unescape(found.group(1)))
    return report, page_requests(netlog)


def page_requests(netlog: Path) -> list[str]:
    """URLs the page asked for, from a Chromium network log: requests with an initiator (a document).
    The browser's own background calls (update checks, clock) have none ("not an origin")."""
    text = netlog.read_text(errors="replace")
    try:
        doc = json.loads(text)
    except ValueError:  # the log of a browser that did not shut down cleanly lacks its closing brackets
        doc = json.loads(text.rstrip().rstrip(",") + "]}")
    start = doc["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = set()
    for event in doc["events"]:
        params = event.get("params") or {}
        if event["type"] != start or "url" not in params:
            continue
        if params.get("initiator", "not an origin") != "not an origin" and not params["url"].startswith("data:"):
            urls.add(params["url"])
    return sorted(urls)
