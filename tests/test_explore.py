"""--explore (issue 22): torch's own OpInfo/ModuleInfo samples as cases, translated through the spec's explore map.

The samples come from the real op_db/module_db (built once into a session cache by the child process); the
translation tests feed hand-written records in the cache's format to `translate`, no framework involved."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import CONFIGS, ROOT, read_json
from eqcheck.backends.samples import cache
from eqcheck.cases.explore import Skip, translate
from eqcheck.errors import SpecError
from eqcheck.spec.loader import parse_spec
from eqcheck.spec.model import Literal

SUM = """
name: t.sum
grad: true
inputs: [{name: input, shape: [4, 5]}]
torch: {op: torch.sum}
mindspore: {op: mindspore.ops.sum}
"""
SUM_MAPPED = SUM + "explore: {arguments: {dim: dim, keepdim: keepdim}}\n"
SUM_AXIS = SUM.replace("torch.sum", "torch.sum") + "explore: {arguments: {dim: axis, keepdim: keepdim}}\n"
RELU = """
name: t.relu
grad: true
inputs: [{name: input, shape: [4, 5]}]
torch: {op: torch.nn.functional.relu}
mindspore: {op: mindspore.ops.relu}
"""


@pytest.fixture(scope="session")
def sample_cache(tmp_path_factory):
    """One cache for the session, with the entries these tests use built in one child (op_db imports once)."""
    folder = tmp_path_factory.mktemp("samples")
    old = os.environ.get(cache.CACHE_ENV)
    os.environ[cache.CACHE_ENV] = str(folder)
    cache.entries("opinfo", ["nn.functional.relu", "sum", "amax", "nn.functional.conv2d", "unique_consecutive"])
    yield folder
    if old is None:
        os.environ.pop(cache.CACHE_ENV, None)
    else:
        os.environ[cache.CACHE_ENV] = old


# ---- translation: records in the cache's format, no framework ------------------------------------------


def _tensor(key: str, shape: list[int], dtype: str = "float32") -> dict:
    return {"tensor": key, "shape": shape, "dtype": dtype}


CONV = """
name: t.conv
inputs: [{name: input, shape: [1, 2, 5, 5], mindspore: x}, {name: weight, shape: [2, 2, 3, 3]}]
torch: {op: torch.nn.functional.conv2d, call: {padding: 1}}
mindspore: {op: mindspore.ops.conv2d, call: {pad_mode: pad, padding: 1}}
explore:
  arguments:
    stride: {cast: tuple}
    padding:
      default: 0
      set: {pad_mode: pad}
      others: pass
      values: {same: {value: 0, set: {pad_mode: same}}}
    groups: group
    memory_format: {unsupported: "no memory_format", default: null}
    reduction: {values: {mean: mean, none: {unsupported: "no per-element loss"}}}
  unsupported_inputs:
    input: {ndim: [3], reason: "batched only"}
"""
CONV_RECORD = {"entry": "nn.functional.conv2d", "signature": ["input", "weight", "bias", "stride", "padding"]}


def _conv_sample(**kwargs) -> dict:
    return {"call": {"args": [_tensor("a", [1, 2, 5, 5]), _tensor("b", [2, 2, 3, 3])], "kwargs": kwargs}}


def test_a_sample_reaches_mindspore_through_the_map(write_spec):
    spec = parse_spec(write_spec(CONV))
    derived, tensors = translate(spec, CONV_RECORD, _conv_sample(stride=2, padding="same", groups=1), "opinfo")
    assert tensors == (("input", "a"), ("weight", "b"))
    assert [i.sides["mindspore"].name for i in derived.inputs] == ["x", "weight"]  # the spec's names for MindSpore
    torch_side, ms_side = derived.sides["torch"], derived.sides["mindspore"]
    assert torch_side.call == {"stride": 2, "padding": "same", "groups": 1}  # the sample's arguments replace the spec's
    assert ms_side.call == {"stride": (2, 2), "padding": 0, "pad_mode": "same", "group": 1}
    assert torch_side.args == ("input", "weight") and ms_side.args == ("input", "weight")


def test_a_default_fills_in_and_literals_stay_unless_set(write_spec):
    spec = parse_spec(write_spec(CONV))
    derived, _ = translate(spec, CONV_RECORD, _conv_sample(), "opinfo")
    # torch's default padding 0 replaces the spec's literal padding: 1 on the MindSpore side; pad_mode stays
    assert derived.sides["mindspore"].call == {"pad_mode": "pad", "padding": 0}
    derived, _ = translate(spec, CONV_RECORD, _conv_sample(padding=(1, 2)), "opinfo")
    assert derived.sides["mindspore"].call == {"pad_mode": "pad", "padding": (1, 2)}  # others: pass


POOL1D = """
name: t.avg_pool1d
inputs: [{name: input, shape: [2, 3, 9]}]
torch: {op: torch.nn.functional.avg_pool1d, call: {kernel_size: 3}}
mindspore: {op: mindspore.ops.avg_pool1d, call: {kernel_size: 3}}
explore:
  arguments: {kernel_size: {cast: int}, stride: {cast: int, default: $kernel_size}}
"""


def test_cast_int_takes_a_one_element_sequence_as_its_element(write_spec):
    """torch's 1-d pools take kernel_size=(3,); MindSpore's ops.avg_pool1d refuses a tuple (TypeError: should be 'int')."""
    spec = parse_spec(write_spec(POOL1D))
    record = {"entry": "nn.functional.avg_pool1d", "signature": ["input", "kernel_size", "stride"]}
    derived, _ = translate(spec, record, {"call": {"args": [_tensor("a", [2, 3, 9]), [3]], "kwargs": {}}}, "opinfo")
    assert derived.sides["mindspore"].call == {"kernel_size": 3, "stride": 3}  # the default follows the sample's kernel


POOL2D = """
name: t.avg_pool2d
inputs: [{name: input, shape: [1, 3, 9, 9]}]
torch: {op: torch.nn.functional.avg_pool2d, call: {kernel_size: 3}}
mindspore: {op: mindspore.ops.avg_pool2d, call: {kernel_size: 3}}
explore:
  arguments: {kernel_size: kernel_size, padding: {cast: per_side}}
"""


@pytest.mark.parametrize("padding, sides", [([2, 3], (2, 2, 3, 3)), (1, (1, 1, 1, 1)), ([1], (1, 1, 1, 1))])
def test_cast_per_side_writes_each_spatial_padding_once_per_side(write_spec, padding, sides):
    """torch's avg_pool2d padding (pH, pW) is MindSpore's (top, bottom, left, right): (2, 3) is (2, 2, 3, 3)."""
    spec = parse_spec(write_spec(POOL2D))
    record = {"entry": "nn.functional.avg_pool2d", "signature": ["input", "kernel_size", "stride", "padding"]}
    sample = {"call": {"args": [_tensor("a", [1, 3, 9, 9]), 6], "kwargs": {"padding": padding}}}
    derived, _ = translate(spec, record, sample, "opinfo")
    assert derived.sides["mindspore"].call["padding"] == sides


INDEX_PUT = """
name: t.index_put
inputs:
  - {name: input, shape: [6, 8]}
  - {name: rows, shape: [4], dtype: int64, grad: false, distribution: {integers: {low: 0, high: 6}}}
  - {name: values, shape: [4]}
torch: {op: torch.Tensor.index_put, args: [input, [rows], values]}
mindspore: {op: mindspore.Tensor.index_put, args: [input, [rows], values]}
explore:
  signature: [input, indices, values, accumulate]
  arguments: {indices: indices, accumulate: accumulate}
"""


def test_a_samples_tensor_sequence_takes_the_specs_own_slot_on_mindspore(write_spec):
    """index_put(input, indices, values): the sample's indices replace the spec's [rows] in place; after values,
    MindSpore read the values as the indices (TypeError: should have ListTensor or TupleTensor input)."""
    spec = parse_spec(write_spec(INDEX_PUT))
    record = {"entry": "index_put", "signature": ["input", "indices", "values", "accumulate"]}
    sample = {"call": {"args": [_tensor("a", [5, 5]), {"list": [_tensor("i", [2], "int64")]}, _tensor("v", [2, 5])],
                       "kwargs": {"accumulate": False}}}
    derived, _ = translate(spec, record, sample, "opinfo")
    assert derived.sides["torch"].args == ("input", ("indices_0",), "values")
    assert derived.sides["mindspore"].args == ("input", ("indices_0",), "values")


MAX = """
name: t.max
inputs: [{name: input, shape: [4, 5]}]
torch: {op: torch.max, call: {dim: 1}}
mindspore: {op: mindspore.mint.max, call: {dim: 1}}
outputs: [values, indices]
explore:
  signature: {binary: [input, other], reduction_with_dim: [input, dim, keepdim]}
  arguments: {other: other, dim: dim, keepdim: keepdim}
"""


@pytest.mark.parametrize("entry, second", [("max.binary", "other"), ("max.reduction_with_dim", "dim")])
def test_each_variant_binds_its_positionals_by_its_own_signature(write_spec, entry, second):
    """torch.max's docstring yields one signature for every variant, (input, dim, keepdim): the binary variant's
    second tensor would reach MindSpore as dim=Tensor. The spec's per-variant signature names it `other`."""
    spec = parse_spec(write_spec(MAX))
    record = {"entry": entry, "signature": ["input", "dim", "keepdim"]}
    value = _tensor("b", [4, 5]) if second == "other" else 0
    derived, tensors = translate(spec, record, {"call": {"args": [_tensor("a", [4, 5]), value], "kwargs": {}}}, "opinfo")
    if second == "other":
        assert tensors == (("input", "a"), ("other", "b")) and "dim" not in derived.sides["mindspore"].call
    else:
        assert derived.sides["mindspore"].call == {"dim": 0}


def test_a_variant_signature_names_each_parameter_once(write_spec):
    with pytest.raises(SpecError, match="twice"):
        parse_spec(write_spec(MAX.replace("[input, other]", "[input, input]")))


@pytest.mark.parametrize("kwargs, kind, args", [
    ({"dilation": 2}, "unmapped", ("dilation",)),
    ({"reduction": "sum"}, "unmapped", ("reduction=sum",)),
    ({"reduction": "none"}, "not_supported", ("reduction=none",)),  # a value the table marks unsupported
    ({"memory_format": {"torch": "torch.channels_last"}}, "not_supported", ("memory_format=torch.channels_last",)),
    ({"memory_format": None}, None, None),  # the unsupported argument at its default runs
])
def test_an_argument_the_map_does_not_cover_is_counted_not_guessed(write_spec, kwargs, kind, args):
    spec = parse_spec(write_spec(CONV))
    if kind is None:
        translate(spec, CONV_RECORD, _conv_sample(**kwargs), "opinfo")
        return
    with pytest.raises(Skip) as info:
        translate(spec, CONV_RECORD, _conv_sample(**kwargs), "opinfo")
    assert (info.value.kind, info.value.args) == (kind, args)


def test_an_unsupported_input_rank_and_a_positional_past_the_signature(write_spec):
    spec = parse_spec(write_spec(CONV))
    sample = {"call": {"args": [_tensor("a", [2, 5, 5]), _tensor("b", [2, 2, 3, 3])], "kwargs": {}}}
    with pytest.raises(Skip) as info:
        translate(spec, CONV_RECORD, sample, "opinfo")
    assert info.value.args == ("input ndim=3",)
    sample = {"call": {"args": [_tensor("a", [1, 2, 5, 5]), _tensor("b", [2, 2, 3, 3]), None, 1, 0, 7], "kwargs": {}}}
    with pytest.raises(Skip) as info:
        translate(spec, {**CONV_RECORD}, sample, "opinfo")
    assert info.value.kind == "unmapped" and "positional #5" in info.value.args[-1]


def test_positional_non_tensors_stay_positional_on_torch(write_spec):
    spec = parse_spec(write_spec(SUM_AXIS))
    sample = {"call": {"args": [_tensor("a", [3, 4]), 1], "kwargs": {"keepdim": True}}}
    derived, _ = translate(spec, {"entry": "sum", "signature": ["input", "dim"]}, sample, "opinfo")
    assert derived.sides["torch"].args == ("input", Literal(1)) and derived.sides["torch"].call == {"keepdim": True}
    assert derived.sides["mindspore"].call == {"axis": 1, "keepdim": True}


GATHER = """
name: t.gather
inputs:
  - {name: input, shape: [4, 6]}
  - {name: index, shape: [4, 3], dtype: int64, grad: false, distribution: {integers: {low: 0, high: 6}}}
torch: {op: torch.gather, args: [input, {value: 1}, index]}
mindspore: {op: mindspore.mint.gather, args: [input, {value: 1}, index]}
explore: {arguments: {dim: dim}}
"""


def test_the_specs_own_positional_choice_gives_way_to_the_samples_value_in_its_slot(write_spec):
    spec = parse_spec(write_spec(GATHER))
    record = {"entry": "gather", "signature": ["input", "dim", "index"]}
    sample = {"call": {"args": [_tensor("a", [3, 5]), 0, _tensor("i", [2, 5], "int64")], "kwargs": {}}}
    derived, _ = translate(spec, record, sample, "opinfo")
    assert derived.sides["mindspore"].args == ("input", Literal(0), "index") and derived.sides["mindspore"].call == {}
    by_keyword = {"call": {"args": [_tensor("a", [3, 5])], "kwargs": {"dim": 0, "index": _tensor("i", [2, 5], "int64")}}}
    derived, _ = translate(spec, record, by_keyword, "opinfo")
    assert derived.sides["mindspore"].args == ("input", Literal(0), "index") and derived.sides["mindspore"].call == {}


def test_a_trailing_spec_choice_the_sample_leaves_out_is_left_out_on_mindspore_too(write_spec):
    spec = parse_spec(write_spec(SUM.replace("torch: {op: torch.sum}", "torch: {op: torch.sum, args: [input, {value: 1}]}")
                                .replace("mindspore: {op: mindspore.ops.sum}",
                                         "mindspore: {op: mindspore.ops.sum, args: [input, {value: 1}], call: {keepdim: false}}")
                                + "explore: {arguments: {dim: axis, keepdim: keepdim}}\n"))
    whole = {"call": {"args": [_tensor("a", [3, 4])], "kwargs": {}}}
    derived, _ = translate(spec, {"entry": "sum", "signature": ["input", "dim"]}, whole, "opinfo")
    assert derived.sides["torch"].args == ("input",) and derived.sides["mindspore"].args == ("input",)
    assert derived.sides["mindspore"].call == {"keepdim": False}  # MindSpore's own keyword stays: torch sets none


DROPOUT = """
name: t.dropout
inputs: [{name: input, shape: [8, 16]}]
torch: {op: torch.nn.functional.dropout, call: {p: 0.5, training: false}}
mindspore: {op: mindspore.ops.dropout, call: {p: 0.5, training: false}}
"""


def test_an_argument_the_spec_sets_and_the_sample_leaves_to_torchs_default_needs_a_map(write_spec):
    spec = parse_spec(write_spec(DROPOUT))
    bare = {"call": {"args": [_tensor("a", [4, 5])], "kwargs": {}}}  # torch then drops at random: training=True
    with pytest.raises(Skip) as skip:
        translate(spec, {"entry": "nn.functional.dropout", "signature": ["input"], "defaults": {}}, bare, "opinfo")
    assert skip.value.kind == "unmapped" and set(skip.value.args) == {"p", "training"}
    record = {"entry": "nn.functional.dropout", "signature": ["input"], "defaults": {"p": 0.5, "training": False}}
    derived, _ = translate(spec, record, bare, "opinfo")  # the spec's values are torch's defaults: MindSpore's stand
    assert derived.sides["mindspore"].call == {"p": 0.5, "training": False}


# ---- real samples from op_db ------------------------------------------------------------------------------


def test_list_explore_names_each_sample_and_counts_unmapped(cli, write_spec, sample_cache):
    result = cli("list", write_spec(SUM.replace("mindspore.ops.sum", "mindspore.ops.reduce_sum")), "--explore")
    ids = result.stdout.splitlines() if hasattr(result, "stdout") else result.text.splitlines()
    explored = [i for i in ids if ",sample=" in i]
    assert result.exit_code == 0, result.text
    assert explored and all(i.startswith("t.sum[float32,sample=") for i in explored)
    assert "unmapped (dim)" in result.text  # reduce_sum(x, axis) with no map: samples setting dim are counted, not run


def test_run_explore_records_each_sample_and_the_counts(cli, write_spec, sample_cache, tmp_path):
    report = tmp_path / "r.json"
    # not its --boundary variants: t.sum over an empty input is MindSpore returning memory it never wrote (docs/boundary.md)
    result = cli("run", write_spec(SUM_MAPPED), "--explore", "--json", report, "-k", "not boundary")
    assert result.exit_code == 0, result.text
    document = read_json(report)
    explored = [c for c in document["cases"] if "sample" in c]
    counts = document["explore"]["t.sum"]
    assert counts["entry"] == "sum" and counts["unmapped"] == {} and counts["run"] == counts["samples"] == len(explored) > 10
    kwargs = [c["sample"]["kwargs"] for c in explored]
    assert {"dim": 0, "keepdim": True} in kwargs  # the sample's torch arguments, recorded
    first = explored[0]["sample"]["args"][0]
    assert set(first) == {"shape", "dtype"}  # tensors as shape and dtype
    assert all(c["status"] == "pass" for c in explored)
    assert "explored samples" in result.text and "t.sum" in result.text


def test_a_wrong_rename_fails_on_the_samples_it_reaches(cli, write_spec, sample_cache, tmp_path):
    """Planted: keepdim mapped onto MindSpore's dim, so samples with keepdim give the wrong shape or error."""
    report = tmp_path / "r.json"
    wrong = SUM + "explore: {arguments: {dim: dim, keepdim: {name: dim}}}\n"
    result = cli("run", write_spec(wrong), "--explore", "--json", report)
    assert result.exit_code == 1
    bad = [c for c in read_json(report)["cases"] if "sample" in c and c["status"] != "pass"]
    assert bad and all("keepdim" in c["sample"]["kwargs"] for c in bad)


UNIQUE = """
name: t.unique_consecutive
inputs: [{name: input, shape: [12], distribution: {integers: {low: 0, high: 3}}}]
torch: {op: torch.unique_consecutive, call: {return_counts: true}}
mindspore: {op: mindspore.ops.unique_consecutive, call: {return_counts: true}}
outputs: [output, counts]
explore: {signature: [input, return_inverse, return_counts, dim]}
"""


def test_a_sample_that_changes_the_outputs_count_is_compared_by_path(cli, write_spec, sample_cache, tmp_path):
    """The spec's output names describe its own call; a sample asking for fewer or more outputs (return_inverse,
    return_counts=False) is still compared, row by row, under out / out.0 ... -- not an error of the harness."""
    report = tmp_path / "r.json"
    cli("run", write_spec(UNIQUE), "--explore", "--json", report, "-k", "not boundary")
    explored = [c for c in read_json(report)["cases"] if "sample" in c]
    assert explored and not [c["message"] for c in explored if c["status"] == "error"]
    three = [c for c in explored if c["sample"]["kwargs"].get("return_inverse") and c["sample"]["kwargs"].get("return_counts")]
    assert three and all([o["name"] for o in c["outputs"]] == ["out.0", "out.1", "out.2"] for c in three)
    assert any(c["status"] == "pass" for c in three)
    named = [c for c in explored if c["sample"]["kwargs"].get("return_counts") and not c["sample"]["kwargs"].get("return_inverse")]
    assert named and all([o["name"] for o in c["outputs"]] == ["output", "counts"] for c in named)


def test_a_plain_case_returning_another_count_than_its_outputs_is_an_error(cli, write_spec, tmp_path):
    report = tmp_path / "r.json"
    cli("run", write_spec(UNIQUE.replace("[output, counts]", "[output, counts, inverse]")), "--json", report)
    (case,) = read_json(report)["cases"]
    assert case["status"] == "error" and "the spec names 3 outputs" in case["message"]


def test_samples_are_the_same_bytes_from_a_fresh_cache(sample_cache, tmp_path):
    folder = cache.folder("opinfo")
    first = np.load(folder / "nn.functional.relu.npz")
    env = {**os.environ, cache.CACHE_ENV: str(tmp_path / "fresh")}
    code = "from eqcheck.backends.samples import cache; print(cache.folder('opinfo'));cache.entries('opinfo', ['nn.functional.relu'])"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    again_folder = proc.stdout.strip().splitlines()[-1]
    again = np.load(os.path.join(again_folder, "nn.functional.relu.npz"))
    assert sorted(first.files) == sorted(again.files) and first.files
    assert all(np.array_equal(first[k], again[k]) for k in first.files)
    assert json.loads((folder / "nn.functional.relu.json").read_text()) == \
        json.loads(open(os.path.join(again_folder, "nn.functional.relu.json")).read())


@pytest.mark.frameworks
def test_explored_cases_compose_with_edges_and_worker_processes(cli, write_spec, sample_cache, tmp_path):
    report = tmp_path / "r.json"
    result = cli("run", write_spec(RELU), "--explore", "--edges", "--jobs", "2", "--json", report, "-k", "sample")
    cases = {c["id"]: c for c in read_json(report)["cases"]}
    ids = list(cases)
    assert "t.relu[float32,sample=1]" in ids and "t.relu[float32,sample=1,edge=nan]" in ids, result.text
    assert cases["t.relu[float32,sample=1]"]["status"] == "pass"
    # MindSpore's relu maps NaN to 0 (a known difference, declared in configs/activations/F.relu.yaml): the NaN
    # overlay landed on the sample's own values
    assert cases["t.relu[float32,sample=1,edge=nan]"]["status"] == "fail"
    assert not any("zero_batch" in i or "single" in i for i in ids)  # a sample's tensors fix its sizes


@pytest.mark.frameworks
def test_explored_cases_split_across_export_and_against(cli, write_spec, sample_cache, tmp_path):
    spec = write_spec(SUM_MAPPED)
    folder = tmp_path / "side"
    exported = cli("run", spec, "--explore", "--targets", "torch", "--export-side", folder, "-k", "sample")
    assert exported.exit_code == 0, exported.text
    report = tmp_path / "r.json"
    against = cli("run", spec, "--explore", "--targets", "mindspore", "--against", folder, "-k", "sample", "--json", report)
    assert against.exit_code == 0, against.text
    assert sum(",sample=" in c["id"] for c in read_json(report)["cases"]) > 10
    refused = cli("run", spec, "--targets", "mindspore", "--against", folder)
    assert refused.exit_code == 2 and "explore" in refused.text  # the halves must agree on --explore


FAKE_EXPECTTEST = "raise ModuleNotFoundError(\"No module named 'expecttest'\")\n"


def test_without_expecttest_explore_is_one_paragraph_and_a_plain_run_is_untouched(tmp_path, write_spec):
    shadow = tmp_path / "shadow"
    (shadow / "expecttest").mkdir(parents=True)
    (shadow / "expecttest" / "__init__.py").write_text(FAKE_EXPECTTEST)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(shadow), str(ROOT)]), cache.CACHE_ENV: str(tmp_path / "c")}
    spec = write_spec(RELU)
    run = lambda *a: subprocess.run([sys.executable, "-m", "eqcheck", *a], cwd=ROOT, env=env, capture_output=True,
                                    text=True, timeout=600)
    refused = run("list", str(spec), "--explore")
    assert refused.returncode == 2, refused.stderr
    assert "expecttest" in refused.stderr and "Traceback" not in refused.stderr
    assert len([line for line in refused.stderr.strip().splitlines() if line.strip()]) == 1
    plain = run("list", str(spec))
    assert plain.returncode == 0 and plain.stdout.strip() == "t.relu[float32]"


def test_an_explored_case_is_fed_the_samples_own_values(write_spec, sample_cache):
    from eqcheck.cases.draws import make_inputs
    from eqcheck.cases.explore import explore_cases

    spec = parse_spec(write_spec(SUM_MAPPED))
    cases = explore_cases([spec], ("float64",))[0]["t.sum"]
    stored = np.load(cases[3].sample.arrays)
    inputs = make_inputs(cases[3], seed=1)
    assert inputs["input"].dtype == np.float64  # cast to the case's dtype (--dtype composes this way)
    assert np.array_equal(inputs["input"], stored[dict(cases[3].sample.tensors)["input"]].astype(np.float64))


def test_list_explore_imports_no_framework(write_spec, sample_cache):
    probe = ("import sys\nfrom eqcheck.cli import main\ntry:\n    main(['list', %r, '--explore'])\nexcept SystemExit:\n    pass\n"
             "print('HEAVY=' + ','.join(m for m in ('torch', 'mindspore', 'numpy') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", probe % str(write_spec(SUM))], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env={**os.environ, cache.CACHE_ENV: str(sample_cache)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY=", proc.stdout


def test_scaffold_takes_shapes_and_the_argument_map_from_torchs_samples(cli, sample_cache, tmp_path):
    out = tmp_path / "draft.yaml"
    result = cli("scaffold", "torch.sum", "mindspore.ops.sum", "-o", out)
    assert result.exit_code == 0, result.text
    text = out.read_text()
    assert "explore:  # from torch's 20 opinfo samples of sum" in text
    assert "dim: dim" in text and "keepdim: keepdim" in text  # renames from both signatures
    assert "shape: [4, 16]" not in text  # a sample's shape, not the old guess
    parse_spec(out)  # the draft is a valid spec


def test_scaffold_drafts_a_non_empty_sample_shape(cli, sample_cache, tmp_path):
    # softmax's samples include a [5, 0, 0] input: an empty tensor is a boundary variant, not the spec's shape
    out = tmp_path / "draft.yaml"
    assert cli("scaffold", "torch.nn.functional.softmax", "mindspore.ops.softmax", "-o", out).exit_code == 0
    shape = parse_spec(out).inputs[0].shape
    assert shape and 0 not in shape, shape


def test_a_sample_not_reproducing_a_declared_difference_is_a_pass(cli, write_spec, sample_cache, tmp_path):
    report = tmp_path / "r.json"
    declared = SUM_MAPPED + "expected_difference: {reason: 'declared for the spec point only', rows: {out: {symptom: value, max_abs: 1}}}\n"
    cli("run", write_spec(declared), "--explore", "--json", report, "-k", "sample")
    statuses = {c["status"] for c in read_json(report)["cases"]}
    assert statuses == {"pass"}  # not unexpected_pass: the declaration names the spec's own point


AMAX = """
name: t.amax
inputs: [{name: input, shape: [4, 5]}]
torch: {op: torch.amax, call: {dim: 1}}
mindspore: {op: mindspore.ops.amax, call: {axis: 1}}
explore: {arguments: {dim: {name: axis, default: []}, keepdim: keepdims}}
"""


@pytest.mark.frameworks
def test_an_error_input_mindspore_accepts_is_its_own_class(cli, write_spec, sample_cache, tmp_path):
    """torch.amax refuses an empty input without dim; mindspore.ops.amax returns a value (found by --explore)."""
    report = tmp_path / "r.json"
    result = cli("run", write_spec(AMAX), "--explore", "--json", report, "-k", "error_input")
    assert result.exit_code == 0, result.text  # reported, not gating
    document = read_json(report)
    [case] = document["cases"]
    assert case["id"] == "t.amax[float32,error_input=0]" and case["status"] == "accepts_invalid"
    assert case["refusal"]["torch"] and case["refusal"]["mindspore"] is None
    assert document["summary"]["accepts_invalid"] == 1 and "accepted an input torch refuses" in result.text


@pytest.mark.frameworks
def test_error_inputs_both_sides_refuse_pass(cli, copy_config, sample_cache, tmp_path):
    report = tmp_path / "r.json"
    result = cli("run", copy_config("nn/F.conv2d.yaml"), "--explore", "--json", report, "-k", "error_input")
    assert result.exit_code == 0, result.text
    cases = read_json(report)["cases"]
    assert len(cases) >= 5 and {c["status"] for c in cases} == {"pass"}
    assert all(c["refusal"]["torch"] and c["refusal"]["mindspore"] for c in cases)


def test_a_difference_is_declared_narrowly_by_a_samples_torch_argument(write_spec):
    from eqcheck.cases.sweep import Case

    spec = parse_spec(write_spec(SUM_MAPPED + "expected_difference: {reason: measured, when: {dim: [[]]}, symptom: refusal}\n"))
    record = {"entry": "sum", "signature": ["input"]}
    covered, _ = translate(spec, record, {"call": {"args": [_tensor("a", [])], "kwargs": {"dim": {"tuple": []}}}}, "opinfo")
    other, _ = translate(spec, record, {"call": {"args": [_tensor("a", [3])], "kwargs": {"dim": 0}}}, "opinfo")
    assert Case(covered, (), "float32").expected_difference is not None
    assert Case(other, (), "float32").expected_difference is None


def test_a_declaration_names_a_sample_that_leaves_an_argument_at_torchs_default(write_spec):
    """MindSpore's median has no all-elements form: `when: {dim: [null]}` names the samples without dim."""
    from eqcheck.cases.sweep import Case

    spec = parse_spec(write_spec(SUM + "params: {dim: 1}\nexplore: {arguments: {dim: {name: axis, default: null}}}\n"
                                + "expected_difference: {reason: measured, when: {dim: [null]}, symptom: refusal}\n"))
    record = {"entry": "sum", "signature": ["input", "dim"]}
    left_out, _ = translate(spec, record, {"call": {"args": [_tensor("a", [3, 5])], "kwargs": {}}}, "opinfo")
    given, _ = translate(spec, record, {"call": {"args": [_tensor("a", [3, 5])], "kwargs": {"dim": 0}}}, "opinfo")
    assert Case(left_out, (), "float32").expected_difference is not None
    assert Case(given, (), "float32").expected_difference is None
    assert Case(spec, (), "float32").expected_difference is None  # the spec's own point sets dim


def test_a_declaration_names_torchs_samples_by_content_hash_not_index(write_spec, cli):
    """cumprod's samples 6-8 (zeros along dim 1) pass the same arguments as sample 1: only their values tell them apart,
    so a declaration names them by a hash of arguments and tensor bytes, which a torch upgrade does not renumber."""
    import numpy as np

    from eqcheck.cases.explore import sample_hash
    from eqcheck.cases.sweep import Case, expand

    arrays = {"a": np.zeros((3, 5), np.float32), "b": np.ones((3, 5), np.float32)}
    zeros, ones = ({"call": {"args": [_tensor(k, [3, 5]), 1], "kwargs": {}}} for k in "ab")
    digest = sample_hash(zeros, arrays)
    assert digest != sample_hash(ones, arrays) and digest == sample_hash({**zeros, "index": 6}, dict(arrays))
    spec = parse_spec(write_spec(SUM + "sweep: {dim: [1]}\nexplore: {arguments: {dim: dim}}\n"
                                + f"expected_difference: {{reason: measured, when: {{sample: ['{digest}']}}, symptom: refusal}}\n"))
    record = {"entry": "sum", "signature": ["input", "dim"]}
    named = translate(spec, record, zeros, "opinfo", sample_name=digest)[0]
    other = translate(spec, record, ones, "opinfo", sample_name=sample_hash(ones, arrays))[0]
    error_input = translate(spec, record, zeros, "opinfo")[0]  # error inputs are never named
    assert Case(named, (), "float32").expected_difference is not None
    assert Case(other, (), "float32").expected_difference is None and Case(error_input, (), "float32").expected_difference is None
    assert all(c.expected_difference is None for c in expand(spec, ("float32",)))  # the spec's own dim=1 point
    by_index = cli("validate", write_spec(SUM + "explore: {arguments: {dim: dim}}\n"
                                          "expected_difference: {reason: measured, when: {sample: [6]}, symptom: refusal}\n", "index.yaml"))
    assert by_index.exit_code == 2 and "expected_difference.when.sample" in by_index.text and "content hash" in by_index.text


BINARY = """
name: t.nextafter
inputs: [{name: input, shape: [4, 5]}, {name: other, shape: [4, 5]}]
torch: {op: torch.nextafter}
mindspore: {op: mindspore.ops.nextafter}
"""


@pytest.mark.parametrize("klass, shapes, covered", [
    ("broadcast_input", ([5, 1], [5]), True),  # MindSpore's nextafter broadcasts wrongly: declared by this class
    ("broadcast_input", ([5, 5], [5, 5]), False),
    ("one_input", ([1, 1], [1, 1]), True),  # MindSpore's det refuses a 1x1 matrix
    ("one_input", ([5, 5], [5, 5]), False),
])
def test_a_declaration_names_broadcast_and_size_one_samples(write_spec, klass, shapes, covered):
    from eqcheck.cases.sweep import Case

    spec = parse_spec(write_spec(BINARY + f"expected_difference: {{reason: measured, when: {{{klass}: [true]}}, symptom: refusal}}\n"))
    sample = {"call": {"args": [_tensor("a", shapes[0]), _tensor("b", shapes[1])], "kwargs": {}}}
    derived, _ = translate(spec, {"entry": "nextafter", "signature": ["input", "other"]}, sample, "opinfo")
    assert (Case(derived, (), "float32").expected_difference is not None) is covered


POOL = """
name: t.pool
inputs: [{name: input, shape: [2, 3, 8], mindspore: x}]
torch: {op: torch.nn.MaxPool1d, init: {kernel_size: 2}}
mindspore: {op: mindspore.nn.MaxPool1d, init: {kernel_size: 2, stride: 2}}
explore:
  arguments:
    kernel_size: kernel_size
    stride: {name: stride, default: $kernel_size}
"""
POOL_RECORD = {"entry": "torch.nn.MaxPool1d", "signature": ["input"], "init_signature": ["kernel_size", "stride"]}


def _pool_sample(*init_args, **init_kwargs) -> dict:
    return {"init": {"args": list(init_args), "kwargs": init_kwargs}, "call": {"args": [_tensor("a", [2, 3, 8])], "kwargs": {}}}


def test_a_default_may_follow_another_argument_of_the_sample(write_spec):
    spec = parse_spec(write_spec(POOL))
    derived, _ = translate(spec, POOL_RECORD, _pool_sample(3), "module")  # torch's stride=None means kernel_size
    assert derived.sides["torch"].init == {"kernel_size": 3}
    assert derived.sides["mindspore"].init == {"kernel_size": 3, "stride": 3}
    derived, _ = translate(spec, POOL_RECORD, _pool_sample(3, 1), "module")  # a stride the sample sets wins
    assert derived.sides["mindspore"].init == {"kernel_size": 3, "stride": 1}


def test_a_default_expression_names_a_mapped_argument_or_a_param(cli, write_spec):
    path = write_spec(POOL.replace("default: $kernel_size", "default: $kernel"))
    result = cli("validate", str(path))
    assert result.exit_code == 2 and "explore.arguments.stride.default" in result.output
    assert "'kernel'" in result.output and "Traceback" not in result.output


@pytest.mark.frameworks
def test_a_sample_only_mindspore_refuses_is_declared_by_its_arguments(cli, write_spec, sample_cache, tmp_path):
    """mindspore.ops.sum refuses keepdim='yes' (the map's value for torch's keepdim=True): declared by `when:` it is
    the expected difference; a spec-wide declaration does not turn the refusal into one."""
    report = tmp_path / "r.json"
    refused = SUM + "explore: {arguments: {dim: dim, keepdim: {values: {true: 'yes', false: false}}}}\n"
    narrow = refused + "expected_difference: {reason: 'MindSpore refuses it', when: {keepdim: [true]}, symptom: refusal}\n"
    result = cli("run", write_spec(narrow), "--explore", "--json", report, "-k", "sample")
    assert result.exit_code == 0, result.text
    cases = [c for c in read_json(report)["cases"] if c["sample"]["kwargs"].get("keepdim") is True]
    assert cases and {c["status"] for c in cases} == {"expected_difference"}
    wide = refused + "expected_difference: {reason: 'MindSpore refuses it', rows: {out: {symptom: value, max_abs: 1}}}\n"
    result = cli("run", write_spec(wide), "--explore", "--json", report, "-k", "sample")
    assert result.exit_code == 1
    cases = [c for c in read_json(report)["cases"] if c["sample"]["kwargs"].get("keepdim") is True]
    assert cases and {c["status"] for c in cases} == {"error"}


@pytest.mark.frameworks
def test_a_frozen_parameter_torch_does_not_build_is_left_unshared(cli, copy_config, sample_cache, tmp_path):
    """nn.GroupNorm(affine=False): torch has no weight, MindSpore a frozen gamma of ones; the sample runs and passes."""
    report = tmp_path / "r.json"
    result = cli("run", copy_config("normalization/GroupNorm.yaml"), "--explore", "--json", report, "-k", "sample=4")
    assert result.exit_code == 0, result.text
    [case] = read_json(report)["cases"]
    assert case["sample"]["init"]["args"][3] is False and case["status"] == "pass"


LRN = """
name: t.lrn
inputs: [{name: input, shape: [1, 5, 7, 7]}]
torch: {op: torch.nn.LocalResponseNorm, init: {size: 3}}
mindspore: {op: mindspore.nn.LRN, init: {depth_radius: 1, alpha: 0.0001}}
explore:
  arguments:
    size: {name: depth_radius, values: {3: 1}}
    alpha: {name: alpha, default: 0.0001, value: "$value / size"}
"""
LRN_RECORD = {"entry": "torch.nn.LocalResponseNorm", "signature": ["input"], "init_signature": ["size", "alpha"]}


def test_a_value_expression_may_name_the_samples_other_arguments(write_spec):
    spec = parse_spec(write_spec(LRN))
    sample = {"init": {"args": [3, 0.3], "kwargs": {}}, "call": {"args": [_tensor("a", [1, 5, 7, 7])], "kwargs": {}}}
    derived, _ = translate(spec, LRN_RECORD, sample, "module")
    assert derived.sides["mindspore"].init == {"depth_radius": 1, "alpha": pytest.approx(0.1)}
    sample["init"]["args"] = [3]  # torch's default alpha, divided the same way
    derived, _ = translate(spec, LRN_RECORD, sample, "module")
    assert derived.sides["mindspore"].init["alpha"] == pytest.approx(0.0001 / 3)


LAYER_NORM = """
name: t.layer_norm
inputs: [{name: input, shape: [4, 5], mindspore: x}]
torch: {op: torch.nn.LayerNorm, init: {normalized_shape: [5]}}
mindspore: {op: mindspore.nn.LayerNorm, init: {normalized_shape: [5], begin_norm_axis: -1}}
explore:
  arguments:
    normalized_shape: {cast: tuple, set: {begin_norm_axis: "$len(input) - len(value)"}}
"""


def test_a_set_expression_follows_the_value_and_the_inputs_rank(write_spec):
    spec = parse_spec(write_spec(LAYER_NORM))
    record = {"entry": "torch.nn.LayerNorm", "signature": ["input"], "init_signature": ["normalized_shape"]}
    sample = {"init": {"args": [{"list": [2, 2, 5]}], "kwargs": {}}, "call": {"args": [_tensor("a", [4, 2, 2, 5])], "kwargs": {}}}
    derived, _ = translate(spec, record, sample, "module")
    assert derived.sides["mindspore"].init == {"normalized_shape": (2, 2, 5), "begin_norm_axis": 1}


def test_a_set_expression_names_what_it_may_use(cli, write_spec):
    result = cli("validate", str(write_spec(LAYER_NORM.replace("len(input)", "len(inptu)"))))
    assert result.exit_code == 2 and "explore.arguments.normalized_shape.set.begin_norm_axis" in result.output
    assert "'inptu'" in result.output and "Traceback" not in result.output


CAT = """
name: t.cat
grad: true
inputs: [{name: a, shape: [3, 2]}, {name: b, shape: [3, 4]}]
torch: {op: torch.cat, call: {dim: 1}, args: [[a, b]]}
mindspore: {op: mindspore.ops.cat, call: {axis: 1}, args: [[a, b]]}
explore: {arguments: {tensors: tensors, dim: axis}}
"""


def test_a_sequence_of_tensors_becomes_one_tuple_of_shared_inputs_on_both_sides(write_spec):
    spec = parse_spec(write_spec(CAT))
    group = {"tuple": [_tensor("s0", [2, 3]), _tensor("s1", [4, 3]), _tensor("s2", [1, 3])]}
    derived, tensors = translate(spec, {"entry": "cat", "signature": ["tensors", "dim"]},
                                 {"call": {"args": [group], "kwargs": {"dim": 0}}}, "opinfo")
    assert tensors == (("tensors_0", "s0"), ("tensors_1", "s1"), ("tensors_2", "s2"))
    assert [i.shape for i in derived.inputs] == [(2, 3), (4, 3), (1, 3)]
    group_names = ("tensors_0", "tensors_1", "tensors_2")
    assert derived.sides["torch"].args == (group_names,) and derived.sides["mindspore"].args == (group_names,)
    assert derived.sides["mindspore"].call == {"axis": 0}
    unmapped = parse_spec(write_spec(CAT.replace("tensors: tensors, ", "")))
    with pytest.raises(Skip) as info:  # without a map entry the sequence is counted, not passed
        translate(unmapped, {"entry": "cat", "signature": ["tensors", "dim"]},
                  {"call": {"args": [group], "kwargs": {}}}, "opinfo")
    assert info.value.args == ("tensors",)


STD = """
name: t.std
inputs: [{name: input, shape: [4, 5]}]
torch: {op: torch.std}
mindspore: {op: mindspore.ops.std}
explore:
  arguments:
    correction: {name: ddof, default: 1}
    unbiased: {name: ddof, values: {true: 1, false: 0}}
"""


def test_a_default_does_not_overwrite_what_a_passed_alias_set(write_spec):
    spec = parse_spec(write_spec(STD))
    record = {"entry": "std", "signature": ["input"]}
    derived, _ = translate(spec, record, {"call": {"args": [_tensor("a", [4, 5])], "kwargs": {"unbiased": False}}}, "opinfo")
    assert derived.sides["mindspore"].call == {"ddof": 0}  # not torch's correction=1 default
    derived, _ = translate(spec, record, {"call": {"args": [_tensor("a", [4, 5])], "kwargs": {}}}, "opinfo")
    assert derived.sides["mindspore"].call == {"ddof": 1}


def test_a_refused_rank_inside_a_sequence_is_not_supported(write_spec):
    spec = parse_spec(write_spec(CAT.replace("explore: {arguments: {tensors: tensors, dim: axis}}",
                                            "explore: {arguments: {tensors: tensors, dim: axis}, unsupported_inputs: "
                                            "{tensors: {ndim: [1], reason: legacy empty}}}")))
    group = {"list": [_tensor("s0", [0]), _tensor("s1", [5, 5])]}
    with pytest.raises(Skip) as info:
        translate(spec, {"entry": "cat", "signature": ["tensors", "dim"]}, {"call": {"args": [group], "kwargs": {}}}, "opinfo")
    assert (info.value.kind, info.value.args) == ("not_supported", ("tensors ndim=1",))


def test_an_error_input_that_is_only_a_float_dtype_mismatch_is_not_run(write_spec, sample_cache):
    from eqcheck.cases.explore import explore_cases

    spec = parse_spec(write_spec("""
name: t.scatter_add
inputs: [{name: input, shape: [3, 5]}, {name: index, shape: [2, 2], dtype: int64, distribution: {integers: {low: 0, high: 2}}},
         {name: src, shape: [2, 5]}]
torch: {op: torch.scatter_add, call: {dim: 0}}
mindspore: {op: mindspore.ops.tensor_scatter_elements, call: {axis: 0, reduction: add}}
explore: {arguments: {dim: axis}}
"""))
    cases, tallies = explore_cases([spec], ("float32",))
    errors = [c for c in cases["t.scatter_add"] if c.sample.error is not None]
    # error input 0 is float64 input + float32 src: with both cast to the case dtype torch would accept it
    assert 0 not in [c.sample.index for c in errors] and tallies["t.scatter_add"]["error_inputs"]["run"] == len(errors)


def test_a_declaration_for_empty_inputs_covers_exactly_the_samples_with_an_empty_tensor(cli, sample_cache, tmp_path):
    # MindSpore's CPU matmul leaves its output unwritten when the contraction dimension is 0 (torch: zeros)
    report = tmp_path / "r.json"
    result = cli("run", CONFIGS / "linalg" / "matmul.yaml", "--explore", "-k", "sample", "--json", report)
    assert result.exit_code == 0, result.text
    cases = read_json(report)["cases"]
    empty = {c["id"] for c in cases if any(0 in a["shape"] for a in c["sample"]["args"] if isinstance(a, dict))}
    declared = {c["id"] for c in cases if c["status"] == "expected_difference"}
    assert declared and declared < empty  # an empty sample that agrees (an empty output, sample 10) just passes
    assert {c["status"] for c in cases if c["id"] not in declared} == {"pass"}


@pytest.mark.frameworks
def test_module_error_inputs_run_as_error_input_cases_with_opinfos_statuses(cli, copy_config, sample_cache, tmp_path):
    """ModuleInfo's module_error_inputs_func, cached per mode: both refusing passes, MindSpore's CrossEntropyLoss
    taking ignore_index with class-probability targets (torch refuses) is accepts_invalid."""
    record = cache.entries("module", ["torch.nn.CrossEntropyLoss"])["torch.nn.CrossEntropyLoss"]
    assert record["errors"] and {e["error_on"] for e in record["errors"]} <= {"construction_error", "forward_error"}
    report = tmp_path / "r.json"
    result = cli("run", copy_config("losses/CrossEntropyLoss.yaml"), "--explore", "--json", report, "-k", "error_input")
    assert result.exit_code == 0, result.text
    statuses = {c["id"]: c["status"] for c in read_json(report)["cases"]}
    assert statuses["nn.CrossEntropyLoss[float32,error_input=4]"] == "accepts_invalid"
    assert len(statuses) >= 5 and set(statuses.values()) == {"pass", "accepts_invalid"}


def test_module_error_inputs_torch_accepts_in_eval_mode_are_left_out(sample_cache):
    """torch refuses eps=0 in batch norm only while training: the eval list drops it, the train list keeps it."""
    record = cache.entries("module", ["torch.nn.BatchNorm2d"])["torch.nn.BatchNorm2d"]
    assert [e["init"]["kwargs"] for e in record["errors_train"]] == [{"eps": -1.0}, {"eps": 0.0}]
    assert [e["init"]["kwargs"] for e in record["errors"]] == [{"eps": -1.0}]
    assert "1 error inputs torch accepts in eval mode" in record["note_errors"]


def test_a_corrupt_cached_entry_is_rebuilt_once_with_a_warning(sample_cache, tmp_path, monkeypatch):
    """A truncated .npz made every explored case of its op an error row, every run, never rebuilt (#32)."""
    import shutil

    copy = tmp_path / "samples"
    shutil.copytree(sample_cache, copy)
    monkeypatch.setenv(cache.CACHE_ENV, str(copy))
    arrays = cache.entry_file("opinfo", "nn.functional.relu").with_suffix(".npz")
    with np.load(arrays) as data:
        good = {k: data[k] for k in data.files}
    arrays.write_bytes(arrays.read_bytes()[: arrays.stat().st_size // 2])
    assert not cache.intact(arrays)
    with pytest.warns(UserWarning, match="nn.functional.relu .* are corrupt \\(checksum\\); rebuilding them"):
        cache.entries("opinfo", ["nn.functional.relu", "sum"])
    assert cache.intact(arrays)
    with np.load(arrays) as again:
        assert sorted(again.files) == sorted(good) and all(np.array_equal(good[k], again[k]) for k in good)


def test_an_op_with_variant_entries_is_fed_by_each_variant_and_ids_say_which(write_spec, sample_cache):
    from eqcheck.cases.explore import explore_cases

    spec = parse_spec(write_spec("""
name: t.max
inputs: [{name: input, shape: [4, 5]}]
torch: {op: torch.max}
mindspore: {op: mindspore.ops.maximum}
"""))
    cases, tallies = explore_cases([spec], ("float32",))
    tally = tallies["t.max"]  # op_db has no `max`: max.binary, max.reduction_no_dim, max.reduction_with_dim
    assert set(tally["entries"]) == {"max.binary", "max.reduction_no_dim", "max.reduction_with_dim"}, tally
    assert tally["samples"] == sum(e["samples"] for e in tally["entries"].values()) > 0
    assert tally["run"] == sum(e["run"] for e in tally["entries"].values()) > 0 and "note" not in tally
    variants = {c.sample.variant for c in cases["t.max"] if c.sample.error is None}
    assert variants <= {"binary", "reduction_no_dim"} and variants, variants  # with_dim needs a dim map
    for case in cases["t.max"]:
        assert f"sample={case.sample.variant}.{case.sample.index}]" in case.id or "error_input=" in case.id
    first = next(c for c in cases["t.max"] if c.sample.error is None)  # `when: {sample: [reduction_no_dim.0]}` names it
    assert first.spec.params["sample"] == f"{first.sample.variant}.{first.sample.index}"
    assert len({c.id for c in cases["t.max"]}) == len(cases["t.max"])  # sample K of two variants: two ids


def test_an_alias_of_a_variant_entry_finds_the_variants(write_spec, sample_cache):
    from eqcheck.cases.explore import explore_cases

    spec = parse_spec(write_spec("""
name: t.divide
inputs: [{name: input, shape: [4, 5]}, {name: other, shape: [4, 5]}]
torch: {op: torch.divide}
mindspore: {op: mindspore.ops.div}
"""))
    cases, tallies = explore_cases([spec], ("float32",))
    tally = tallies["t.divide"]
    assert set(tally["entries"]) == {"div.floor_rounding", "div.no_rounding_mode", "div.trunc_rounding"}, tally
    assert {c.sample.variant for c in cases["t.divide"]} >= {"no_rounding_mode"}  # the variant, not the alias's length


def test_a_torch_argument_mindspore_takes_under_the_same_name_maps_by_default(write_spec):
    spec = parse_spec(write_spec(SUM))  # no explore map at all
    sample = {"call": {"args": [_tensor("a", [4, 5])], "kwargs": {"dim": 1, "keepdim": True}}}
    record = {"entry": "sum", "signature": ["input", "dim", "keepdim"]}
    derived, _ = translate(spec, record, sample, "opinfo", ms_names={"call": ["input", "dim", "keepdim"], "init": None})
    assert derived.sides["mindspore"].call == {"dim": 1, "keepdim": True}
    with pytest.raises(Skip) as info:  # MindSpore names it otherwise: never guessed
        translate(spec, record, sample, "opinfo", ms_names={"call": ["input", "axis", "keep_dims"], "init": None})
    assert (info.value.kind, set(info.value.args)) == ("unmapped", {"dim", "keepdim"})


def test_mindspores_own_names_come_from_its_signature(write_spec, sample_cache):
    from eqcheck.cases.explore import explore_cases

    tally = explore_cases([parse_spec(write_spec(SUM))], ("float32",))[1]["t.sum"]
    assert tally["run"] == tally["samples"] > 0 and not tally["unmapped"], tally  # mindspore.ops.sum(input, dim, keepdim)


def test_a_same_name_argument_the_spec_passes_by_position_takes_its_slot(write_spec):
    spec = parse_spec(write_spec("""
name: t.mvlgamma
inputs: [{name: input, shape: [4, 5], distribution: positive}]
torch: {op: torch.mvlgamma, args: [input, {value: 1}]}
mindspore: {op: mindspore.ops.mvlgamma, args: [input, {value: 1}]}
"""))
    sample = {"call": {"args": [_tensor("a", [4, 5])], "kwargs": {"p": 3}}}
    record = {"entry": "mvlgamma.mvlgamma_p_3", "signature": ["input", "p"]}
    derived, _ = translate(spec, record, sample, "opinfo", ms_names={"call": ["input", "p"], "init": None})
    ms = derived.sides["mindspore"]  # the sample's p in the spec's slot, not beside it (multiple values for 'p')
    assert ms.args == ("input", Literal(3)) and ms.call == {}, (ms.args, ms.call)


def test_the_depth_section_says_per_argument_why_a_sample_is_out_of_reach(write_spec, sample_cache):
    from eqcheck.cases.explore import explore_cases
    from eqcheck.report import depth

    specs = [parse_spec(write_spec(SUM.replace("mindspore.ops.sum", "mindspore.ops.reduce_sum"))),
             parse_spec(write_spec(CONV.replace("t.conv", "t.conv2d")))]
    section = depth.render(specs, explore_cases(specs, ("float32",))[1])
    row = next(line for line in section.splitlines() if line.startswith("| t.sum |"))
    assert "unmapped 'dim'" in row and "no parameter 'dim' (x, axis)" in row, row  # from MindSpore's own signature
    row = next(line for line in section.splitlines() if line.startswith("| t.conv2d |"))
    assert "not supported 'input ndim=3'" in row and "batched only" in row, row  # the map's own reason
    page = depth.splice("# page\n\nrows\n", section)
    assert depth.splice(page, section) == page and page.startswith("# page\n\nrows\n\n## Explore depth")


def test_the_coverage_pages_depth_rows_name_specs_that_exist():
    from eqcheck.report.depth import HEADING

    text = (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8")
    assert HEADING in text, "docs/coverage.md has no explore-depth section: eqcheck coverage --depth-only"
    listed = {line.split(" | ")[0][2:] for line in text.split(HEADING, 1)[1].splitlines() if line.startswith("| ")}
    names = {parse_spec(p).name for p in CONFIGS.rglob("*.yaml")}
    assert listed - {"spec", "---"} <= names, sorted(listed - names - {"spec", "---"})[:5]


def test_a_dispatching_wrappers_signature_is_the_function_it_dispatches_to():
    import torch

    from eqcheck.backends.samples.opinfo import signature

    # boolean_dispatch: (*args, **kwargs) outside, adaptive_max_pool2d(input, output_size, return_indices) inside
    assert signature(torch.nn.functional.adaptive_max_pool2d) == ["input", "output_size", "return_indices"]
    assert signature(torch.sum) and signature(torch.nn.functional.conv2d)[:2] == ["input", "weight"]


WHERE = """
name: t.where
inputs:
  - {name: condition, shape: [4], dtype: bool, grad: false, distribution: {integers: {low: 0, high: 2}}}
  - {name: input, shape: [4]}
  - {name: other, shape: [4]}
torch: {op: torch.where, args: [condition, input, other]}
mindspore: {op: mindspore.ops.where}
explore: {signature: [input, condition, other]}
"""


def test_a_sample_in_its_opinfo_lambdas_order_reaches_torch_in_the_specs_order(write_spec):
    """op_db's `where` samples are (self, condition, other) for a lambda calling torch.where(condition, self, other):
    the spec's torch args (naming the same tensors) give torch.where's order; the sample's order would fail."""
    record = {"entry": "where", "signature": ["self", "condition", "other"]}
    sample = {"call": {"args": [_tensor("a", [4]), _tensor("c", [4], "bool"), _tensor("b", [4])], "kwargs": {}}}
    derived, tensors = translate(parse_spec(write_spec(WHERE)), record, sample, "opinfo", index=0)
    assert derived.sides["torch"].args == ("condition", "input", "other")
    assert derived.sides["mindspore"].args == ("condition", "input", "other")
    assert dict(tensors) == {"input": "a", "condition": "c", "other": "b"}
    unordered = parse_spec(write_spec(WHERE.replace(", args: [condition, input, other]", "")))
    assert translate(unordered, record, sample, "opinfo", index=0)[0].sides["torch"].args == ("input", "condition", "other")


def test_a_c_builtins_signature_is_the_aten_overload_its_samples_bind_to():
    import torch

    from eqcheck.backends.samples.opinfo import signature

    tensor = {"tensor": "t", "shape": [2], "dtype": "float32"}
    # torch.max's docstring lists (input, dim, keepdim) longest; a sample max(x, y) binds to aten::max.other only
    assert signature(torch.max, ("max",), ({"args": [tensor, tensor], "kwargs": {}},)) == ["input", "other"]
    assert signature(torch.max, ("max",), ({"args": [tensor, 1], "kwargs": {"keepdim": True}},)) == \
        ["input", "dim", "keepdim"]
    # masked_fill: no docstring overload at all; the schema's `self` reads `input`
    assert signature(torch.masked_fill, ("masked_fill",)) == ["input", "mask", "value"]
    # a lambda forwarding `*args` (OpInfo's sum_to_size): the schema, not the lambda's own `x`
    assert signature(lambda x, *args: x.sum_to_size(*args), ("sum_to_size",)) == ["input", "size"]
    # the docstring's spelling of the overload the schema picks: broadcast_to(input, shape), aten's (self, size)
    assert signature(torch.broadcast_to, ("broadcast_to",)) == ["input", "shape"]
    assert signature(torch.tensor_split, ("tensor_split",)) == ["input", "indices_or_sections", "dim"]
    # the docstring's own lines under the op's name (linalg.cond is linalg_cond): the Python API's `A`, not `input`;
    # its longest overload where it names every position the samples use (pinv's schema has rcond, hermitian)
    assert signature(torch.linalg.cond, ("linalg_cond",)) == ["A", "p"]
    assert signature(torch.linalg.pinv, ("linalg_pinv",), ({"args": [tensor], "kwargs": {}},)) == ["A"]
    # a Python function's own signature stays the source: F.pad's is (input, pad, mode, value)
    assert signature(torch.nn.functional.pad, ("pad",)) == ["input", "pad", "mode", "value"]


def test_the_depth_section_says_plainly_when_torch_has_no_entry_at_all():
    from eqcheck.report import depth

    specs = [parse_spec(CONFIGS / "lr_scheduler" / "StepLR.yaml"), parse_spec(CONFIGS / "tensor" / "numel.yaml"),
             parse_spec(CONFIGS / "reductions" / "sum.yaml")]
    tallies = {s.name: {"source": "opinfo", "entry": None, "samples": 0, "run": 0, "unmapped": {}, "not_supported": {},
                        "note": f"no opinfo entry '{s.name}'"} for s in specs[:2]}
    tallies[specs[2].name] = {"source": "opinfo", "entry": "sum", "samples": 3, "run": 2, "unmapped": {},
                              "not_supported": {}, "note": "sample_inputs failed: boom"}
    rows = {line.split(" | ")[0][2:]: line for line in depth.render(specs, tallies).splitlines() if line.startswith("| ")}
    assert "not a tensor op" in rows[specs[0].name], rows
    assert "torch's test databases have no samples for it" in rows[specs[1].name], rows
    assert rows[specs[2].name].endswith("sample_inputs failed: boom |"), rows  # any other note stays as it is
