"""Options and output paths checked as input (#32): exit 2 with one paragraph before any case runs, no traceback,
and no report put in place of a device node or a symlink."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from eqcheck.errors import EqcheckError
from eqcheck.report import document as doc

SPEC = "configs/math/atan2.yaml"


def _refused(result, *needles):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    for needle in needles:
        assert needle in result.output, result.output


@pytest.mark.parametrize("expr, operator", [("$~1", "Invert"), ("$1 in t", "In"), ("$n is 4", "Is"),
                                            ("$n is not 4", "IsNot"), ("$1 not in t", "NotIn"), ("$1 @ 2", "MatMult")])
def test_the_expression_checker_admits_only_what_the_evaluator_knows(cli, write_spec, expr, operator):
    spec = write_spec(f"""
        name: ops.expr
        params: {{n: 2, t: 3, k: "{expr}"}}
        inputs: [{{name: x, shape: [2]}}]
        torch: {{op: torch.tanh}}
        mindspore: {{op: mindspore.ops.tanh}}
    """)
    _refused(cli("validate", spec), f"uses the operator {operator}, which is not allowed", "field 'params.k'")


@pytest.mark.parametrize("args, needle", [
    (("--timeout", "nan"), "'nan' is not a finite number"),
    (("--timeout", "inf"), "not in the range"),
    (("--timeout", "1e308"), "not in the range 0<x<=604800"),
    (("--seed", "-1"), "not in the range 0<=x<=4294967295"),
])
def test_numeric_options_are_checked_as_options(cli, args, needle):
    _refused(cli("run", SPEC, *args), needle)


def test_report_paths_are_checked_before_any_case_runs(cli, tmp_path):
    regular = tmp_path / "a.txt"
    regular.write_text("keep")
    link = tmp_path / "link.json"
    link.symlink_to(regular)
    for option, path, needle in [
        ("--json", "/dev/full", "is not a regular file"),
        ("--json", link, "is a symlink"),
        ("--html", regular / "x.html", "Not a directory"),
        ("--junit", tmp_path / ("a" * 300 + ".xml"), "File name too long"),
        ("--markdown", tmp_path, "is a directory"),
    ]:
        result = cli("run", SPEC, option, path, "--json", tmp_path / "r.json") if option != "--json" else cli("run", SPEC, option, path)
        _refused(result, option, needle)
        assert not (tmp_path / "r.json").exists(), "refused before the run, not after it"
    assert link.is_symlink() and regular.read_text() == "keep"
    assert Path("/dev/full").is_char_device()


def test_the_writer_writes_through_never_replaces(tmp_path):
    """--force: a symlink stays a symlink (its target gets the report); a device is written into, its error is exit 2."""
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    doc.write_atomic(link, {"cases": []})
    assert link.is_symlink() and '"cases"' in target.read_text()
    with pytest.raises(EqcheckError, match="No space left on device"):
        doc.write_atomic("/dev/full", {"cases": []})
    assert Path("/dev/full").is_char_device() and not os.path.isfile("/dev/full")
