"""The spec's `explore:` section (issue 22): the agreed argument-map format is read strictly, without a framework."""

from __future__ import annotations

import pytest

from eqcheck.errors import SpecError
from eqcheck.spec.loader import parse_spec

BASE = """
name: t.conv
params: {m: 0.1}
inputs: [{name: input, shape: [1, 2, 5, 5]}]
torch: {op: torch.nn.Conv2d, init: {in_channels: 2, out_channels: 2, kernel_size: 3}}
mindspore: {op: mindspore.nn.Conv2d, init: {in_channels: 2, out_channels: 2, kernel_size: 3}}
"""

FULL = BASE + """
explore:
  opinfo: nn.functional.conv2d
  module: torch.nn.Conv2d
  signature: [input, weight, bias, stride, padding, dilation, groups]
  arguments:
    dim: axis
    keepdim: {name: keep_dims}
    bias: {name: has_bias, default: true}
    padding: {name: padding, set: {pad_mode: pad}}
    momentum: {name: momentum, value: "$1 - value + m"}
    reduction: {values: {mean: mean, sum: sum, none: none}}
    stride: {cast: tuple}
    memory_format: {unsupported: "MindSpore has no memory_format", default: null}
    inplace: {drop: "in-place flag; the output is the same"}
    other: {positional: true}
    weight: {name: weight, where: call}
"""


def test_every_form_of_the_agreed_format_is_read(write_spec):
    explore = parse_spec(write_spec(FULL)).explore
    assert (explore.opinfo, explore.module) == ("nn.functional.conv2d", "torch.nn.Conv2d")
    assert explore.signature == ("input", "weight", "bias", "stride", "padding", "dilation", "groups")
    args = explore.arguments
    assert list(args) == ["dim", "keepdim", "bias", "padding", "momentum", "reduction", "stride", "memory_format",
                          "inplace", "other", "weight"]  # the written order is the positional order
    assert (args["dim"].name, args["keepdim"].name, args["stride"].name) == ("axis", "keep_dims", "stride")
    assert args["bias"].has_default and args["bias"].default is True and not args["dim"].has_default
    assert args["memory_format"].has_default and args["memory_format"].default is None
    assert args["memory_format"].unsupported and args["inplace"].drop
    assert args["padding"].set == {"pad_mode": "pad"} and args["momentum"].value == "$1 - value + m"
    assert args["reduction"].values == {"mean": "mean", "sum": "sum", "none": "none"}
    assert args["stride"].cast == "tuple" and args["other"].positional and args["weight"].where == "call"


def test_no_section_is_none_and_an_empty_one_is_empty(write_spec):
    assert parse_spec(write_spec(BASE)).explore is None
    assert parse_spec(write_spec(BASE + "explore: {}\n")).explore.arguments == {}


@pytest.mark.parametrize(
    "section, field, words",
    [
        ("explore: {opinfos: sum}", "explore.opinfos", "unknown key"),
        ("explore: {opinfo: 3}", "explore.opinfo", "expected a string"),
        ("explore: {opinfo: 'conv 2d'}", "explore.opinfo", "not an entry name"),
        ("explore: {module: numpy.Conv}", "explore.module", "torch module class"),
        ("explore: {signature: input}", "explore.signature", "expected a list"),
        ("explore: {signature: [input, input]}", "explore.signature", "twice"),
        ("explore: {signature: [1]}", "explore.signature[0]", "expected a string"),
        ("explore: {arguments: [dim]}", "explore.arguments", "expected a mapping"),
        ("explore: {arguments: {dim: 3}}", "explore.arguments.dim", "expected a mapping"),
        ("explore: {arguments: {dim: 'a b'}}", "explore.arguments.dim", "not a valid name"),
        ("explore: {arguments: {dim: {nmae: axis}}}", "explore.arguments.dim.nmae", "unknown key"),
        ("explore: {arguments: {dim: {name: 3}}}", "explore.arguments.dim.name", "expected a string"),
        ("explore: {arguments: {s: {cast: set}}}", "explore.arguments.s.cast", "must be one of"),
        ("explore: {arguments: {s: {where: forward}}}", "explore.arguments.s.where", "must be one of"),
        ("explore: {arguments: {s: {positional: 'yes'}}}", "explore.arguments.s.positional", "true or false"),
        ("explore: {arguments: {s: {set: [pad]}}}", "explore.arguments.s.set", "expected a mapping"),
        ("explore: {arguments: {s: {value: '1 - value'}}}", "explore.arguments.s.value", "not a $expression"),
        ("explore: {arguments: {s: {value: '$1 - valeu'}}}", "explore.arguments.s.value", "neither `value`, a param nor a torch argument"),
        ("explore: {arguments: {s: {value: '$1 +* value'}}}", "explore.arguments.s.value", "not a valid expression"),
        ("explore: {arguments: {s: {values: {}}}}", "explore.arguments.s.values", "at least one"),
        ("explore: {arguments: {s: {values: {a: b}, value: '$value'}}}", "explore.arguments.s.value", "not both"),
        ("explore: {arguments: {s: {unsupported: ''}}}", "explore.arguments.s.unsupported", "reason"),
        ("explore: {arguments: {s: {drop: why, name: t}}}", "explore.arguments.s.name", "only 'default'"),
        ("explore: {arguments: {s: {unsupported: why, cast: int}}}", "explore.arguments.s.cast", "only 'default'"),
    ],
)
def test_a_wrong_section_names_file_and_field(write_spec, section, field, words):
    path = write_spec(BASE + section + "\n")
    with pytest.raises(SpecError) as info:
        parse_spec(path)
    assert info.value.file == str(path) and info.value.field == field, info.value.paragraph()
    assert words in info.value.paragraph()


def test_validate_reports_it_as_one_paragraph_with_exit_2(cli, write_spec):
    result = cli("validate", write_spec(BASE + "explore: {arguments: {dim: {cast: set}}}\n"))
    assert result.exit_code == 2 and "explore.arguments.dim.cast" in result.text and "Traceback" not in result.text
