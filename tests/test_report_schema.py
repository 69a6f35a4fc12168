"""Reports across the run options (gradients, float64 reference, trials, train-mode state, errors and unsupported
cases, golden) validate against the shipped schema (eqcheck/report/schema.json). Every other report the session
writes is checked when the session ends (conftest.py's `every_report_validates`)."""

from __future__ import annotations

import pytest

from conftest import reports_under

from eqcheck.report import schema

pytestmark = pytest.mark.frameworks


def test_reports_across_options_validate(cli, tmp_path):
    runs = [
        ("configs/nn/GRUCell.yaml", "-k", "batch=1", "--reference", "float64", "--trials", "2"),
        ("configs/nn/BatchNorm2d.yaml", "configs/nn/Embedding.yaml", "--dtype", "float32,bfloat16"),
        ("configs/defaults",),
    ]
    for i, args in enumerate(runs):
        result = cli("run", *args, "--json", tmp_path / f"r{i}.json", "--save-golden", tmp_path / f"g{i}")
        assert result.exit_code in (0, 1), result.text
        again = cli("run", *args, "--json", tmp_path / f"g{i}.json", "--golden", tmp_path / f"g{i}")
        assert again.exit_code in (0, 1), again.text
    found = dict(reports_under(tmp_path))
    assert len(found) == 2 * len(runs)
    for path, data in found.items():
        assert schema.errors(data) == [], path

