"""A worker's memory limit (#32): an allocation past RLIMIT_AS is one error row naming the limit, not a machine
out of memory. Both sides run in a worker under EQCHECK_WORKER_MEMORY=4 (GiB): torch.outer of two 30,000-element
inputs asks for 3.6 GB, which a worker holding both frameworks (2.5 GB mapped) cannot get."""

from __future__ import annotations

from conftest import read_json


def test_an_allocation_past_the_worker_limit_is_one_error_row(cli, write_spec, tmp_path, monkeypatch):
    monkeypatch.setenv("EQCHECK_WORKER_MEMORY", "4")
    spec = write_spec("""
        name: ops.outer_big
        inputs: [{name: x, shape: [30000]}, {name: y, shape: [30000]}]
        torch: {op: torch.outer}
        mindspore: {op: mindspore.ops.outer}
    """)
    result = cli("run", spec, "-j", "1", "--json", tmp_path / "r.json")
    assert result.exit_code == 1, result.output
    [case] = read_json(tmp_path / "r.json")["cases"]
    assert case["status"] == "error"
    assert "the worker's address space is limited to 4 GiB; EQCHECK_WORKER_MEMORY" in case["message"], case["message"]
