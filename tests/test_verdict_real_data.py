"""The verdict on public results: OPT zero-shot lm-eval files (tests/data/opt_lm_eval, copied from
../shared/data with their SOURCE.md). MMLU subjects sit at chance at every size up to 66B — a
no-emergence control: none may come out `emergent`."""

import warnings
from pathlib import Path

from emergelab.analysis.curves import load_curves
from emergelab.analysis.verdict import verdict
from emergelab.store.importers.api import import_files

DATA = Path(__file__).parent / "data" / "opt_lm_eval"


def test_opt_mmlu_subjects_are_not_emergent(tmp_path):
    import_files(sorted(DATA.glob("opt-*.json")), tmp_path / "opt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        curves = [c for c in load_curves(tmp_path / "opt", scale="params")
                  if c.task.startswith("hendrycksTest") and c.metric == "acc"]
        labels = {c.task: verdict(c, n_boot=0).label for c in curves}
    assert len(labels) >= 50
    assert not [t for t, lab in labels.items() if lab == "emergent"]
    # and most of them are judged, not shrugged off
    assert sum(lab == "inconclusive" for lab in labels.values()) <= 0.1 * len(labels)
