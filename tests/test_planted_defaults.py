"""A wrong default planted in a copy of a shipped spec is caught: exit 1, and exactly the affected cases fail."""

from __future__ import annotations

import pytest

from conftest import read_json

pytestmark = pytest.mark.frameworks

PLANTS = [
    # (config, correct text, planted text, the cases that must now fail)
    ("nn/GELU.yaml", "approximate: $approximate == 'tanh'", "approximate: true",  # MindSpore's own default
     {"nn.GELU[approximate=none,float32]"}),
    ("nn/Softmax.yaml", "axis: $dim", "axis: -1",
     {"nn.Softmax[dim=0,float32]", "nn.Softmax[dim=1,float32]"}),
    ("ops/std.yaml", "ddof: $correction", "ddof: 0",
     {"ops.std[correction=1,dim=0,float32]", "ops.std[correction=1,dim=1,float32]"}),
    ("nn/LeakyReLU.yaml", "alpha: $negative_slope", "alpha: 0.2",
     {"nn.LeakyReLU[negative_slope=0.01,float32]"}),
    ("nn/LayerNorm.yaml", "epsilon: $eps", "epsilon: 1.0e-7",
     {"nn.LayerNorm[eps=1e-05,float32]", "nn.LayerNorm[eps=0.001,float32]"}),
    ("nn/BatchNorm2d.yaml", "eps: $eps, momentum: $1 - momentum", "eps: 1.0e-5, momentum: $1 - momentum",
     {"nn.BatchNorm2d[eps=0.001,float32]"}),
    ("nn/Conv2d.yaml", "pad_mode: pad\n    padding: $padding", "pad_mode: same",
     {f"nn.Conv2d[padding={p},stride={s},bias={b},float32]" for p, s in ((0, 1), (0, 2), (1, 2)) for b in (True, False)}),
    ("nn/SmoothL1Loss.yaml", "reduction: $reduction, beta: $beta}\nmindspore", "reduction: $reduction, beta: 1.0}\nmindspore",
     {f"nn.SmoothL1Loss[reduction={r},beta=0.5,float32]" for r in ("none", "mean", "sum")}),
]


@pytest.mark.parametrize("config,correct,planted,failing", PLANTS, ids=[p[0] for p in PLANTS])
def test_planted_wrong_default_is_caught(cli, copy_config, tmp_path, config, correct, planted, failing):
    spec = copy_config(config, {correct: planted})
    report = tmp_path / "planted.json"
    result = cli("run", spec, "--json", report)
    assert result.exit_code == 1, result.text
    statuses = {c["id"]: c["status"] for c in read_json(report)["cases"]}
    assert {case for case, status in statuses.items() if status == "fail"} == failing
    assert all(status == "pass" for case, status in statuses.items() if case not in failing)
