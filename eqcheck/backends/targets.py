"""--targets / --device -> the two targets a run compares. No framework is imported here."""

from __future__ import annotations

from dataclasses import dataclass

import click

from eqcheck.backends import TARGETS, framework_of
from eqcheck.backends.base import DEVICES

DEFAULT_TARGETS = "torch,mindspore"


SIDE_ROLES = ("export", "mirror", "replay")  # recorded sides (backends/recorded.py, execution/sides.py)


@dataclass(frozen=True)
class Target:
    name: str  # a key of backends.TARGETS
    device: str  # cpu | gpu
    # A side recorded to or replayed from a folder (--export-side / --against): "export" records this side's steps,
    # "mirror" replays them in the same run (the export's self-check), "replay" answers from the folder's record.
    side: str | None = None
    folder: str | None = None

    @property
    def framework(self) -> str:
        return framework_of(self.name)

    @property
    def label(self) -> str:
        base = self.name if self.device == "cpu" else f"{self.name}:{self.device}"
        return f"{base}@record" if self.side == "mirror" else base


def _device(value: str, flag: str) -> str:
    device = value.strip().lower()
    device = {"cuda": "gpu"}.get(device, device)
    if device not in DEVICES:
        raise click.BadParameter(f"unknown device '{value}' (choose from {', '.join(DEVICES)})", param_hint=flag)
    return device


def parse_targets(targets: str, device: str, count: int = 2, why: str = "to compare") -> list[Target]:
    """'torch,mindspore' + 'torch=gpu,mindspore=cpu', or inline 'torch:gpu,torch:cpu' to compare one framework across devices.

    `count=1`: the one side a split run (--export-side, --against) runs on this machine."""
    per_name: dict[str, str] = {}
    default = "cpu"
    for part in [p for p in device.split(",") if p.strip()]:
        if "=" in part:
            name, dev = (s.strip() for s in part.split("=", 1))
            if name not in TARGETS and name not in {framework_of(t) for t in TARGETS}:
                raise click.BadParameter(f"'{name}' is not a target (choose from {', '.join(TARGETS)})", param_hint="'--device'")
            per_name[name] = _device(dev, "'--device'")
        else:
            default = _device(part, "'--device'")
    parsed = []
    for part in [p.strip() for p in targets.split(",") if p.strip()]:
        name, _, inline = part.partition(":")
        if name not in TARGETS:
            raise click.BadParameter(f"unknown target '{name}' (choose from {', '.join(TARGETS)})", param_hint="'--targets'")
        dev = _device(inline, "'--targets'") if inline else per_name.get(name, per_name.get(framework_of(name), default))
        parsed.append(Target(name, dev))
    if len(parsed) != count:
        raise click.BadParameter(f"give exactly {'two' if count == 2 else 'one'} target{'s' if count > 1 else ''} {why}, "
                                 f"got {len(parsed)}", param_hint="'--targets'")
    if count == 1:
        return parsed
    if parsed[0] == parsed[1]:
        raise click.BadParameter(f"both targets are {parsed[0].label}; compare two frameworks, modes or devices",
                                 param_hint="'--targets'")
    if parsed[0].framework == parsed[1].framework and parsed[0].framework == "mindspore" and parsed[0].device != parsed[1].device:
        raise click.BadParameter("MindSpore selects one device per process; compare it across devices in two runs",
                                 param_hint="'--targets'")
    return parsed
