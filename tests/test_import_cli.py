"""`emergelab import` through Typer's test runner."""

from pathlib import Path

from typer.testing import CliRunner

from emergelab.cli.importing import app
from emergelab.store import DB_NAME, Store

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def test_cli_imports_opt(tmp_path):
    files = [str(p) for p in sorted((DATA / "opt_lm_eval").glob("opt-*.json"))]
    result = runner.invoke(app, [*files, "--out", str(tmp_path / "exp")])
    assert result.exit_code == 0, result.output
    assert "8 models" in result.output and "1024 points" in result.output
    assert "opt-66b (66B)" in result.output
    with Store(tmp_path / "exp", read_only=True) as store:
        assert len(store.points()) == 1024


def test_cli_params_flag_and_format(tmp_path):
    csv = tmp_path / "r.csv"
    csv.write_text("model,task,metric,value\nmine,t,acc,0.4\n")
    result = runner.invoke(app, [str(csv), "--out", str(tmp_path / "exp"), "--params", "mine=1.3b", "--input-format", "table"])
    assert result.exit_code == 0, result.output
    with Store(tmp_path / "exp", read_only=True) as store:
        assert store.points()[0].params == 1.3e9


def test_cli_unknown_size_exit_2(tmp_path):
    csv = tmp_path / "r.csv"
    csv.write_text("model,task,metric,value\nmine,t,acc,0.4\n")
    out = tmp_path / "exp"
    result = runner.invoke(app, [str(csv), "--out", str(out)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "mine" in lines[0] and str(csv) in lines[0]
    assert not out.exists()


def test_cli_bad_format_exit_2(tmp_path):
    result = runner.invoke(app, [str(DATA / "import" / "long.csv"), "--out", str(tmp_path / "e"), "--input-format", "xml"])
    assert result.exit_code == 2 and "unknown import format 'xml'" in result.stderr
    assert not (tmp_path / "e" / DB_NAME).exists()
    typo = runner.invoke(app, [str(DATA / "import" / "long.csv"), "--out", str(tmp_path / "e"), "--input-format", "tabel"])
    assert typo.exit_code == 2 and "did you mean 'table'" in typo.stderr


def test_cli_help_has_examples():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "--params" in result.output and "emergelab import" in result.output
