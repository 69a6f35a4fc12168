"""Case ids are formatted and read back by eqcheck/cases/case_id.py alone: every part a page asks for comes back."""

from __future__ import annotations

from conftest import CONFIGS

from eqcheck.cases import case_id
from eqcheck.execution.session import load_cases


def test_every_part_of_every_variant_id_reads_back():
    cases = load_cases([str(CONFIGS / "nn" / "Conv2d.yaml"), str(CONFIGS / "nn" / "Softmax.yaml")], edges=True,
                       boundary=True).cases
    assert any(c.edge is not None and c.edge.FAMILY == "boundary" for c in cases) and any(c.edge is not None for c in cases)
    for case in cases:
        parts = case_id.parts(case.id)
        assert case_id.spec_name(case.id) == case.spec.name
        assert parts["dtype"] == case.dtype, case.id
        assert {k: parts[k] for k, _ in case.point} == {k: case_id.format_value(v) for k, v in case.point}, case.id
        if case.edge is not None:
            assert parts[case.edge.FAMILY] == case.edge.name, case.id


def test_a_tuple_value_is_one_part():
    made = case_id.format_id("nn.Conv2d", (("kernel_size", (2, 3)), ("bias", True)), "float32", (("sample", 4),))
    assert made == "nn.Conv2d[kernel_size=(2,3),bias=True,float32,sample=4]"
    assert case_id.parts(made) == {"kernel_size": "(2,3)", "bias": "True", "dtype": "float32", "sample": "4"}
