"""The HTML report in a real headless browser (Debian's ``chromium``): the summary, a failure's reproduce line and
the figures are rendered and visible.  Marked ``browser``; skipped where chromium is not installed (CI installs it
when it can: ``apt-get install -y chromium``)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from proofs_check.claim import Claim, Measurement, RunContext, Tolerance
from proofs_check.report import write_report
from proofs_check.runner import run_claims

CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (apt-get install -y chromium)")]
WINDOW = (1280, 1000)

#: Appended to a copy of the page: measures what a reader sees and writes it into the DOM as JSON.
PROBE = """<script>
window.addEventListener('load', () => {
  const vis = (el) => { if (!el) return null; const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return {top: r.top + scrollY, height: r.height, width: r.width, shown: s.display !== 'none' &&
            s.visibility !== 'hidden' && r.width > 0 && r.height > 0, text: el.innerText}; };
  const out = {viewport: innerHeight, summary: vis(document.getElementById('summary')),
    reproduce: vis(document.querySelector('.failure pre.reproduce')),
    figures: [...document.querySelectorAll('.gallery img')].map(img => Object.assign(vis(img),
      {loaded: img.complete && img.naturalWidth > 0}))};
  const pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _figure(ctx: RunContext) -> Measurement:
    from proofs_check.figures import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot(np.arange(10), np.arange(10) ** 2, "o-")
    ax.set_title("toy figure")
    return Measurement(error=0.0, expected=0.0, observed=0.0, compared="toy", figures=[ctx.save_figure(fig, "toy")])


def _wrong(ctx: RunContext) -> Measurement:
    return Measurement(error=0.5, expected=[1.0, 2.0], observed=[1.0, 2.5], compared="closed form vs Monte Carlo")


def _control(ctx: RunContext) -> Measurement:
    return Measurement(error=9.0, expected=0.0, observed=9.0, compared="control")


def _chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           f"--window-size={WINDOW[0]},{WINDOW[1]}", *args],
                          capture_output=True, text=True, timeout=120)


def test_report_in_headless_chromium(tmp_path: Path) -> None:
    common = dict(paper="Toy", reference="Eq. (1)", kind="identity", control=_control,
                  control_description="the printed formula", route="Monte Carlo through the forward pass",
                  tolerance=Tolerance(0.1, "3 standard errors", origin="standard-errors"))
    claims = [Claim(id="toy.figure", statement="a figure", check=_figure, **common),
              Claim(id="toy.failing", statement="a failure", check=_wrong, **common)]
    report = run_claims(claims, out_dir=tmp_path)
    page = write_report(report, tmp_path)["html"]

    shot = tmp_path / "report.png"
    _chromium(f"--screenshot={shot}", page.as_uri())
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank one
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[:2] == (WINDOW[1], WINDOW[0]) and float(np.std(pixels[..., :3])) > 0.05

    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = _chromium("--virtual-time-budget=5000", "--dump-dom", probe.as_uri()).stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    seen = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<")
                      .replace("&gt;", ">"))
    # the summary and the failure's reproduce command are on the first screen, in that order
    assert seen["summary"]["shown"] and seen["summary"]["top"] < 200
    assert "FAIL: 1 of 2 claims did not pass" in seen["summary"]["text"]
    rep = seen["reproduce"]
    assert rep["shown"] and rep["top"] + rep["height"] <= seen["viewport"]
    assert rep["text"].strip() == report.results[1].reproduce  # one unwrapped line, exactly the command
    # the figure is loaded and drawn at a readable size
    assert seen["figures"] and all(f["loaded"] and f["shown"] and f["width"] >= 300 for f in seen["figures"])
