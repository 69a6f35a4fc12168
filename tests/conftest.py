"""Shared fixtures. The CLI runs in-process (click's CliRunner) so torch and MindSpore are imported once per session."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

os.environ.setdefault("GLOG_v", "3")
# The suite's own runs must not append to a real GitHub Actions step summary.
os.environ.pop("GITHUB_STEP_SUMMARY", None)

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
# A planted port bug for GRUCell: input and hidden weights swapped, with square sizes so the shapes still fit.
SWAPPED_GRU = {"square": ("input_size: 16", "input_size: 32"), "weights": """
weights:
  weight_ih: {torch: weight_ih, mindspore: weight_hh}
  weight_hh: {torch: weight_hh, mindspore: weight_ih}
"""}


ISOLATING = {"-j", "--jobs", "--timeout", "--executor", "--edges", "-j0", "-j1", "-j2"}  # a run that asks for workers


class Cli:
    def __init__(self):
        self.runner = CliRunner()

    def __call__(self, *args: str):
        from eqcheck.cli import main

        args = [str(a) for a in args]
        if args[:1] == ["run"] and not ISOLATING.intersection(args):
            # This process already holds both frameworks, so a worker would only re-import them (5-8 s a run on the
            # shared machine). The default isolation is tested on its own (test_isolation.py, test_workers.py).
            args.append("-j0")
        # --allow-module/--allow-op write the process environment for the workers to inherit; a real CLI call
        # ends with its process, so this in-process one must not leave them to the next test.
        from eqcheck.spec import allowlist

        with allowlist.environment_kept(allowlist.MODULES_ENV, allowlist.OPS_ENV):
            result = self.runner.invoke(main, args, catch_exceptions=True)
        result.text = result.output
        return result


@pytest.fixture(scope="session")
def cli() -> Cli:
    return Cli()


def reports_under(folder: Path):
    """(path, document) of every JSON report (schema_version, cases, summary ...) under a folder."""
    for path in sorted(folder.rglob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError, OSError):
            continue
        if isinstance(data, dict) and "schema_version" in data and "cases" in data and data.get("schema_version") in (1, 2, 3):
            if isinstance(data.get("cases"), list) and "summary" in data and "environment" in data and "settings" in data:
                yield path, data


@pytest.fixture(scope="session", autouse=True)
def every_report_validates(tmp_path_factory):
    """When the session ends (whatever ran, in whatever order, -k or xdist worker): every report any test wrote under
    the session's temporary folder validates against the shipped schema; a failure is an error at teardown."""
    yield
    from eqcheck.report import schema

    found = dict(reports_under(tmp_path_factory.getbasetemp()))
    failures = {str(path): errors[:3] for path, data in found.items() if (errors := schema.errors(data))}
    assert failures == {}, f"reports that do not match eqcheck/report/schema.json: {failures}"


@pytest.fixture
def write_spec(tmp_path):
    """Write a spec from text (dedented) and return its path."""

    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture
def copy_config(tmp_path):
    """Copy a shipped config into tmp_path, optionally editing its text; returns the copy's path."""

    def copy(relative: str, replace: dict[str, str] | None = None) -> Path:
        text = (CONFIGS / relative).read_text()
        for old, new in (replace or {}).items():
            assert old in text, f"{old!r} not in {relative}: the planted change would do nothing"
            text = text.replace(old, new)
        # a defaults/ spec keeps its folder: whole-case declarations are for configs/defaults/ only (spec/loader.py)
        path = tmp_path / (relative if Path(relative).parts[0] == "defaults" else Path(relative).name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    return copy


def load_script(name: str):
    """scripts/NAME.py as a module (the scripts are not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_json(path) -> dict:
    return json.loads(Path(path).read_text())


def without_timings(node):
    """A report minus the keys that legitimately differ between two runs with the same seed."""
    from eqcheck.report.document import TIMING_KEYS

    if isinstance(node, dict):
        return {k: without_timings(v) for k, v in node.items() if k not in TIMING_KEYS}
    if isinstance(node, list):
        return [without_timings(v) for v in node]
    return node
