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
    from emergelab.theory.registry import SYSTEMS

    for reg in (FORECASTERS, LAWS, LINKS, PROBES, METRICS, REGISTRY, EXECUTORS, KNOBS, TASKS, SYSTEMS):
        assert isinstance(reg, Registry) and len(reg) > 0
        first = next(iter(reg))
        with pytest.raises(ValueError, match="registered twice"):
            reg.add(first, reg[first])
