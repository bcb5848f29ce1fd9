"""The one registry type: duplicates are errors, unknown names get a suggestion, every room uses it."""

import pytest

from emergelab.registry import Registry, UnknownNameError


def test_duplicate_name_is_an_error():
    reg: Registry[int] = Registry("thing")
    reg.add("a", 1)
    with pytest.raises(ValueError, match="thing 'a' registered twice"):
        reg.add("a", 2)
    assert reg["a"] == 1


def test_unknown_name_suggests_the_closest():
    reg: Registry[int] = Registry("metric")
    for name in ("exact_match", "token_accuracy", "brier"):
        reg.add(name, 0)
    with pytest.raises(UnknownNameError) as err:
        reg["exact_mach"]
    assert "did you mean 'exact_match'" in str(err.value)
    assert isinstance(err.value, KeyError)  # dict semantics: .get() and `in` keep working
    assert reg.get("nope") is None and "brier" in reg and list(reg) == ["exact_match", "token_accuracy", "brier"]


def test_every_registry_in_the_package_is_the_one_type():
    from emergelab.analysis.forecast import FORECASTERS
    from emergelab.analysis.laws import LAWS
    from emergelab.analysis.mirage import LINKS
    from emergelab.evaluate.probes import PROBES
    from emergelab.metrics import METRICS
    from emergelab.store.importers import REGISTRY
    from emergelab.sweep.executors import EXECUTORS
    from emergelab.sweep.knobs import KNOBS
    from emergelab.tasks import TASKS
    from emergelab.theory.circuits.functions import NAMED
    from emergelab.theory.registry import SYSTEMS

    for reg in (FORECASTERS, LAWS, LINKS, PROBES, METRICS, REGISTRY, EXECUTORS, KNOBS, TASKS, SYSTEMS, NAMED):
        assert isinstance(reg, Registry) and len(reg) > 0
        first = next(iter(reg))
        with pytest.raises(ValueError, match="registered twice"):
            reg.add(first, reg[first])


def test_lookups_that_check_first_still_say_did_you_mean(tmp_path):
    """Spec checks, make_task/get_metric/get_system and the CLI's own checks all word an unknown
    name through the registry, so each carries the suggestion (they once built their own message)."""
    from pydantic import ValidationError
    from typer.testing import CliRunner

    from conftest import tiny_spec_dict
    from emergelab.cli import app
    from emergelab.metrics import get_metric
    from emergelab.spec import ExperimentSpec
    from emergelab.tasks import make_task
    from emergelab.theory.registry import get_system

    for over, wanted in (({"tasks": [{"name": "additon"}]}, "'addition'"), ({"metrics": ["brir"]}, "'brier'")):
        with pytest.raises(ValidationError, match=f"did you mean {wanted}"):
            ExperimentSpec.model_validate(tiny_spec_dict(**over))
    for lookup, typo, wanted in ((make_task, "additon", "addition"), (get_metric, "exact_mach", "exact_match"),
                                 (get_system, "polyfti", "polyfit")):
        with pytest.raises(UnknownNameError, match=f"did you mean '{wanted}'"):
            lookup(typo)
    from emergelab.theory.circuits.functions import FunctionSpecError, parse_function

    with pytest.raises(FunctionSpecError, match="did you mean 'parity'.*hex truth table"):
        parse_function("parit:4")
    for args, wanted in ((["fit", str(tmp_path), "--law", "powr_law"], "'power_law'"),
                         (["metrics", str(tmp_path), "--metric", "exact_mach"], "'exact_match'")):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2 and f"did you mean {wanted}" in result.output, result.output
