"""pytest plugin (entry point `pytest11: eqcheck`): `pytest --eqcheck configs/` turns every spec's cases into test
items, for teams whose CI already gates on pytest.

Each YAML spec file becomes a collector and each case an item named by its case id
(`configs/nn/GRUCell.yaml::nn.GRUCell[bias=True,batch=64,float32]`). Items run through one CaseRunner per
session (torch and MindSpore are imported once, at the first item). A failing case fails with its
deviations; `error` is a failure naming the side that raised; `unsupported` is a skip;
`expected_difference` an xfail; `unexpected_pass` a failure (like a strict xfail). Without --eqcheck the
plugin adds its options and does nothing else, so ordinary test suites (this repository's included) are
unaffected; nothing heavy is imported until an item runs.
"""

from __future__ import annotations

import pytest

_RUNNER = pytest.StashKey[object]() if hasattr(pytest, "StashKey") else None


def pytest_addoption(parser):
    group = parser.getgroup("eqcheck", "eqcheck: torch vs MindSpore operator equivalence")
    group.addoption("--eqcheck", action="store_true", default=False,
                    help="collect eqcheck YAML specs (*.yaml, *.yml) under the given paths as test items, one per case")
    group.addoption("--eqcheck-targets", default="torch,mindspore", metavar="A,B", help="the two targets to compare")
    group.addoption("--eqcheck-device", default="cpu", metavar="DEV", help="cpu, gpu or per target (torch=gpu,mindspore=cpu)")
    group.addoption("--eqcheck-seed", type=int, default=None, metavar="N", help="seed for shared weights and inputs")


def pytest_collect_file(file_path, parent):
    if parent.config.getoption("eqcheck") and file_path.suffix in (".yaml", ".yml"):
        return SpecFile.from_parent(parent, path=file_path)
    return None


class SpecFile(pytest.File):
    def collect(self):
        from eqcheck.cases.sweep import expand
        from eqcheck.errors import EqcheckError
        from eqcheck.cases import load_spec

        try:
            spec = load_spec(self.path)
            cases = expand(spec)
        except EqcheckError as exc:
            raise self.CollectError(exc.paragraph()) from None
        for case in cases:
            yield CaseItem.from_parent(self, name=case.id, case=case)


class CaseFailed(Exception):
    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


def _runner(config):
    runner = config.stash.get(_RUNNER, None)
    if runner is None:
        import click

        from eqcheck.cases.draws import resolve_seed
        from eqcheck.execution.runner import CaseRunner
        from eqcheck.backends.targets import parse_targets

        try:
            targets = parse_targets(config.getoption("eqcheck_targets"), config.getoption("eqcheck_device"))
        except click.BadParameter as exc:
            raise pytest.UsageError(f"--eqcheck-targets/--eqcheck-device: {exc.format_message()}") from None
        runner = CaseRunner(targets, seed=resolve_seed(config.getoption("eqcheck_seed")))
        runner.start()
        config.stash[_RUNNER] = runner
    return runner


class CaseItem(pytest.Item):
    def __init__(self, *, case, **kwargs):
        super().__init__(**kwargs)
        self.case = case

    def runtest(self):
        from eqcheck.errors import EqcheckError
        from eqcheck.report.document import case_record
        from eqcheck.report.junit import deviation_lines
        from eqcheck.verdict.results import ERROR, EXPECTED_DIFFERENCE, FAIL, NONDETERMINISTIC, UNEXPECTED_PASS, UNSUPPORTED

        runner = _runner(self.config)
        try:
            runner.preflight([self.case])
            result = runner.run(self.case)
        except EqcheckError as exc:
            raise CaseFailed(exc.paragraph()) from None
        record = case_record(result)
        if result.status == UNSUPPORTED:
            pytest.skip(f"unsupported: {result.message}")
        if result.status == EXPECTED_DIFFERENCE:
            pytest.xfail(f"expected difference: {(result.expected or {}).get('reason', '')}")
        if result.status in (FAIL, ERROR, UNEXPECTED_PASS, NONDETERMINISTIC):
            lines = [f"{result.id}: {result.status}" + (f" ({result.message})" if result.message else "")]
            lines += ["  " + line for line in deviation_lines(record)]
            raise CaseFailed("\n".join(lines))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CaseFailed):
            return excinfo.value.text
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"eqcheck case {self.name}"
