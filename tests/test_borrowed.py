"""Modules borrow their functional's op_db samples (issue 30), and --boundary varies constructor arguments.

Borrowed samples are built by the real child (backends/samples/borrowed.py) from the real op_db; the runs use real
torch and MindSpore."""

from __future__ import annotations

import os

import pytest

from conftest import CONFIGS, read_json
from eqcheck.backends.samples import cache
from eqcheck.cases import load_specs
from eqcheck.cases.explore import explore_cases

BORROWED = ["torch.nn.AvgPool1d", "torch.nn.Flatten", "torch.nn.Conv1d"]


@pytest.fixture(scope="module")
def borrowed_cache(tmp_path_factory):
    """A cache of its own with the borrowed entries these tests use, built in one child (op_db imports once)."""
    folder = tmp_path_factory.mktemp("samples")
    old = os.environ.get(cache.CACHE_ENV)
    os.environ[cache.CACHE_ENV] = str(folder)
    cache.entries("borrowed", BORROWED)
    yield folder
    if old is None:
        os.environ.pop(cache.CACHE_ENV, None)
    else:
        os.environ[cache.CACHE_ENV] = old


def test_a_borrowed_sample_keeps_the_functionals_keywords_and_its_defaults(borrowed_cache):
    record = cache.entries("borrowed", ["torch.nn.Flatten"])["torch.nn.Flatten"]
    assert record["borrowed"] == ["flatten"] and len(record["samples"]) == 6
    first = record["samples"][0]
    assert first["origin"] == "flatten.0"
    # flatten(x) flattens from dim 0, nn.Flatten() from dim 1: torch's functional default is passed explicitly
    assert first["init"]["kwargs"] == {"start_dim": 0} and first["call"]["args"][0]["shape"] == [5, 5, 5]
    pool = cache.entries("borrowed", ["torch.nn.AvgPool1d"])["torch.nn.AvgPool1d"]
    kwargs = [s["init"]["kwargs"] for s in pool["samples"]]
    assert any(k.get("ceil_mode") is True for k in kwargs) and any(k.get("count_include_pad") is False for k in kwargs)


def test_a_wrong_keyword_translation_is_caught_in_torch_before_it_is_cached():
    """Planted: ceil_mode renamed to count_include_pad, and flatten's functional default forgotten. The module built
    from the sample then returns another value than the functional, so the sample is no sample of it."""
    import torch

    from eqcheck.backends.samples import borrowed, opinfo

    catalog = opinfo.load()
    pool, flatten = catalog["nn.functional.avg_pool1d"], catalog["flatten"]
    good, planted = borrowed.BORROW["AvgPool1d"], borrowed.Borrow(("nn.functional.avg_pool1d",),
                                                                   rename={"ceil_mode": "count_include_pad"})
    caught = 0
    for sample in pool.sample_inputs("cpu", torch.float32):
        init, _ = borrowed.convert(torch.nn.AvgPool1d, good, "nn.functional.avg_pool1d", pool, sample, False)
        if init.get("ceil_mode") is True:
            try:
                borrowed.convert(torch.nn.AvgPool1d, planted, "nn.functional.avg_pool1d", pool, sample, False)
            except borrowed.Misfit:
                caught += 1  # where ceil_mode changes the output, the planted translation never becomes a sample
    assert caught
    plain = next(s for s in flatten.sample_inputs("cpu", torch.float32) if not s.args and not s.kwargs)
    assert borrowed.convert(torch.nn.Flatten, borrowed.BORROW["Flatten"], "flatten", flatten, plain, False)[0] == {"start_dim": 0}
    with pytest.raises(borrowed.Misfit, match="another value"):
        borrowed.convert(torch.nn.Flatten, borrowed.Borrow(("flatten",)), "flatten", flatten, plain, False)


def test_tallies_count_borrowed_samples_per_entry_and_module_weights_as_not_supported(borrowed_cache):
    specs = load_specs([CONFIGS / "nn" / "Flatten.yaml", CONFIGS / "nn" / "Conv1d.yaml"])
    cases, tallies = explore_cases(specs, ("float32",))
    flat = tallies["nn.Flatten"]
    assert flat["entries"] == {"flatten (borrowed)": {"samples": 6, "run": 6}}, flat
    assert flat["run"] == flat["samples"] == 6 and "no module entry" in flat["note"]
    assert [c.id for c in cases["nn.Flatten"]][:2] == ["nn.Flatten[float32,sample=flatten.0]", "nn.Flatten[float32,sample=flatten.1]"]
    conv = tallies["nn.Conv1d"]  # its own ModuleInfo samples and the borrowed ones, one tally
    own, lent = conv["entries"]["torch.nn.Conv1d"], conv["entries"]["nn.functional.conv1d (borrowed)"]
    assert lent["run"] == 0 and conv["not_supported"]["weights: module parameters"] == lent["samples"] > 0
    assert conv["samples"] == own["samples"] + lent["samples"] and conv["run"] == own["run"] > 0


@pytest.mark.frameworks
def test_a_borrowed_sample_reaches_mindspores_constructor_through_the_map(cli, copy_config, borrowed_cache, tmp_path):
    """AvgPool1d's borrowed samples run green; planted: ceil_mode mapped onto MindSpore's count_include_pad fails
    exactly the samples that set ceil_mode."""
    report = tmp_path / "r.json"
    result = cli("run", copy_config("pooling/AvgPool1d.yaml"), "--explore", "--json", report, "-k", "sample=nn.functional")
    assert result.exit_code == 0, result.text
    cases = read_json(report)["cases"]
    declared = {c["id"] for c in cases if c["status"] == "expected_difference"}  # MindSpore refuses an empty batch
    assert declared == {c["id"] for c in cases if any(0 in a["shape"] for a in c["sample"]["args"])}
    assert len(cases) > len(declared) and {c["status"] for c in cases if c["id"] not in declared} == {"pass"}
    assert any(c["sample"]["init"]["kwargs"].get("ceil_mode") is True for c in cases)
    assert all(c["sample"]["origin"].startswith("nn.functional.avg_pool1d.") for c in cases)
    assert read_json(report)["explore"]["nn.AvgPool1d"]["entries"]["nn.functional.avg_pool1d (borrowed)"]["run"] == len(cases)
    wrong = copy_config("pooling/AvgPool1d.yaml", {"    ceil_mode: ceil_mode\n": "    ceil_mode: count_include_pad\n"})
    result = cli("run", wrong, "--explore", "--json", report, "-k", "sample=nn.functional")
    assert result.exit_code == 1
    bad = [c for c in read_json(report)["cases"] if c["status"] not in ("pass", "expected_difference")]
    assert bad and all("ceil_mode" in c["sample"]["init"]["kwargs"] for c in bad)


@pytest.mark.frameworks
def test_a_constructor_sentinel_reaches_mindspores_constructor_through_the_map(cli, copy_config, tmp_path):
    """NLLLoss's ignore_index at a label the target holds (every 4th label) and at -1: both green; planted, the map
    giving MindSpore ignore_index + 1 fails the variant whose ignored labels now count."""
    report = tmp_path / "r.json"
    result = cli("run", copy_config("losses/NLLLoss.yaml"), "--boundary", "--json", report, "-k", "ignore_index")
    assert result.exit_code == 0, result.text
    statuses = {c["id"]: c["status"] for c in read_json(report)["cases"]}
    assert statuses == {"nn.NLLLoss[reduction=none,float32,boundary=ignore_index:0]": "pass",
                        "nn.NLLLoss[reduction=none,float32,boundary=ignore_index:-1]": "pass"}
    planted = copy_config("losses/NLLLoss.yaml", {"ignore_index: {name: ignore_index, default: -100}":
                                                  "ignore_index: {name: ignore_index, default: -100, value: $value + 1}"})
    result = cli("run", planted, "--boundary", "--json", report, "-k", "ignore_index")
    assert result.exit_code == 1
    failed = {c["id"] for c in read_json(report)["cases"] if c["status"] != "pass"}
    assert "nn.NLLLoss[reduction=none,float32,boundary=ignore_index:0]" in failed


@pytest.mark.frameworks
def test_a_constructor_value_the_map_cannot_carry_is_reported_not_guessed(cli, write_spec, tmp_path):
    spec = write_spec("""
name: pool
inputs: [{name: input, shape: [2, 3, 9], mindspore: x}]
torch: {op: torch.nn.MaxPool1d, init: {kernel_size: 2, stride: 2}}
mindspore: {op: mindspore.nn.MaxPool1d, init: {kernel_size: 2, stride: 2}}
explore: {arguments: {kernel_size: kernel_size}}
""")
    listed = cli("list", spec, "--boundary").text.split()
    assert not any("ceil_mode" in i for i in listed)  # no map entry: MindSpore's form is not guessed
    report = tmp_path / "r.json"
    result = cli("run", spec, "--boundary", "--json", report, "-k", "not boundary")
    plain = read_json(report)["cases"][0]
    assert plain["edges_skipped"] == {
        "boundary=ceil_mode:True": "unmapped: ceil_mode has no explore.arguments entry (MindSpore's form is not guessed)"}
    assert "skipped boundary=ceil_mode:True" in result.text
    mapped = write_spec(spec.read_text().replace("{kernel_size: kernel_size}", "{kernel_size: kernel_size, ceil_mode: ceil_mode}"),
                        "mapped.yaml")
    assert "pool[float32,boundary=ceil_mode:True]" in cli("list", mapped, "--boundary").text.split()
