"""The one spec style (eqcheck/spec/writer.py): what it writes, and a rewrite that keeps the data and every comment."""

from __future__ import annotations

import yaml

from eqcheck.spec import writer

BLOCK_STYLE = """\
name: mint.abs
summary: 'torch.abs -> mindspore.mint.abs (mapping table r2.6.0: consistent)'
inputs:
- name: input
  shape:
  - 8
  - 16
torch:
  op: torch.abs
  call:
    dim: 1
"""

CANONICAL = """\
name: mint.abs
summary: "torch.abs -> mindspore.mint.abs (mapping table r2.6.0: consistent)"
inputs:
  - name: input
    shape: [8, 16]
torch:
  op: torch.abs
  call: {dim: 1}
"""


def test_a_generators_block_style_becomes_the_one_style():
    assert writer.rewrite(BLOCK_STYLE) == CANONICAL
    assert writer.dump(yaml.safe_load(BLOCK_STYLE)) == CANONICAL


def test_values_that_must_be_quoted_are_and_the_data_survives():
    data = {"name": "x", "params": {"a": "true", "b": "1e-5", "c": "$n * 2", "d": "a, b", "e": 0.5, "f": None},
            "sweep": {"n": [1, 2], "s": ["a, b", "c"]}, "torch": {"init": {"k": "yes: no", "t": [[1, 2], [3]]}}}
    text = writer.dump(data)
    assert yaml.safe_load(text) == data
    assert 'a: "true"' in text and "c: $n * 2" in text and 's: ["a, b", c]' in text and "init: {k: \"yes: no\", t: [[1, 2], [3]]}" in text


def test_a_rewrite_keeps_each_comment_with_its_key():
    text = """\
# The page it started from.
name: nn.X
grad: true                 # gradients too
params:
  size: 16
  # why 8
  batch: 8

# measured differences
edge_differences:
  - edge: "arg"
    reason: "MindSpore refuses it: x"
"""
    new = writer.rewrite(text)
    assert yaml.safe_load(new) == yaml.safe_load(text)
    assert new == """\
# The page it started from.
name: nn.X
grad: true  # gradients too
params:
  size: 16
  # why 8
  batch: 8

# measured differences
edge_differences:
  - edge: arg
    reason: "MindSpore refuses it: x"
"""
    assert writer.rewrite(new) == new
