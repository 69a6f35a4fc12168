"""MindSpore's "Differences with torch.X" pages (issue 30): the parser on real page excerpts, the shipped parse's
shape (scripts/diff_pages.py --check), the per-pair reader, the drafted map of a real spec, and the depth section
citing the page."""

from __future__ import annotations

import copy
import json

import pytest

from conftest import CONFIGS, ROOT, load_script
from eqcheck.backends.samples import diff_pages
from eqcheck.spec.loader import parse_spec

PARSED = ROOT / "mapping" / "pytorch_diff-r2.4.10.json"

# Short excerpts of real pages (mindspore-ai/docs r2.4.10, pytorch_diff/): header variants and a typo row.
STD = """# Differences with torch.std

|     PyTorch APIs      |      MindSpore APIs       |
| :-------------------: | :-----------------------: |
|    torch.std     |  mindspore.ops.std   |
|   torch.Tensor.std    |   mindspore.Tensor.std    |

## torch.std

| Categories | Subcategories | PyTorch | MindSpore | Differences  |
| --- |---------------|---------| --- |-------------|
| Parameters       | Parameter 1       | input         | input          | Same function, different parameter names |
|            | Parameter 2       | dim          | axis |  Same function, different parameter names  |
|            | Parameter 3       | unbiased          | ddof | `ddof` is the same as `unbiased` when it is a boolean value |
|            | Parameter 5       | out       | - |  MindSpore does not have this parameter  |
"""
SOFTMIN = """# Differences with torch.nn.Softmin

## torch.nn.Softmin

## mindspore.nn.Softmin

| Classification | Subclass  | PyTorch | MindSpore | difference |
| ---- | ----- | ------- | --------- | -------------------- |
| Parameter | Parameter 1 | dim     | axis      | Same function, different parameter names |
"""
MIXED = """# Differences with torch.nn.MaxPool2d

## torch.nn.MaxPool2d

## mindspore.nn.MaxPool2d

|Categories|Subcategories|PyTorch|MindSpore|Differences|
| --- | --- |--- | --- |---|
|Parameters | Parameter 1 | kernel_size | kernel_size |Consistent function, no default values for PyTorch |
| | Parameter 2 | stride | stride |Consistent function, different default value |
| | Parameter 6 | ceil_mode | ceil_mode | Consistent |
| | Parameter 7 | input | x | onsistent function, different parameter names |
| | Parameter 8 | - | pad_mode | Control the padding mode, and PyTorch does not have this parameter |
| | Parameter 9 | out | - | Not involved |
| | Parameter 10 | mode | mode | Same function, MindSpore does not support "bicubic" mode yet |
"""


def _kinds(page: dict) -> dict:
    return {(r["torch"], r["mindspore"]): r["kind"] for r in page["rows"]}


def test_the_parser_reads_real_page_excerpts_header_variants_and_typos():
    parse = load_script("diff_pages").parse_page
    std = parse(STD)
    assert std["pairs"] == [["torch.std", "mindspore.ops.std"], ["torch.Tensor.std", "mindspore.Tensor.std"]]
    # the page's own typo: "different parameter names" for input -> input is no rename
    assert _kinds(std) == {("input", "input"): "consistent", ("dim", "axis"): "rename", ("unbiased", "ddof"): "other",
                           ("out", None): "unsupported"}
    assert std["rows"][3]["reason"] == "MindSpore does not have this parameter"
    softmin = parse(SOFTMIN)  # "Classification | Subclass | ... | difference", pairs from the signature headings
    assert softmin["pairs"] == [["torch.nn.Softmin", "mindspore.nn.Softmin"]] and _kinds(softmin) == {("dim", "axis"): "rename"}
    mixed = parse(MIXED)  # no spaces around the header's bars; "onsistent function" (a typo on the page)
    assert _kinds(mixed) == {("kernel_size", "kernel_size"): "default", ("stride", "stride"): "default",
                             ("ceil_mode", "ceil_mode"): "consistent", ("input", "x"): "rename",
                             (None, "pad_mode"): "other", ("out", None): "not_involved", ("mode", "mode"): "range"}


def test_the_shipped_parse_is_well_formed_and_a_planted_misclassification_is_caught():
    doc = json.loads(PARSED.read_text(encoding="utf-8"))
    assert doc["branch"] == "r2.4.10" and len(doc["commit"]) == 40 and doc["repository"] == "mindspore-ai/docs"
    assert diff_pages.validate(doc) == []
    assert load_script("diff_pages").main(["--check"]) == 0
    page = next(p for p in doc["pages"] if p["page"] == "std.md")
    planted = copy.deepcopy(doc)
    row = next(r for p in planted["pages"] if p["page"] == "std.md" for r in p["rows"] if r["torch"] == "dim")
    row["kind"] = "consistent"  # a rename read as no difference: the reason's phrase says otherwise
    assert any("std.md" in p and "reads as 'rename'" in p for p in diff_pages.validate(planted))
    row["kind"], row["mindspore"] = "unsupported", "axis"  # unsupported beside a MindSpore name
    assert any("needs a torch name and no MindSpore name" in p for p in diff_pages.validate(planted))
    assert {"torch.std", "torch.Tensor.std"} <= {pair[0] for pair in page["pairs"]}


def test_the_reader_answers_a_pairs_rows_from_the_newest_page():
    found = diff_pages.page("torch.nn.functional.adaptive_max_pool1d", "mindspore.ops.adaptive_max_pool1d")
    assert found["page"] == "AdaptiveMaxPool1d.md" and found["branch"] == "r2.4.10"
    assert found["url"].endswith("/r2.4.10/note/api_mapping/pytorch_diff/AdaptiveMaxPool1d.html")
    row = diff_pages.row_for("torch.nn.functional.adaptive_max_pool1d", "mindspore.ops.adaptive_max_pool1d", "return_indices")
    assert row["kind"] == "unsupported" and row["mindspore"] is None
    assert diff_pages.rows("torch.nn.functional.softmin", "mindspore.mint.nn.functional.softmin") == []  # no page: none


def test_the_drafter_maps_a_real_spec_from_its_page_and_both_signatures():
    draft = load_script("draft_explore")
    spec = parse_spec(CONFIGS / "pooling" / "F.adaptive_max_pool1d.yaml")
    defaults = draft.torch_defaults(spec.sides["torch"].op, {})  # a boolean_dispatch wrapper: the inner function's
    assert defaults.get("return_indices") is False
    ms_names = {"call": ["input", "output_size"], "init": None}  # mindspore.ops.adaptive_max_pool1d(input, output_size)
    entries, notes, skipped = draft.page_entries(spec, ["return_indices", "mode=bicubic"], defaults, ms_names)
    assert entries == {"return_indices": {"unsupported": "MindSpore's page: MindSpore does not have this parameter and does "
                                          "not support index subscripts that return the maximum value currently.",
                                          "default": False}}
    assert "AdaptiveMaxPool1d.md" in notes["return_indices"] and "mode=bicubic" in skipped  # never a value map
    softmin = parse_spec(CONFIGS / "activations" / "F.softmin.yaml")
    entries, _, _ = draft.page_entries(softmin, ["dim"], {}, {"call": ["x", "axis", "dtype"], "init": None})
    assert entries == {"dim": {"name": "axis"}}  # the page's rename, its name in MindSpore's signature
    entries, _, skipped = draft.page_entries(softmin, ["dim"], {}, {"call": ["x", "dim"], "init": None})
    assert entries == {} and "lacks" in skipped["dim"]  # the page's name where the signature has another: no rename
    assert softmin.explore.arguments["dim"].name == "axis"  # the shipped spec carries the reviewed draft


def test_the_depth_section_cites_the_page(write_spec):
    from eqcheck.report import depth

    spec = parse_spec(write_spec("""
name: t.softmin
inputs: [{name: input, shape: [8, 16]}]
torch: {op: torch.nn.functional.softmin, args: [input, {value: 1}]}
mindspore: {op: mindspore.ops.softmin, args: [input, {value: 1}]}
"""))
    tally = {"samples": 7, "run": 0, "unmapped": {"dim": 7}, "not_supported": {}, "entry": "nn.functional.softmin"}
    row = next(line for line in depth.render([spec], {"t.softmin": tally}).splitlines() if line.startswith("| t.softmin |"))
    assert "unmapped 'dim' x7: MindSpore's page (softmin, r2.4.10): rename: Same function, different parameter names" in row, row


@pytest.mark.parametrize("text, kind", [
    ("Same functions, different parameter names", "rename"),
    ("The functions are the same, but the default values of parameters are different", "default"),
    ("The functionality is inconsistent, and the types are different.", "other"),
    ("For details, see General Difference Parameter Table", "not_involved"),
])
def test_phrase_variants(text, kind):
    assert diff_pages.classify("a", "b", text) == kind


def test_a_value_the_map_marks_unsupported_gives_its_reason_in_the_depth_section():
    from eqcheck.report import depth

    spec = parse_spec(CONFIGS / "nn" / "F.grid_sample.yaml")  # mode: {values: {..., bicubic: {unsupported: ...}}}
    reason = depth._why_not_supported("mode=bicubic", spec)
    assert reason.startswith("MindSpore's page (grid_sample.md, r2.4.10)") and "bicubic" in reason, reason
