"""Training mode: buffers (BatchNorm running statistics) are compared after the call, by canonical name."""

from __future__ import annotations

from conftest import read_json

TRAIN = {"name: nn.BatchNorm2d\n": "name: nn.BatchNorm2d.train\nmode: train\n"}


def test_batchnorm_train_mode_state_matches(cli, copy_config, tmp_path):
    spec = copy_config("nn/BatchNorm2d.yaml", TRAIN)
    report = tmp_path / "r.json"
    result = cli("run", spec, "-k", "eps=1e-05", "--json", report)
    assert result.exit_code == 0, result.text
    case = read_json(report)["cases"][0]
    state = {o["name"]: o for o in case["outputs"] if o["kind"] == "state"}
    assert set(state) == {"state:running_mean", "state:running_var"}
    assert case["mode"] == "train"


def test_momentum_copied_literally_is_caught_in_the_running_statistics(cli, copy_config, tmp_path):
    spec = copy_config("nn/BatchNorm2d.yaml", {**TRAIN, "momentum: $1 - momentum": "momentum: $momentum"})
    report = tmp_path / "r.json"
    result = cli("run", spec, "-k", "eps=1e-05", "--json", report)
    assert result.exit_code == 1
    case = read_json(report)["cases"][0]
    failing = [o["name"] for o in case["outputs"] if not o["passed"]]
    assert failing == ["state:running_mean", "state:running_var"], result.text  # the output itself agrees
    assert "state:running_mean" in result.text
