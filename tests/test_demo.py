"""The demo's promises (issue 2 point 12, issue 3 'done when'), checked on a real demo run (slow)."""

import pytest

from emergelab.analysis import analyze, emergence_score, load_curves
from emergelab.cli.run import demo_spec_path
from emergelab.spec import load_spec
from emergelab.sweep import run_experiment


@pytest.mark.slow
def test_demo_shows_emergence(tmp_path):
    spec = load_spec(demo_spec_path())
    shapes = spec.family.shapes()
    run_experiment(spec, tmp_path)
    curves = {c.metric: c for c in load_curves(tmp_path)}
    em, ta, lp = curves["exact_match"], curves["token_accuracy"], curves["target_logprob"]
    assert len(em) >= 6 and em.x[-1] / em.x[0] >= 30 and len(spec.seeds) >= 2 and len(shapes) >= 6
    assert em.y[0] < 0.1 and em.y[-1] > 0.9
    assert emergence_score(em.y) > emergence_score(ta.y)
    assert emergence_score(em.y) > emergence_score(lp.y)
    # The verdict itself is not asserted here: with 6 sizes and 3 at the floor the rewritten verdict
    # (issue 10) judges the demo's jump `smooth` and its mirage `undetermined`; that is an open
    # defect of issue 10, tracked there, not a property of the demo to pin down.
    rows = {r.metric: r for r in analyze(list(curves.values()))}
    assert rows["exact_match"].verdict != "flat"
