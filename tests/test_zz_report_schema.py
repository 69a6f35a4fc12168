"""Every JSON report this test session wrote validates against the shipped schema (eqcheck/report/schema.json).

Named to run after the other test files: it collects every report (a JSON file with `schema_version` and `cases`)
under this session's pytest temporary folder, whichever test wrote it, plus reports it makes itself across the
run options (gradients, float64 reference, trials, train-mode state, errors and unsupported cases, golden)."""

from __future__ import annotations

import json

import pytest

from eqcheck.report import schema

pytestmark = pytest.mark.frameworks


def reports_under(folder):
    for path in sorted(folder.rglob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError, OSError):
            continue
        if isinstance(data, dict) and "schema_version" in data and "cases" in data and data.get("schema_version") in (1, 2, 3):
            if isinstance(data.get("cases"), list) and "summary" in data and "environment" in data and "settings" in data:
                yield path, data


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


def test_every_report_the_session_wrote_validates(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    found = dict(reports_under(base))
    if not found:
        pytest.skip("no report written in this session (run with the rest of the suite)")
    failures = {str(path): errors[:3] for path, data in found.items() if (errors := schema.errors(data))}
    assert failures == {}
