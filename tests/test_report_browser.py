"""The report in a real browser (headless Chromium): the summary, every figure and the glossary
render with no JavaScript error, and every transition line sits inside its axis range at the
step the table gives.

A probe script is appended to a copy of the page; after plotly has drawn, it writes what it
found into <body> attributes, which `chromium --dump-dom` hands back. Where plotly puts a shape
is read from plotly's own layout (`_fullLayout`): on a log axis a shape's x is a data value and
the axis range is in log10 units, so the probe converts before comparing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import warnings

import numpy as np
import pytest

from conftest import tiny_spec_dict

PROBE = """<script>window.addEventListener('load',function(){setTimeout(function(){
var plots=[],lines=[];
document.querySelectorAll('.plotly-graph-div').forEach(function(gd,i){
  var fl=gd._fullLayout||{};
  plots.push({drawn:!!gd.querySelector('.main-svg'),traces:(gd.data||[]).length,
              title:(fl.title&&fl.title.text)||''});
  (fl.shapes||[]).forEach(function(s){
    if(s.type!=='line'||s.x0!==s.x1||!s.xref||s.xref.indexOf('paper')===0)return;
    var ax=fl['xaxis'+s.xref.replace('x','').replace(' domain','')];
    var pos=ax.type==='log'?Math.log10(s.x0):s.x0;
    var r=ax.range.slice().sort(function(a,b){return a-b;});
    lines.push({plot:i,x:s.x0,inside:pos>=r[0]&&pos<=r[1]});
  });
});
document.body.setAttribute('data-probe',JSON.stringify({plots:plots,lines:lines,
  errors:window.__emergelabErrors||[]}));
},500);});</script>"""


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def render(page: str, tmp_path) -> tuple[dict, str]:
    """Open `page` (HTML text) in headless Chromium; the probe's findings and the final DOM."""
    browser = _chromium()
    if browser is None:
        if os.environ.get("EMERGELAB_REQUIRE_BROWSER") == "1":
            pytest.fail("EMERGELAB_REQUIRE_BROWSER=1 but no chromium found")
        pytest.skip("no headless Chromium (apt-get install chromium)")
    path = tmp_path / "probed.html"
    path.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=30000", "--dump-dom", path.as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=180).stdout
    found = re.search(r"data-probe=\"([^\"]*)\"", dom)
    assert found is not None, "the probe did not run"
    import html

    return json.loads(html.unescape(found.group(1))), dom


def _check_common(probe: dict, dom: str) -> None:
    assert probe["errors"] == [], probe["errors"]
    assert probe["plots"] and all(p["drawn"] and p["traces"] > 0 for p in probe["plots"]), probe["plots"]
    assert all(line["inside"] for line in probe["lines"]), probe["lines"]
    summary, first_plot = dom.index('id="summary"'), dom.index('class="plotly-graph-div')
    assert summary < first_plot  # the report opens on the summary
    assert 'id="glossary"' in dom and "<dt>point surprise</dt>" in dom


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    from emergelab.report import write_report
    from emergelab.spec import ExperimentSpec
    from emergelab.sweep import run_experiment

    raw = tiny_spec_dict(seeds=[0])
    raw["training"].update(steps=80, checkpoints="log:8", checkpoint_test_size=50)
    folder = tmp_path_factory.mktemp("browser") / "exp"
    run_experiment(ExperimentSpec.model_validate(raw), folder)
    write_report(folder)
    return folder


def test_experiment_report_renders(experiment, tmp_path):
    probe, dom = render((experiment / "report.html").read_text(), tmp_path)
    _check_common(probe, dom)
    assert 'id="training"' in dom and 'id="failures"' in dom
    # each dashed line stands at the transition step the table lists for its model
    table = re.search(r"<th>transition step</th>.*?<tbody>(.*?)</tbody>", dom, re.S).group(1)
    steps = [float(s.replace(",", "")) for s in re.findall(r"<td>([\d,]+)</td></tr>", table)]
    training = [i for i, p in enumerate(probe["plots"]) if "training dynamics" in p["title"]]
    drawn = sorted({round(line["x"]) for line in probe["lines"] if line["plot"] in training})
    assert training and drawn == sorted({round(s) for s in steps})


def test_summary_and_mirage_figure_render(tmp_path):
    """A page from a simulated task whose jump is a known metric artifact (tests/test_report.py):
    the summary, the mirage figure with its routes, a training figure with known transitions."""
    from emergelab.report.analysis_section import mirage_section_html
    from emergelab.report.evidence import gather
    from emergelab.report.glossary import glossary_html
    from emergelab.report.html import Section, _fig, page_html
    from emergelab.report.style import size_colors
    from emergelab.report.summary import summary_html
    from emergelab.report.training import Series, training_figure
    from test_report import _story_curves

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evidence = gather(_story_curves(), n_boot=100)
    steps = np.array([1, 3, 10, 30, 100, 300, 1000])
    series = [Series("t", m, "exact_match", steps, np.linspace(0, 1, len(steps))) for m in ("w8", "w12")]
    training = _fig(training_figure(series, "t: training dynamics", {"w8": 705.0, "w12": 40.0},
                                    size_colors(["w8", "w12"])))
    sections = [Section("summary", "Summary", summary_html(evidence)),
                Section("mirage", "Mirage test", mirage_section_html(evidence)),
                Section("training", "Training dynamics", training),
                Section("glossary", "Glossary", glossary_html())]
    probe, dom = render(page_html("story", "simulated", sections, [ev.task for ev in evidence]), tmp_path)
    _check_common(probe, dom)
    mirage = [p for p in probe["plots"] if "mirage test" in p["title"]]
    assert {p["title"].split(":")[0] for p in mirage} == {"artifact", "genuine"}
    assert all(p["traces"] >= 3 for p in mirage)  # observed points, a route's band and its prediction
    last = len(probe["plots"]) - 1
    assert sorted(line["x"] for line in probe["lines"] if line["plot"] == last) == pytest.approx([40.0, 705.0])
