"""The HTML reports (one plan, a sweep), opened in headless Chromium and used like a person would: the
page loads with no console errors and no network requests, every chart renders and holds its data,
hovering a memory-map rectangle shows its tensor, the node table sorts and filters."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import deeploy_tiler as dt
from deeploy_tiler.explore import page as rp
from deeploy_tiler.explore import sweep as sw

from .chromium import chromium, inspect_page, page_requests, run_chromium


def _specs(page: str) -> dict[str, dict[str, object]]:
    """Chart name -> its plotly spec, as embedded in the page."""
    divs = dict(re.findall(r'<div class="dt-chart" id="([^"]+)" data-chart="([^"]+)">', page))
    specs = re.findall(r'<script type="application/json" class="dt-spec" data-for="([^"]+)">(.*?)</script>', page, re.S)
    return {divs[div]: json.loads(text.replace("<\\/", "</")) for div, text in specs}


def _html(result: sw.SweepResult, plans: tuple[dt.Plan, dt.Plan], hw: dt.HwSpec) -> str:
    return rp.html_report(result, plans[0], hw, plan_note="the plan at 2 KiB")


def test_html_report_is_self_contained(result: sw.SweepResult, plans: tuple[dt.Plan, dt.Plan], hw: dt.HwSpec) -> None:
    page = _html(result, plans, hw)
    assert page.startswith("<!DOCTYPE html>") and "Pareto front" in page and "the plan at 2 KiB" in page
    assert "<img" not in page and "<script src" not in page  # plotly.js is inlined, not fetched
    assert re.search(r"Plotly\.newPlot|newPlot", page)
    markup = re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)  # plotly.js names URLs in strings
    assert not re.search(r"""(src|href)=["'](https?:|//|file:)""", markup)
    names = list(_specs(page))
    assert names == ["budget-latency", "ops", "cycles", "memory-L1", "memory-L2"]


def test_plan_report_from_a_saved_plan_is_the_same_page(ml64: tuple[dt.Graph, dt.HwSpec, dt.Plan]) -> None:
    graph, hw, plan = ml64
    again = dt.Plan.from_json(plan.to_json())
    assert rp.plan_report(again, hw, graph) == rp.plan_report(plan, hw, graph)  # built from the plan alone
    without_graph = rp.plan_report(again, hw)
    assert "MACs" in without_graph and "594,944" not in without_graph  # the graph adds MACs, nothing else needs it


def test_sweep_report_in_headless_chromium_looks_drawn(
    tmp_path: Path, result: sw.SweepResult, plans: tuple[dt.Plan, dt.Plan], hw: dt.HwSpec
) -> None:
    exe = chromium()
    page = tmp_path / "report.html"
    page.write_text(_html(result, plans, hw))
    shot = tmp_path / "shot.png"
    run = run_chromium(
        exe,
        tmp_path / "profile-shot",
        "--window-size=1200,2000",
        "--virtual-time-budget=20000",
        f"--screenshot={shot}",
        page.as_uri(),
    )
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] == 2000 and pixels.shape[1] == 1200
    assert pixels[..., :3].std() > 0.05, "the screenshot is blank"
    assert (pixels[..., :3] < 0.9).any(axis=2).mean() > 0.05, "too little is drawn: the charts did not render"


def _reports(request: pytest.FixtureRequest, which: str) -> tuple[str, set[str]]:
    """(the page, the charts it must have) of one of the three issue-16 reports."""
    if which == "microLlama64 plan":
        graph, hw, plan = request.getfixturevalue("ml64")
        return rp.plan_report(plan, hw, graph), {"ops", "cycles", "memory-L1", "memory-L2"}
    if which == "microLlama8 sweep":
        graph, hw, result, plan = request.getfixturevalue("ml8_sweep")
        charts = {"budget-latency", "budget-tokens", "ops", "cycles", "memory-L1", "memory-L2"}
        return rp.sweep_report(result, plan, hw, graph, plan_note="fastest point"), charts
    graph, hw, plan = request.getfixturevalue("mnv2")
    return rp.plan_report(plan, hw, graph), {"ops", "cycles", "engines", "memory-L1", "memory-L2", "memory-WMEM"}


@pytest.mark.parametrize("which", ["microLlama64 plan", "microLlama8 sweep", "miniMobileNetv2 plan"])
def test_report_works_in_headless_chromium(tmp_path: Path, request: pytest.FixtureRequest, which: str) -> None:
    page, charts = _reports(request, which)
    found, urls = inspect_page(page, tmp_path)
    assert found["errors"] == [], found["errors"]
    assert urls == [] and found["resources"] == [], f"the page fetched {urls or found['resources']}"
    assert {c["name"] for c in found["charts"]} == charts
    for c in found["charts"]:
        assert c["drawn"] and c["traces"] > 0, f"{c['name']} did not render"
        assert c["clipped"] == [], f"{c['name']} clips its data: {c['clipped']}"
    hover = found["hover"]
    assert hover["pixels"] >= 8 and hover["expected"] and hover["expected"] in hover["shown"], hover
    table = found["table"]
    assert table["rows"] == len(_specs(page)["cycles"]["data"][0]["x"])  # a row per node, as many as bars
    assert table["sortedDesc"] and table["sortedAsc"] and table["distinct"] > 3
    assert 0 < table["filtered"] < table["rows"] and table["filterWrong"] == 0


def test_the_network_check_sees_a_request_the_page_makes(tmp_path: Path) -> None:
    # The check above must be able to fail: a page that loads one image from a (closed) local port.
    exe = chromium()
    page = tmp_path / "fetching.html"
    page.write_text("<!DOCTYPE html><html><body><img src='http://127.0.0.1:9/x.png'></body></html>")
    netlog = tmp_path / "net.json"
    run = run_chromium(
        exe, tmp_path / "profile", "--virtual-time-budget=2000", f"--log-net-log={netlog}", "--dump-dom", page.as_uri()
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert page_requests(netlog) == ["http://127.0.0.1:9/x.png"]


def test_the_clip_check_in_the_browser_finds_a_clipped_chart(
    tmp_path: Path, mnv2: tuple[dt.Graph, dt.HwSpec, dt.Plan]
) -> None:
    graph, hw, plan = mnv2
    page = rp.plan_report(plan, hw, graph)
    spec = _specs(page)["cycles"]
    text = json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")
    assert text in page
    spec["layout"]["yaxis"]["range"] = [0, 100]  # far below the tallest bar
    page = page.replace(text, json.dumps(spec, separators=(",", ":")).replace("</", "<\\/"))
    found, _ = inspect_page(page, tmp_path)
    cycles = next(c for c in found["charts"] if c["name"] == "cycles")
    assert cycles["drawn"] and any(" y " in c for c in cycles["clipped"]), cycles


def test_sweep_report_over_l2_shows_l3_traffic(l2_sweep: sw.SweepResult, graph: dt.Graph, hw: dt.HwSpec) -> None:
    """An L2 sweep draws latency and L3 traffic against L2; the plan at the smallest L2 states what it
    streams; the smallest-budget card says it streams."""
    streamed = dt.plan(graph, hw, l1=4096, l2=3760)
    page = rp.sweep_report(l2_sweep, streamed, hw, graph)
    specs = _specs(page)
    assert "What more L2 buys" in page and "l2-latency" in specs and "l2-l3" in specs
    assert specs["l2-l3"]["layout"]["yaxis"]["title"]["text"] == "L3 traffic per run (bytes)"
    assert "L3 traffic (streamed)" in page and f"{streamed.l3_bytes:,} B per run" in page
    (m,) = l2_sweep.min_feasible
    assert m.l3_bytes and f"(streaming {m.l3_bytes:,} B per run from L3)" in page
    resident = rp.plan_report(dt.plan(graph, hw, l1=4096, l2=65536), hw, graph)
    assert "L3 traffic (streamed)" not in resident


def test_what_if_lines_state_the_l3_traffic_of_a_streamed_plan(graph: dt.Graph, hw: dt.HwSpec) -> None:
    streamed = dt.plan(graph, hw, l1=4096, l2=3760)
    more = dt.plan(graph, hw, l1=4096, l2=2 * 3760)
    page = rp.plan_report(streamed, hw, graph, what_if=[rp.WhatIf("L2 x2 (7,520 B)", more)])
    assert f"L2 x2 (7,520 B): {more.total_cycles:,} cycles" in page
    assert f"{more.l3_bytes:,} B from L3 per run" in page
