"""Draft an `explore:` section for shipped specs that have none (issue 22); review each result before keeping it.

    python scripts/draft_explore.py configs/reductions [--write]

For each spec: the torch arguments its OpInfo/ModuleInfo samples set (from the sample cache), each mapped by
(1) the spec's own pairing (torch `dim: $dim` beside MindSpore `axis: $dim` is a rename), (2) the same name in
MindSpore's signature, else left out with a comment, so `--explore` counts it `unmapped` instead of guessing.
Prints the drafted YAML; --write appends it to specs without an `explore:` section."""

from __future__ import annotations

import inspect
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eqcheck.backends.resolve import resolve_dotted as resolve
from eqcheck.cases import load_specs
from eqcheck.cases.explore import SOURCES
from eqcheck.backends.samples import cache
from eqcheck.spec import writer


def _ms_names(op: str) -> tuple[set[str], set[str]]:
    """MindSpore's (constructor, call) parameter names; a function has only call names."""
    try:
        obj = resolve(op)
        if inspect.isclass(obj):
            return set(inspect.signature(obj.__init__).parameters), set(inspect.signature(obj.construct).parameters)
        return set(), set(inspect.signature(obj).parameters)
    except Exception:  # noqa: BLE001 - a draft: no signature, no same-name guesses
        return set(), set()


def _used(record: dict, key: str, names: list[str] | None, section: str) -> Counter:
    used: Counter = Counter()
    for sample in record.get(key, []):
        call = sample.get(section)
        if not call:
            continue
        for i, value in enumerate(call["args"]):
            if not (isinstance(value, dict) and "tensor" in value) and names and i < len(names):
                used[names[i]] += 1
        for name, value in call["kwargs"].items():
            if not (isinstance(value, dict) and "tensor" in value):
                used[name] += 1
    return used


def draft(spec) -> str | None:
    for source in SOURCES:
        entry = source.entry_name(spec)
        if not entry:
            continue
        record = cache.entries(source.source, [entry])[entry]
        if record.get("missing"):
            return None
        key = "samples_train" if source.source == "module" and spec.mode == "train" else "samples"
        used = _used(record, key, (spec.explore.call_names(record.get("entry")) if spec.explore else None) or record.get("signature"), "call")
        used += _used(record, key, record.get("init_signature"), "init")
        torch_side, ms_side = spec.sides["torch"], spec.sides["mindspore"]
        pairs = {}
        for section in ("init", "call"):
            ms_by_value = {v: k for k, v in getattr(ms_side, section).items() if isinstance(v, str) and v.startswith("$")}
            for k, v in getattr(torch_side, section).items():
                if isinstance(v, str) and v in ms_by_value:
                    pairs[k] = ms_by_value[v]
            # a literal pairing (torch `dim: 1` beside MindSpore `axis: 1`): the one MindSpore key torch lacks with that value
            torch_keys, ms_keys = getattr(torch_side, section), getattr(ms_side, section)
            for k, v in torch_keys.items():
                same = [m for m, w in ms_keys.items() if m not in torch_keys and type(w) is type(v) and w == v]
                if k not in ms_keys and k not in pairs and len(same) == 1:
                    pairs[k] = same[0]
        ms_init, ms_call = _ms_names(ms_side.op)
        module = source.source == "module"
        lines = [f"explore:  # drafted by scripts/draft_explore.py from torch's {source.source} samples of {entry}",
                 "  arguments:"]
        for name, count in sorted(used.items(), key=lambda kv: -kv[1]):
            if name == "dtype":  # a torch.dtype object: no MindSpore form, counted not supported either way
                continue
            if name in pairs:
                lines.append(f"    {name}: {pairs[name]}")
            elif name in ms_init and (module or name not in ms_call):
                lines.append(f"    {name}: {name}" if module else f"    {name}: {{name: {name}, where: init}}")
            elif name in ms_call:
                lines.append(f"    {name}: {name}" if not module else f"    {name}: {{name: {name}, where: call}}")
            else:
                lines.append(f"    # {name}: ?   ({count} samples; no MindSpore counterpart found)")
        if len(lines) == 2:
            lines[1] = "  arguments: {}"
        return "\n".join(lines) + "\n"
    return None


def main(argv: list[str]) -> int:
    write = "--write" in argv
    specs = load_specs([a for a in argv if a != "--write"])
    for source in SOURCES:  # every entry built in one child per source: op_db imports once
        cache.entries(source.source, sorted({e for e in map(source.entry_name, specs) if e}))
    for spec in specs:
        if spec.explore is not None or spec.is_model:
            continue
        text = draft(spec)
        if text is None:
            continue
        print(f"# {spec.path}\n{text}")
        if write:  # appended, then the whole file in the spec style (its comments kept)
            path = Path(spec.path)
            path.write_text(writer.rewrite(path.read_text(encoding="utf-8") + text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
