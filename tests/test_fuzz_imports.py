"""Fuzzing `emergelab import` with damaged result files (issue 12 §6): every one of at least 1,000
files — the real files in tests/data (a long CSV table, sampling counts as CSV and JSONL,
lm-eval v0.3 and v0.4 results JSON, a v0.4 samples JSONL) damaged the way a bad tool or a full
disk damages them: NaN/inf/strings in numeric fields, keys dropped, added or duplicated, wrong
nesting, rows dropped or ragged, truncated, binary junk — ends in success or in exit 2 with one
line on stderr and no experiment folder; never a traceback.

The hypothesis profile is fixed (derandomized, no example database): every CI run sees the same files.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest
import typer.main
import typer.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from emergelab.cli import app
from emergelab.store import DB_NAME
from emergelab.store.importers import REGISTRY
from fuzz_mutations import damage_bytes, mutate_csv_text, mutate_json_text, mutate_jsonl_text, rarely

DATA = Path(__file__).parent / "data"
# seed files, with the folder they sit in (lm-eval names the model by its output folder)
SEEDS = [
    "import/long.csv",
    "import/counts.csv",
    "import/counts.jsonl",
    "import/EleutherAI__pythia-160m/results_2024-06-12T10-15-30.123456.json",
    "import/EleutherAI__pythia-160m/samples_arc_easy_2024-06-12T10-15-30.123456.jsonl",
    "import/EleutherAI__pythia-160m/samples_gsm8k_2024-06-12T10-15-30.123456.jsonl",
    "opt_lm_eval/opt-1.3b.json",
    "pythia_evals/pythia-70m/zero-shot/70m_step13000.json",
]
MUTATE = {".csv": mutate_csv_text, ".json": mutate_json_text, ".jsonl": mutate_jsonl_text}
runner = CliRunner()


def fuzz_settings(n: int) -> settings:
    return settings(max_examples=n, derandomize=True, database=None, deadline=None, print_blob=True,
                    suppress_health_check=list(HealthCheck))


def damaged_file(data: st.DataObject, folder: Path) -> Path:
    """A seed file, damaged as text of its own format and sometimes as bytes, at the seed's
    relative path under `folder` (sometimes under a wrong suffix)."""
    seed = data.draw(st.sampled_from(SEEDS))
    text = (DATA / seed).read_text()
    text = MUTATE[Path(seed).suffix](data, text)
    path = folder / seed
    if rarely(data, 20):
        path = path.with_suffix(data.draw(st.sampled_from([".csv", ".json", ".jsonl", ".tsv", ".parquet"])))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(damage_bytes(data, text.encode(), rate=8))
    return path


def extra_options(data: st.DataObject) -> list[str]:
    """Sometimes a forced format, a size flag (good or bad), a family or tokens per step."""
    options: list[str] = []
    if rarely(data, 4):
        options += ["--input-format", data.draw(st.sampled_from(["auto", *REGISTRY]))]
    if rarely(data, 5):
        options += ["--params", data.draw(st.sampled_from(["coder-350m=350m", "toy-1m=1e6", "x=abc", "=", "a=-1",
                                                           "pythia-160m=nan", "opt-1.3b=0"]))]
    if rarely(data, 8):
        options += ["--tokens-per-step", data.draw(st.sampled_from(["2097152", "0", "-1", "nan", "inf"]))]
    if rarely(data, 8):
        options += ["--family", data.draw(st.sampled_from(["pythia", "", "x/y"]))]
    return options


@pytest.mark.parametrize("n_files", [pytest.param(1000, marks=pytest.mark.slow), 40])
def test_fuzzed_import_files_end_in_success_or_one_line(monkeypatch, n_files):
    command = typer.main.get_command(app)  # built once: rebuilding it per call was half the time
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: command)
    outcomes: Counter[str] = Counter()

    @fuzz_settings(n_files)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        tmp = Path(tempfile.mkdtemp(prefix="emergelab-fuzz-"))
        try:
            path, out = damaged_file(data, tmp / "in"), tmp / "out"
            result = runner.invoke(app, ["import", str(path), "--out", str(out), *extra_options(data)])
            assert result.exit_code in (0, 2), (result.exit_code, result.output, result.exception)
            if result.exit_code == 2:
                lines = result.stderr.strip().splitlines()
                assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
                assert not out.exists(), sorted(out.rglob("*"))
                outcomes["refused"] += 1
            else:
                assert (out / DB_NAME).is_file()
                outcomes["imported"] += 1
        finally:
            shutil.rmtree(tmp)

    check()
    total = sum(outcomes.values())
    assert total >= n_files, outcomes
    # both outcomes must be common, or the damage is too little or too much to test anything
    assert min(outcomes.values()) >= 0.05 * total, outcomes
    print(f"fuzzed import files: {dict(outcomes)}")
