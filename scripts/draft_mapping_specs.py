"""Draft specs for mapping-table rows that have none, from a shipped spec of the same torch API.

    PYTHONPATH=. python scripts/draft_mapping_specs.py [--write]
    PYTHONPATH=. python scripts/draft_mapping_specs.py --explore configs/mint/*.yaml   # add explore: sections

A row qualifies when a spec (outside defaults/) already compares its torch API, or an alias of it
(torch.special.x -> torch.x, torch.arccos -> torch.acos, ...), with some MindSpore API. The draft keeps that
spec's inputs, sweep and torch arguments; a `mindspore.mint` row gets torch's own arguments (mint follows
torch's signatures), any other row the template's MindSpore arguments. Every draft is then run and reviewed:
the script only saves typing, it decides nothing.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import yaml

from eqcheck.report import coverage
from eqcheck.spec import writer

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
SECTIONS = ("torch", "torch.nn", "torch.nn.functional", "torch.special", "torch.linalg")
ALIASES = {"arccos": "acos", "arccosh": "acosh", "arcsin": "asin", "arcsinh": "asinh", "arctan": "atan",
           "arctan2": "atan2", "arctanh": "atanh", "divide": "div", "negative": "neg", "concat": "cat",
           "multiply": "mul", "subtract": "sub", "absolute": "abs", "clip": "clamp", "fix": "trunc",
           "greater": "gt", "greater_equal": "ge", "less": "lt", "less_equal": "le", "not_equal": "ne"}


def _templates() -> dict[str, tuple[str, dict]]:
    out: dict[str, tuple[str, dict]] = {}
    for path in sorted(CONFIGS.rglob("*.yaml")):
        rel = path.relative_to(CONFIGS).as_posix()
        if rel.startswith(coverage.EXCLUDED_FAMILIES):
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        op = coverage.normalize((data.get("torch") or {}).get("op"))
        # Prefer the plainest template: no weights, no declared difference.
        score = bool(data.get("weights")) + bool(data.get("expected_difference"))
        if op and (op not in out or score < out[op][1].get("_score", 9)):
            out[op] = (rel, {**data, "_score": score})
    return out


def _template_for(torch_api: str, templates: dict) -> tuple[str, dict] | None:
    api = coverage.normalize(torch_api)
    candidates = [api]
    if api.startswith(("torch.special.", "torch.linalg.")):
        candidates.append("torch." + api.split(".", 2)[2])
    leaf = api.rsplit(".", 1)[-1]
    if leaf in ALIASES:
        candidates.append(api.rsplit(".", 1)[0] + "." + ALIASES[leaf])
    return next((templates[c] for c in candidates if c in templates), None)


def draft(row: dict, template: tuple[str, dict]) -> tuple[Path, dict]:
    rel, data = template
    spec = copy.deepcopy({k: v for k, v in data.items() if k != "_score"})
    ms_api = row["mindspore"]
    mint = ms_api.startswith("mindspore.mint.")
    short = ms_api.removeprefix("mindspore.")
    spec["name"] = short
    spec["summary"] = f"{row['torch']} -> {ms_api} (mapping table {row['table']}: {row['label']}; drafted from {rel})"
    spec["source"] = row.get("diff") or "https://www.mindspore.cn/docs/en/r2.6.0/note/api_mapping/pytorch_api_mapping.html"
    spec["torch"] = {**spec["torch"], "op": row["torch"]}
    for key in ("expected_difference", "tolerance", "grad_tolerance"):
        spec.pop(key, None)
    if mint:
        spec["mindspore"] = {k: v for k, v in spec["torch"].items() if k in ("init", "call", "args", "mode")}
        spec["mindspore"] = {"op": ms_api, **spec["mindspore"]}
        spec.pop("weights", None)
        if isinstance(spec.get("unmapped"), dict):
            spec["unmapped"].pop("mindspore", None)
            # mint's BatchNorm keeps torch's step counter; a loss's class weight stays torch's buffer alone
            (spec["unmapped"].get("torch") or {}).pop("num_batches_tracked", None)
            if not spec["unmapped"].get("torch"):
                spec["unmapped"].pop("torch", None)
            if not spec["unmapped"]:
                spec.pop("unmapped")
        for item in spec.get("inputs", []):
            item.pop("mindspore", None)
        path = CONFIGS / "mint" / f"{short.removeprefix('mint.')}.yaml"
    else:
        spec["mindspore"] = {**spec["mindspore"], "op": ms_api}
        path = CONFIGS / rel.split("/")[0] / f"{row['torch'].rsplit('.', 1)[-1]}.yaml"
    return path, spec


def main(write: bool) -> None:
    templates = _templates()
    names = {d.get("name") for _, d in templates.values()}
    done: set[str] = set()
    for row in coverage.expected_rows(ROOT / "mapping", CONFIGS):
        if row["specs"] or row["section"] not in SECTIONS or not row["mindspore"]:
            continue
        template = _template_for(row["torch"], templates)
        key = coverage.row_key(row)
        if template is None or key in done:
            continue
        done.add(key)
        path, spec = draft(row, template)
        if path.exists() or spec["name"] in names:
            print(f"skip {key}: {path.relative_to(ROOT)} or name {spec['name']} exists")
            continue
        names.add(spec["name"])
        print(f"{'wrote' if write else 'would write'} {path.relative_to(ROOT)} from {template[0]}")
        if write:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(writer.dump(spec), encoding="utf-8")  # no &anchors: torch's arguments written out twice





_GENERAL = {  # the mapping table's general difference parameters
    "out": '{unsupported: "MindSpore has no out= argument", default: null}',
    "size_average": '{unsupported: "deprecated in torch; reduction says it", default: null}',
    "reduce": '{unsupported: "deprecated in torch; reduction says it", default: null}',
    "inplace": '{drop: "in-place flag; the output is the same"}',
    "device": '{drop: "device placement; eqcheck places both sides itself"}',
}


def explore_section(torch_api: str, input_names: set[str]) -> str:
    """An `explore:` section for a mint draft: every keyword torch's signature has passes under its own name
    (mint follows torch's signatures); `out` is refused. Needs torch; '' where inspect cannot tell."""
    import inspect

    import torch  # noqa: F401 - the drafting script may import frameworks; the CLI's list/validate never do

    from eqcheck.backends.resolve import resolve_dotted as resolve

    try:
        target = resolve(torch_api)
        is_class = inspect.isclass(target)
        params = inspect.signature(target.__init__ if is_class else target).parameters
        names = [n for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    except Exception:  # noqa: BLE001 - C builtins have no signature; a missing API has none either
        names = _schema_names(torch_api.rsplit(".", 1)[-1])
    # a, b: the scalar overloads (aten::add.int); the explore engine feeds tensors
    names = [n for n in names if n not in ("self", "input", "a", "b", *input_names)]
    lines = ["explore:", "  arguments:"]
    for name in names:
        if name in _GENERAL:
            lines.append(f"    {name}: {_GENERAL[name]}")
        else:
            lines.append(f"    {name}: {name}")
    return "\n".join(lines) + "\n" if names else ""


def _schema_names(leaf: str) -> list[str]:
    """Argument names over every overload of aten::LEAF (C builtins such as torch.var have no signature)."""
    import torch

    names: list[str] = []
    for schema in torch._C._jit_get_schemas_for_operator(f"aten::{leaf}"):
        if schema.overload_name.endswith("out") or "dimname" in str(schema).lower() and "Dimname" in str(schema):
            continue
        names += [a.name for a in schema.arguments if a.name not in names]
    return names


def add_explore(paths: list[str]) -> None:
    for raw in paths:
        path = Path(raw)
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "explore" in data or not str(data["mindspore"]["op"]).startswith("mindspore.mint."):
            continue
        section = explore_section(data["torch"]["op"], {i["name"] for i in data.get("inputs", [])})
        if section:
            path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + section, encoding="utf-8")
            print(f"explore: {path}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--explore"]:
        add_explore(sys.argv[2:])
    else:
        main("--write" in sys.argv[1:])
