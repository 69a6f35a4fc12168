"""Untrusted spec text and size (#32): never code, markup or terminal control; bounded before anything expands."""

from __future__ import annotations

import ast
import io
import json
import shlex
import time
import xml.etree.ElementTree as ET

from rich.console import Console

from eqcheck.report import console, findings, html, junit

HOSTILE = 'ops.x[a"; touch /tmp/eqcheck-pwned; echo "\x1b]0;PWNED\x07\x00]'
SPEC = "configs/it's here/spec.yaml"


def _document(case_id: str = HOSTILE) -> dict:
    case = {"id": case_id, "spec": SPEC, "status": "error", "message": "boom \x1b[31mred\x1b[0m \x08", "outputs": []}
    return {"cases": [case], "summary": {"wall_time_s": 1.0, "total": 1, "passed": 0, "failed": 0, "errors": 1, "expected_differences": 0}, "environment": {}, "seed": 0}


def _refused_within_a_second(cli, spec, *needles):
    start = time.perf_counter()
    result = cli("validate", spec)
    assert time.perf_counter() - start < 1.0
    assert result.exit_code == 2 and all(n in result.output for n in needles), result.output


def test_shell_commands_on_the_findings_page_are_quoted():
    for case in ({"id": HOSTILE, "spec": SPEC}, {"id": HOSTILE + ",error_input=1]", "spec": SPEC}):
        words = shlex.split(findings.repro_command(case))
        assert HOSTILE in " ".join(words) and SPEC in words, words
        assert not any(w.startswith("touch") for w in words)


def test_junit_stays_parsable_with_control_characters():
    tree = junit.build(_document())
    buffer = io.BytesIO()
    tree.write(buffer, encoding="utf-8", xml_declaration=True)
    root = ET.fromstring(buffer.getvalue())  # raises on a raw \x00 or \x1b
    case = root.find("testsuite/testcase")
    assert "\\x1b]0;PWNED\\x07\\x00" in case.get("name") and "\\x1b[31m" in case.find("error").get("message")


def test_html_escapes_markup_and_control_characters():
    page = html.render(_document('<script>alert(1)</script>\x1b'))
    assert "<script>alert" not in page and "\x1b" not in page and "&lt;script&gt;" in page


def test_terminal_output_carries_no_escape_sequence_from_text():
    out = io.StringIO()
    Console(file=out, width=300, force_terminal=True, color_system=None).print(console.results_table(_document()))
    assert "\x1b]" not in out.getvalue() and "\x07" not in out.getvalue() and "\\x1b]0;PWNED" in out.getvalue()


def test_control_characters_in_a_spec_are_refused(cli, write_spec):
    spec = write_spec('name: "ops.t\\e]0;PWNED\\a"\ninputs: [{name: x, shape: [2]}]\n'
                      'torch: {op: torch.tanh}\nmindspore: {op: mindspore.ops.tanh}\n')
    result = cli("validate", spec)
    assert result.exit_code == 2 and "field 'name'" in result.output and "control character '\\x1b'" in result.output
    assert "\x1b" not in result.output


def test_a_yaml_alias_bomb_is_refused_in_well_under_a_second(cli, write_spec):
    """Eight levels of ten aliases: 571 bytes, 10**9 values expanded. Before: validate ran past 60 s."""
    levels = ["a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    spec = write_spec("name: ops.bomb\nparams:\n  k: 1\n" + "".join(f"  {line}\n" for line in levels)
                      + "inputs: [{name: x, shape: [2]}]\ntorch: {op: torch.tanh}\nmindspore: {op: mindspore.ops.tanh}\n")
    _refused_within_a_second(cli, spec, "expands to more than 20,000 values")


def test_a_huge_document_is_refused_before_parsing(cli, write_spec):
    spec = write_spec("name: ops.big\nsummary: '" + "x" * 300_000 + "'\n")
    result = cli("validate", spec)
    assert result.exit_code == 2 and "above the limit of 262,144" in result.output, result.output


def test_a_repro_script_holds_the_case_id_as_a_literal(cli, write_spec, tmp_path):
    """A spec name with triple quotes and a newline used to close repro.py's docstring and run what followed."""
    marker = tmp_path / "pwned"
    name = f'ops.evil"""\nopen({str(marker)!r}, "w")\n"""'
    spec = write_spec(f"name: {json.dumps(name)}\ninputs: [{{name: x, shape: [3]}}]\n"
                      "torch: {op: torch.tanh}\nmindspore: {op: mindspore.ops.tanh}\n")
    case_id = name + "[float32]"
    result = cli("repro", case_id, spec, "-o", tmp_path / "bug")
    assert result.exit_code == 0, result.output
    tree = ast.parse((tmp_path / "bug" / "repro.py").read_text())
    ids = [n.value.value for n in ast.walk(tree) if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "CASE_ID"]
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "open"]
    assert ids and ids[0].startswith('ops.evil"""\nopen(') and not calls


def test_a_sweep_is_bounded_before_it_is_expanded(cli, write_spec):
    """9 axes of 10 values: 10**9 cases. Before: validate grew past 2 GB and ran on; now exit 2 at once."""
    axes = "".join(f"  a{i}: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n" for i in range(9))
    spec = write_spec(f"name: ops.sweep\nsweep:\n{axes}inputs: [{{name: x, shape: [2]}}]\n"
                      "torch: {op: torch.tanh}\nmindspore: {op: mindspore.ops.tanh}\n")
    _refused_within_a_second(cli, spec, "above the limit of 1,024 per spec", "sweep.a3")


def test_validate_stays_well_under_a_second_on_a_wide_spec(cli, write_spec):
    """1,000 inputs x 4,096 cases ran validate for minutes: cases x document values are bounded (20,000, ~0.2 s)."""
    inputs = "".join(f"  - {{name: x{i}, shape: [\"$a+1\", 2]}}\n" for i in range(1000))
    spec = write_spec(f"name: ops.wide\nsweep: {{a: [1, 2, 3]}}\ninputs:\n{inputs}"
                      "torch: {op: torch.tanh}\nmindspore: {op: mindspore.ops.tanh}\n")
    _refused_within_a_second(cli, spec, "21,060 values to evaluate, above the limit of 20,000")


def test_a_run_is_bounded_in_cases(monkeypatch, cli, write_spec):
    from eqcheck.spec import document

    monkeypatch.setattr(document, "MAX_CASES_PER_RUN", 3)
    spec = write_spec("name: ops.four\nsweep: {a: [1, 2, 3, 4]}\ninputs: [{name: x, shape: [2]}]\n"
                      "torch: {op: torch.tanh}\nmindspore: {op: mindspore.ops.tanh}\n")
    result = cli("run", spec)
    assert result.exit_code == 2 and "the run has 4 cases, above the limit of 3" in result.output, result.output
