"""The self-contained HTML page of a sweep, rendered in headless Chromium."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import deeploy_tiler as dt
from deeploy_tiler.explore import page as rp
from deeploy_tiler.explore import sweep as sw

from .chromium import chromium, run_chromium

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _html(result: sw.SweepResult, plans: tuple[dt.Plan, dt.Plan], hw: dt.HwSpec) -> str:
    return rp.html_report(result, plans[0], hw, plan_note="the plan at 2 KiB")


def test_html_report_is_self_contained(result: sw.SweepResult, plans: tuple[dt.Plan, dt.Plan], hw: dt.HwSpec) -> None:
    page = _html(result, plans, hw)
    assert page.startswith("<!DOCTYPE html>") and "Pareto front" in page and "the plan at 2 KiB" in page
    sources = re.findall(r'<img[^>]* src="([^"]+)"', page)
    assert len(sources) == 3  # latency, breakdown, memory map
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG_MAGIC)
    assert not re.search(r'(src|href)="(https?:|//|file:)', page)


# --- the page in a real browser ------------------------------------------------------------------------------

_CHECK_SCRIPT = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images', ok + '/' + imgs.length);
});
</script></body>"""


def test_html_report_renders_in_headless_chromium(
    tmp_path: Path, result: sw.SweepResult, plans: tuple[dt.Plan, dt.Plan], hw: dt.HwSpec
) -> None:
    exe = chromium()
    page = tmp_path / "report.html"
    page.write_text(_html(result, plans, hw).replace("</body>", _CHECK_SCRIPT))
    dom = run_chromium(exe, tmp_path / "profile-dom", "--virtual-time-budget=5000", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    loaded = re.search(r'data-images="(\d+)/(\d+)"', dom.stdout)
    assert loaded, f"the check script did not run; DOM starts: {dom.stdout[:300]!r}"
    assert loaded.group(1) == loaded.group(2) == "3", "every <img> must decode (naturalWidth > 0)"

    shot = tmp_path / "shot.png"
    run = run_chromium(exe, tmp_path / "profile-shot", "--window-size=1200,2000", f"--screenshot={shot}", page.as_uri())
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] == 2000 and pixels.shape[1] == 1200
    assert pixels[..., :3].std() > 0.05, "the screenshot is blank"
