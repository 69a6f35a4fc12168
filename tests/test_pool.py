"""The worker pool starts before the specs load (its import overlaps parsing): a run that then stops on a spec error
or a usage error must not leave those workers behind."""

from __future__ import annotations

import subprocess
import os

from conftest import CONFIGS


def _children() -> set[str]:
    out = subprocess.run(["pgrep", "-P", str(os.getpid())], capture_output=True, text=True).stdout
    return set(out.split())


def test_workers_started_early_are_stopped_when_the_specs_are_wrong(cli, write_spec):
    before = _children()
    broken = write_spec("name: [unclosed\n", name="broken.yaml")
    result = cli("run", broken, "--jobs", "1")
    assert result.exit_code == 2, result.text
    assert "broken.yaml" in result.text
    assert _children() <= before, "a worker launched before the spec error is still running"

    result = cli("run", CONFIGS / "nn" / "GRUCell.yaml", "-k", "no_such_case", "--jobs", "1")
    assert result.exit_code == 2, result.text
    assert _children() <= before


def test_the_pool_launches_before_it_has_cases():
    from eqcheck.backends.targets import parse_targets
    from eqcheck.execution.workers import WorkerPoolExecutor

    pool = WorkerPoolExecutor(parse_targets("torch,mindspore", "cpu"), seed=0, jobs=2)
    pool.launch()
    try:
        pids = {str(w.pid) for w in pool._workers}
        assert len(pids) == 2 and pids <= _children(), "both workers are importing before any spec is loaded"
    finally:
        pool.close()
    assert not (pids & _children())
