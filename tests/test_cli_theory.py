"""The `theory` Typer app, driven in-process with CliRunner."""

import json

import pytest
from typer.testing import CliRunner

from emergelab.cli.theory import app
from emergelab.theory import load_results

runner = CliRunner()


def test_list_names_every_system():
    res = runner.invoke(app, ["list"])
    assert res.exit_code == 0, res.output
    for name in ("polyfit", "kmeans", "bit_budget", "quanta", "skill_graph", "composition", "per_token"):
        assert name in res.output


def test_run_json_with_params():
    res = runner.invoke(app, ["run", "per_token", "--format", "json", "--param", "n_points=11",
                              "--param", "lengths=1,5"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["name"] == "per_token"
    assert data["params"]["n_points"] == 11 and data["params"]["lengths"] == [1, 5]
    curve = data["curves"][0]
    assert {"label", "points"} <= set(curve)
    assert len(curve["points"]) == 11 and set(curve["points"][0]) == {"budget", "value"}


def test_run_out_writes_json_and_figure(tmp_path):
    res = runner.invoke(app, ["run", "composition", "--out", str(tmp_path), "-p", "ks=1,4"])
    assert res.exit_code == 0, res.output
    [result] = load_results(tmp_path)
    assert result.name == "composition" and len(result.curves) == 2
    assert (tmp_path / "figures" / "theory_composition.png").stat().st_size > 1000


@pytest.mark.parametrize("args,needle", [
    (["run", "no_such_system"], "no_such_system"),
    (["run", "polyfit", "--param", "bogus=1"], "bogus"),
    (["run", "polyfit", "--param", "n_points=many"], "n_points"),
    (["run", "polyfit", "--param", "n_points"], "key=value"),
    (["run", "skill_graph", "--param", "placement=nowhere"], "placement"),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, args, needle):
    out = tmp_path / "out"
    res = runner.invoke(app, [*args, "--out", str(out)])
    assert res.exit_code == 2
    assert needle in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_help_has_examples():
    for cmd in ("list", "run", "gallery"):
        res = runner.invoke(app, [cmd, "--help"])
        assert res.exit_code == 0 and "Example" in res.output


def test_gallery_runs_every_registered_system(tmp_path, monkeypatch):
    import emergelab.cli.theory as cli
    from emergelab.theory import registry

    subset = {name: registry.SYSTEMS[name] for name in ("per_token", "composition")}
    monkeypatch.setattr(registry, "SYSTEMS", subset)
    monkeypatch.setattr(cli, "SYSTEMS", subset)
    res = runner.invoke(app, ["gallery", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert {r.name for r in load_results(tmp_path)} == set(subset)
    assert {p.name for p in (tmp_path / "figures").iterdir()} >= {"theory_per_token.png", "theory_composition.png"}
