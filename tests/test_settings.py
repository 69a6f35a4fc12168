"""The run's settings record: every `run` option lands in it (or in the gate's), and each of its three views
(spec overrides, split-run manifest, report settings) comes from the one field list."""

from __future__ import annotations

import dataclasses

from eqcheck.cli import run
from eqcheck.execution.settings import RunSettings
from eqcheck.gate.cli import GATE_OPTIONS

# run's own parameters: where the output goes and which targets (resolved into the record as Target records)
RUN_ONLY = {"paths", "json_path", "quiet", "device", "targets", "export_side", "against", "allow_module", "allow_op", "force"}


def test_every_run_option_has_one_home():
    fields = {f.name for f in dataclasses.fields(RunSettings)}
    gate = {param.name for option in GATE_OPTIONS for param in option(lambda: None).__click_params__}
    homeless = [p.name for p in run.params if p.name not in fields | gate | RUN_ONLY]
    assert not homeless, f"options neither in RunSettings nor in the gate's: {homeless}"


def test_options_become_the_record():
    settings = RunSettings.from_options(("configs/nn",), {"grad": False, "trials": None, "edges": True, "seed": 7,
                                                          "baseline": "old.json", "executor": "local"})
    assert settings.grad is False and settings.trials is None and settings.seed == 7
    assert settings.repeat == 2 and settings.jobs == 1  # --edges compares twice
    assert not hasattr(settings, "baseline")
    plain = RunSettings.from_options(("configs",), {"edges": False})
    assert plain.edges is None and plain.repeat is None  # recorded as absent, as before the record existed
    assert plain.jobs == 1  # isolated by default
    assert RunSettings.from_options((), {"jobs": 0}).jobs == 0  # -j 0: the explicit in-process opt-in
    assert RunSettings.from_options((), {"executor": "ray"}).jobs is None  # Ray sizes itself to the cluster


def test_views_agree_with_the_fields():
    settings = RunSettings(paths=("a.yaml",), grad=False, reference="float64", edges=True, repeat=2, jobs=3, timeout=9.0)
    # --no-grad is an override too: False must survive every view
    assert settings.spec_overrides() == {"grad": False, "reference": "float64", "repeat": 2}
    assert settings.shared()["grad"] is False and settings.shared()["edges"] is True
    assert set(settings.spec_overrides()) <= set(settings.shared())
    report = settings.report()
    assert report["grad"] is False and report["paths"] == ["a.yaml"] and report["edges"] is True
    assert "jobs" not in report and "timeout" not in report and "executor" not in report  # how, not what
    assert "trials" not in report  # unset overrides stay out
    assert RunSettings(executor="ray").report()["executor"] == "ray"


def test_apply_replaces_spec_keys_once_per_spec():
    from eqcheck.cases import load_specs
    from eqcheck.cases.sweep import expand

    cases = [case for spec in load_specs(["configs/nn/Linear.yaml"]) for case in expand(spec)]
    assert all(case.spec.trials == 1 for case in cases)
    changed = RunSettings(grad=False, trials=3).apply(cases)
    assert all(case.spec.grad is False and case.spec.trials == 3 for case in changed)
    assert len({id(case.spec) for case in changed}) == 1  # one spec, replaced once
    assert RunSettings().apply(cases) is cases
