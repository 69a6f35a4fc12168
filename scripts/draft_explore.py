"""Draft an `explore:` section for shipped specs that have none (issue 22); review each result before keeping it.

    python scripts/draft_explore.py configs/reductions [--write]
    python scripts/draft_explore.py --pages configs/ops/std.yaml [--write]

For each spec: the torch arguments its OpInfo/ModuleInfo samples set (from the sample cache), each mapped by
(1) the spec's own pairing (torch `dim: $dim` beside MindSpore `axis: $dim` is a rename), (2) the same name in
MindSpore's signature, else left out with a comment, so `--explore` counts it `unmapped` instead of guessing.
Prints the drafted YAML; --write appends it to specs without an `explore:` section.

--pages (issue 30): for specs whose samples still have `unmapped` arguments, entries from the pair's "Differences
with torch.X" page (mapping/pytorch_diff-*.json) and both signatures: a rename where the page says the names differ
(and MindSpore's signature has the name), `default:` where it says the defaults differ or the spec sets an argument
MindSpore takes by the same name (the value is torch's signature default, never guessed), `unsupported:` with the
page's reason where MindSpore lacks the parameter. Never a value map. --write adds them to `explore.arguments`."""

from __future__ import annotations

import ast
import inspect
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from eqcheck.backends.resolve import resolve_dotted as resolve
from eqcheck.backends.samples import diff_pages
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


_OVERLOAD = re.compile(r"^\s*(?:\.\. function:: )?[\w.]+\((.*?)\)\s*(->|$)")
_NO_DEFAULT = object()


def torch_defaults(op: str, record: dict) -> dict:
    """torch's signature defaults of an op: the sample cache's (inspect), else a dispatching wrapper's inner
    function's, else the docstring's documented signature (a C builtin's: `cosine_similarity(x1, x2, dim=1, eps=1e-8)`).
    Literal values only: a fact read from torch, never a guess."""
    found = dict(record.get("defaults") or {})
    try:
        obj = resolve(op)
    except Exception:  # noqa: BLE001 - no object, no further defaults
        return found
    functions = [obj] + [c.cell_contents for c in getattr(obj, "__closure__", None) or () if inspect.isfunction(c.cell_contents)]
    for function in functions:
        try:
            params = inspect.signature(function).parameters.values()
        except (TypeError, ValueError):
            continue
        for p in params:
            if p.default is not p.empty and isinstance(p.default, (bool, int, float, str, type(None))):
                found.setdefault(p.name, p.default)
    for line in (getattr(obj, "__doc__", None) or "").splitlines():
        match = _OVERLOAD.match(line)
        for part in match.group(1).split(",") if match else ():
            name, eq, value = part.partition("=")
            if eq and name.strip().isidentifier():
                try:
                    found.setdefault(name.strip(), ast.literal_eval(value.strip()))
                except (ValueError, SyntaxError):
                    pass
    return found


def page_entries(spec, unmapped: list[str], torch_defaults: dict, ms_names: dict | None,
                 folder=diff_pages.MAPPING) -> tuple[dict, dict, dict]:
    """(entries, notes, skipped) for one spec's unmapped arguments: entries {torch name: map entry}, notes {torch name:
    where the entry comes from}, skipped {what: why no entry}. A value (`mode=bicubic`) is never mapped."""
    torch_op, ms_op = spec.sides["torch"].op, spec.sides["mindspore"].op
    found = diff_pages.page(torch_op, ms_op, folder)
    theirs = set((ms_names or {}).get("call") or ()) | set((ms_names or {}).get("init") or ())
    entries, notes, skipped = {}, {}, {}
    for what in unmapped:
        if "=" in what or " " in what:
            skipped[what] = "a value or a position: the map's own table, never drafted"
            continue
        row = next((r for r in found["rows"] if r["torch"] == what), None) if found else None
        default = torch_defaults.get(what, _NO_DEFAULT)
        where = f"MindSpore's page {found['page']} ({found['branch']})" if row else None
        if row and row["kind"] == "unsupported":
            entries[what] = {"unsupported": f"MindSpore's page: {row['reason']}"}
            if default is not _NO_DEFAULT:
                entries[what]["default"] = default
            notes[what] = where
        elif row and (row["kind"] in ("rename", "default", "range") or row["kind"] == "consistent" and row["mindspore"] == what) \
                and row["mindspore"] and row["mindspore"].isidentifier():
            name = row["mindspore"]
            if name not in theirs:
                skipped[what] = f"{where} names `{name}`, which MindSpore's signature lacks ({', '.join(sorted(theirs)) or 'unreadable'})"
                continue
            entry = {"name": name}
            if row["kind"] == "default" or name == what:  # torch's default; a same name is unmapped only for want of it
                if default is _NO_DEFAULT:
                    skipped[what] = f"{where}: a {row['kind']} row, and torch's signature has no default for `{what}`"
                    continue
                entry["default"] = default
            entries[what], notes[what] = entry, f"{where}: {row['kind']}"
        elif row:
            skipped[what] = f"{where}: {row['kind']}: {row['reason']}"
        elif what in theirs and default is not _NO_DEFAULT:  # the spec sets it; the sample leaves it to torch's default
            entries[what] = {"name": what, "default": default}
            notes[what] = "the same name in both signatures; torch's signature default"
        else:
            skipped[what] = "no page row, and MindSpore's signature has no such name" if what not in theirs else \
                "no page row, and torch's signature gives no default"
    return entries, notes, skipped


def draft_pages(paths: list[str], write: bool) -> int:
    from eqcheck.cases.explore import explore_cases

    specs = [s for s in load_specs(paths) if not s.is_model and "torch" in s.sides and "mindspore" in s.sides]
    tallies = explore_cases(specs, ("float32",))[1]
    names = cache.mindspore_names(sorted({s.sides["mindspore"].op for s in specs}))
    for spec in specs:
        tally = tallies.get(spec.name)
        if not tally or not tally["unmapped"]:
            continue
        records = [cache.entries(src.source, [e])[e] for src in SOURCES if (e := src.entry_name(spec))]
        defaults = torch_defaults(spec.sides["torch"].op, records[0] if records else {})
        entries, notes, skipped = page_entries(spec, sorted(tally["unmapped"]), defaults, names.get(spec.sides["mindspore"].op))
        print(f"# {spec.path} ({spec.name})")
        for name, entry in entries.items():
            print(f"    {name}: {writer.flow(entry)}  # {notes[name]}")
        for what, why in skipped.items():
            print(f"    # {what}: {why}")
        if write and entries:
            path = Path(spec.path)
            text = path.read_text(encoding="utf-8")
            data = yaml.safe_load(text)
            arguments = data.setdefault("explore", {}).setdefault("arguments", {}) if data.get("explore") is not None \
                else data.setdefault("explore", {"arguments": {}})["arguments"]
            arguments.update(entries)
            path.write_text(writer.rewrite(text, data, {("explore", "arguments", n): notes[n] for n in entries}),
                            encoding="utf-8")
    return 0


def main(argv: list[str]) -> int:
    write = "--write" in argv
    if "--pages" in argv:
        return draft_pages([a for a in argv if a not in ("--write", "--pages")], write)
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
