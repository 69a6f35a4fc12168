"""Target and device selection, and the clear errors when a device is missing (this machine has no GPU)."""

from __future__ import annotations

import click
import pytest

from eqcheck.backends.targets import Target, parse_targets


def test_default_is_torch_against_mindspore_on_cpu():
    assert parse_targets("torch,mindspore", "cpu") == [Target("torch", "cpu"), Target("mindspore", "cpu")]


def test_mixed_devices_per_target():
    assert parse_targets("torch,mindspore", "torch=gpu,mindspore=cpu") == [Target("torch", "gpu"), Target("mindspore", "cpu")]


def test_one_device_for_all():
    assert [t.device for t in parse_targets("torch,mindspore", "gpu")] == ["gpu", "gpu"]


def test_inline_devices_compare_one_framework_across_devices():
    targets = parse_targets("torch:gpu,torch:cpu", "cpu")
    assert [t.label for t in targets] == ["torch:gpu", "torch"]


@pytest.mark.parametrize("targets,device,message", [
    ("torch", "cpu", "exactly two targets"),
    ("torch,torch", "cpu", "both targets are torch"),
    ("torch,jax", "cpu", "unknown target 'jax'"),
    ("torch,mindspore", "tpu", "unknown device 'tpu'"),
    ("torch,mindspore", "paddle=gpu", "'paddle' is not a target"),
    ("mindspore:gpu,mindspore:cpu", "cpu", "one device per process"),
])
def test_bad_target_flags(targets, device, message):
    with pytest.raises(click.BadParameter, match=message):
        parse_targets(targets, device)


@pytest.mark.frameworks
def test_torch_on_gpu_is_refused_naming_torch_only(cli):
    result = cli("run", "configs/nn/GRUCell.yaml", "--device", "torch=gpu,mindspore=cpu")
    assert result.exit_code == 2, result.text
    assert "torch 2." in result.text and "CPU-only build" in result.text
    assert "MindSpore" not in result.text
    assert "Traceback" not in result.text


@pytest.mark.frameworks
def test_torch_gpu_against_torch_cpu_is_refused_on_a_machine_without_cuda(cli):
    result = cli("run", "configs/nn/GRUCell.yaml", "--targets", "torch:gpu,torch:cpu")
    assert result.exit_code == 2 and "cannot use a GPU here" in result.text, result.text


@pytest.mark.frameworks
def test_mindspore_on_gpu_names_the_missing_cuda_libraries(cli):
    # MindSpore picks its device once per process: run it in a fresh interpreter.
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "eqcheck", "run", "configs/nn/Softmax.yaml", "--device", "torch=cpu,mindspore=gpu"],
        capture_output=True, text=True, timeout=120, env={**__import__("os").environ, "GLOG_v": "3"},
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "MindSpore" in proc.stderr and "CUDA 11" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.frameworks
def test_env_lists_versions_and_devices(cli):
    result = cli("env")
    assert result.exit_code == 0, result.text
    assert "torch on cpu" in result.text and "available" in result.text
    assert "mindspore on cpu" in result.text
