"""--executor ray: the same report as local worker processes, on a local Ray cluster; a lost actor costs its cases."""

from __future__ import annotations

import sys
import time

import pytest

from conftest import read_json, without_timings

pytestmark = pytest.mark.frameworks

CHEAP = ("configs/defaults", "configs/ops")  # 11 cases, a few ms each: the cost is starting actors


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'eqcheck[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_a_ray_run_reports_what_local_workers_report(cli, tmp_path, ray_cluster):
    on_ray = cli("run", *CHEAP, "--executor", "ray", "--json", tmp_path / "ray.json", "--junit", tmp_path / "ray.xml")
    local = cli("run", *CHEAP, "--jobs", "2", "--json", tmp_path / "local.json")
    assert on_ray.exit_code == local.exit_code == 0, on_ray.text
    ray_doc, local_doc = read_json(tmp_path / "ray.json"), read_json(tmp_path / "local.json")
    assert without_timings(ray_doc["cases"]) == without_timings(local_doc["cases"])
    assert {"pass", "expected_difference"} <= {c["status"] for c in ray_doc["cases"]}
    assert ray_doc["settings"]["executor"] == "ray"
    assert ray_doc["environment"]["ray"]["actors"] == 2 and ray_doc["environment"]["ray"]["hosts"]
    assert ray_doc["environment"]["ray"]["split_sides"] is False
    assert ray_doc["environment"]["versions"] == local_doc["environment"]["versions"]
    junit = (tmp_path / "ray.xml").read_text()
    assert junit.count("<testcase") == len(ray_doc["cases"])


def test_targets_asking_for_different_resources_run_on_two_actors_with_the_same_report(cli, tmp_path, ray_cluster):
    """torch=CPU:1 (MindSpore asks for nothing): a torch actor records each case, a MindSpore actor replays it."""
    paths = ("configs/nn/GRUCell.yaml", "configs/defaults/std.yaml", "-k", "batch=1 or std", "--grad")
    split = cli("run", *paths, "--executor", "ray", "--resources", "torch=CPU:1", "--json", tmp_path / "split.json")
    local = cli("run", *paths, "--json", tmp_path / "local.json")  # in-process: the first test ties it to --jobs 2
    assert split.exit_code == local.exit_code == 0, split.text
    split_doc, local_doc = read_json(tmp_path / "split.json"), read_json(tmp_path / "local.json")
    assert split_doc["environment"]["ray"]["split_sides"] is True
    assert split_doc["environment"]["ray"]["resources"] == {"torch": {"CPU": 1.0}}
    # OpInfo's numpy ref is asked only where the torch side runs in the process (docs/verdicts.md), not on a replay
    opinions = [c.pop("third_opinion", None) for c in local_doc["cases"]]
    assert any(opinions) and not any("third_opinion" in c for c in split_doc["cases"])
    assert without_timings(split_doc["cases"]) == without_timings(local_doc["cases"])
    assert split_doc["environment"]["versions"] == local_doc["environment"]["versions"]


def test_a_killed_actor_becomes_error_rows_and_the_run_finishes(ray_cluster):
    from eqcheck.backends.targets import parse_targets
    from eqcheck.cases import load_specs
    from eqcheck.cases.sweep import expand
    from eqcheck.execution.ray_executor import RayExecutor, batches

    cases = [case for spec in load_specs(list(CHEAP)) for case in expand(spec)]
    executor = RayExecutor(parse_targets("torch,mindspore", "cpu"), seed=0, jobs=2)
    executor.start(cases)
    (doomed,) = executor._idle[-1].actors  # the actor the first batch goes to
    ray_cluster.kill(doomed, no_restart=True)
    started = time.monotonic()
    results = list(executor.run(cases))
    assert time.monotonic() - started < 60
    assert sorted(r.id for r in results) == sorted(c.id for c in cases)  # every case once, none lost
    lost = {r.id for r in results if r.status == "error"}
    first_batch = {cases[i].id for i in batches(cases)[0]}
    assert lost == first_batch
    assert all("the Ray actor running this case was lost" in r.message for r in results if r.status == "error")
    assert {r.status for r in results if r.id not in lost} <= {"pass", "expected_difference", "unsupported"}
    assert executor._lanes == [] and executor.restarts == 1  # a fresh actor took over; run() ends by stopping them


def test_without_ray_installed_it_is_exit_2_saying_how_to_get_it(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError, as on a machine without it
    result = cli("run", "configs/ops/atan2.yaml", "--executor", "ray")
    assert result.exit_code == 2
    assert "field '--executor': --executor ray needs Ray" in " ".join(result.text.split())
    assert "pip install 'eqcheck[ray]'" in result.text and "Traceback" not in result.text


@pytest.mark.parametrize("resources, expected", [
    ("jax=GPU:1", "is not TARGET=RESOURCE:AMOUNT"),
    ("torch=GPU:lots", "is not a number"),
    ("torch=GPU:0", "must be positive"),
])
def test_bad_resources_are_exit_2(cli, ray_cluster, resources, expected):
    result = cli("run", "configs/ops/atan2.yaml", "--executor", "ray", "--resources", resources)
    assert result.exit_code == 2 and expected in result.text, result.text


def test_ray_options_need_the_ray_executor(cli):
    result = cli("run", "configs/ops/atan2.yaml", "--resources", "torch=GPU:1")
    assert result.exit_code == 2 and "need --executor ray" in result.text


def test_explored_samples_on_ray_report_what_one_local_worker_reports(cli, tmp_path, ray_cluster, monkeypatch):
    """--explore: each torch sample's tensors travel with its case (the cached .npz path) to the actors."""
    from eqcheck.backends.samples import cache

    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "samples"))
    paths = ("configs/activations/F.selu.yaml", "configs/activations/F.leaky_relu.yaml", "--explore", "--grad", "-k", "sample")
    on_ray = cli("run", *paths, "--executor", "ray", "--json", tmp_path / "ray.json")
    local = cli("run", *paths, "--jobs", "1", "--json", tmp_path / "local.json")
    assert on_ray.exit_code == local.exit_code, on_ray.text
    ray_doc, local_doc = read_json(tmp_path / "ray.json"), read_json(tmp_path / "local.json")
    assert len(ray_doc["cases"]) >= 10 and all(c.get("sample") for c in ray_doc["cases"])
    assert {"pass", "expected_difference"} <= {c["status"] for c in ray_doc["cases"]}
    assert without_timings(ray_doc["cases"]) == without_timings(local_doc["cases"])  # statuses and every number
    assert ray_doc["explore"] == local_doc["explore"]
