"""Draft specs for simple mapping-table rows that no shipped spec compares yet: element-wise functions,
comparisons, predicates, logical and bitwise ops, shape ops (one YAML per pair, written once, then run and
reviewed like any spec).

    PYTHONPATH=. python scripts/draft_simple_specs.py [--write]

KINDS says what each kind feeds; OPS lists torch API -> (kind, family, literal positional arguments).
The MindSpore side of each row comes from the mapping tables (mapping/*.json), so a pair exists only where
the table lists it.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path


from eqcheck.report import coverage
from eqcheck.spec import writer

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
FLOAT = {"shape": [8, 16]}
BOOL = {"dtype": "bool", "distribution": {"integers": {"low": 0, "high": 2}}}
KINDS = {  # kind -> (inputs, grad)
    "unary": ([{"name": "input", **FLOAT}], True),
    "positive": ([{"name": "input", **FLOAT, "distribution": "positive"}], True),
    "predicate": ([{"name": "input", **FLOAT}], False),
    "binary": ([{"name": "input", **FLOAT}, {"name": "other", **FLOAT}], True),
    "compare": ([{"name": "input", **FLOAT, "derive": [{"round_to": 0.5}]},
                 {"name": "other", **FLOAT, "derive": [{"round_to": 0.5}]}], False),
    "logical": ([{"name": "input", **FLOAT, **BOOL}, {"name": "other", **FLOAT, **BOOL}], False),
    "logical_unary": ([{"name": "input", **FLOAT, **BOOL}], False),
    "integer": ([{"name": "input", **FLOAT, "dtype": "int32", "distribution": {"integers": {"low": 0, "high": 64}}},
                 {"name": "other", **FLOAT, "dtype": "int32", "distribution": {"integers": {"low": 1, "high": 64}}}], False),
    "matrix": ([{"name": "input", "shape": [6, 5]}], True),
    "three": ([{"name": "input", "shape": [4, 6, 5]}], True),
    "stack": ([{"name": "a", "shape": [4, 6]}, {"name": "b", "shape": [4, 6]}], True),
    "vector": ([{"name": "input", "shape": [7]}], True),
    "mv": ([{"name": "input", "shape": [6, 5]}, {"name": "vec", "shape": [5]}], True),
    "addmv": ([{"name": "input", "shape": [6]}, {"name": "mat", "shape": [6, 5]}, {"name": "vec", "shape": [5]}], True),
    "addbmm": ([{"name": "input", "shape": [3, 5]}, {"name": "batch1", "shape": [4, 3, 2]},
                {"name": "batch2", "shape": [4, 2, 5]}], True),
    "addr": ([{"name": "input", "shape": [6, 5]}, {"name": "vec1", "shape": [6]}, {"name": "vec2", "shape": [5]}], True),
    "ger": ([{"name": "input", "shape": [6]}, {"name": "vec2", "shape": [5]}], True),
    "counts": ([{"name": "input", "shape": [20], "dtype": "int32", "distribution": {"integers": {"low": 0, "high": 8}}}], False),
    "like": ([{"name": "input", "shape": [6, 5]}], False),
    "positive2": ([{"name": "input", **FLOAT, "distribution": "positive"},
                   {"name": "other", **FLOAT, "distribution": "positive"}], False),
    "ldexp": ([{"name": "input", **FLOAT}, {"name": "other", **FLOAT, "dtype": "int32",
                                            "distribution": {"integers": {"low": -3, "high": 4}}}], False),
    "blocks": ([{"name": "a", "shape": [2, 3]}, {"name": "b", "shape": [3, 2]}], True),
    "vectors": ([{"name": "a", "shape": [4]}, {"name": "b", "shape": [3]}], False),
    "square": ([{"name": "input", "shape": [5, 5]}], False),
    "nonzero": ([{"name": "input", "shape": [6, 5], "dtype": "int32", "distribution": {"integers": {"low": 0, "high": 3}}}], False),
    "seq": ([{"name": "input", "shape": [2, 3, 8]}], True),
    "image": ([{"name": "input", "shape": [2, 3, 8, 8]}], True),
    "volume": ([{"name": "input", "shape": [2, 3, 6, 6, 6]}], True),
    "bce": ([{"name": "input", "shape": [16, 5], "distribution": {"uniform": {"low": 0.05, "high": 0.95}}},
             {"name": "target", "shape": [16, 5], "grad": False, "distribution": {"uniform": {"low": 0.0, "high": 1.0}}}], True),
    "conv3d": ([{"name": "input", "shape": [2, 3, 6, 6, 6]}, {"name": "weight", "shape": [4, 3, 3, 3, 3]}], True),
    "convt2d": ([{"name": "input", "shape": [2, 3, 6, 6]}, {"name": "weight", "shape": [3, 4, 3, 3]}], True),
    "ranking": ([{"name": "input1", "shape": [16]}, {"name": "input2", "shape": [16]},
                 {"name": "target", "shape": [16], "grad": False, "derive": [{"sign": {}}]}], True),
    "signed": ([{"name": "input", "shape": [16, 5]},
                {"name": "target", "shape": [16, 5], "grad": False, "derive": [{"sign": {}}]}], True),
    "cosine": ([{"name": "input1", "shape": [16, 8]}, {"name": "input2", "shape": [16, 8]},
                {"name": "target", "shape": [16], "grad": False, "derive": [{"sign": {}}]}], True),
    "classes": ([{"name": "input", "shape": [16, 5]}, {"name": "target", "shape": [16], "dtype": "int64", "grad": False,
                                                      "distribution": {"integers": {"low": 0, "high": 5}}}], True),
    "inplace": ([{"name": "input", **FLOAT}], False),
}
OPS = {  # torch API -> (kind, family, literal positional arguments after the inputs)
    "torch.eq": ("compare", "math", []), "torch.ne": ("compare", "math", []), "torch.not_equal": ("compare", "math", []),
    "torch.gt": ("compare", "math", []), "torch.ge": ("compare", "math", []), "torch.lt": ("compare", "math", []),
    "torch.le": ("compare", "math", []), "torch.greater": ("compare", "math", []),
    "torch.greater_equal": ("compare", "math", []), "torch.less": ("compare", "math", []),
    "torch.less_equal": ("compare", "math", []), "torch.fmax": ("binary", "math", []),
    "torch.copysign": ("binary", "math", []), "torch.heaviside": ("compare", "math", []),
    "torch.nextafter": ("compare", "math", []), "torch.logaddexp2": ("binary", "math", []),
    "torch.float_power": ("positive", "math", [{"value": 2.0}]),
    "torch.logical_and": ("logical", "math", []), "torch.logical_or": ("logical", "math", []),
    "torch.logical_xor": ("logical", "math", []), "torch.logical_not": ("logical_unary", "math", []),
    "torch.bitwise_and": ("integer", "math", []), "torch.bitwise_or": ("integer", "math", []),
    "torch.bitwise_xor": ("integer", "math", []), "torch.gcd": ("integer", "math", []),
    "torch.lcm": ("integer", "math", []),
    "torch.isfinite": ("predicate", "math", []), "torch.isinf": ("predicate", "math", []),
    "torch.isnan": ("predicate", "math", []), "torch.isneginf": ("predicate", "math", []),
    "torch.isposinf": ("predicate", "math", []), "torch.signbit": ("predicate", "math", []),
    "torch.isreal": ("predicate", "math", []),
    "torch.rad2deg": ("unary", "math", []), "torch.sgn": ("unary", "math", []), "torch.i0": ("unary", "math", []),
    "torch.nn.functional.tanhshrink": ("unary", "activations", []),
    "torch.nn.functional.sigmoid": ("unary", "activations", []), "torch.nn.functional.tanh": ("unary", "activations", []),
    "torch.nn.functional.hardshrink": ("unary", "activations", []),
    "torch.nn.functional.softmin": ("unary", "activations", [{"value": 1}]),
    "torch.ravel": ("matrix", "indexing", []), "torch.t": ("matrix", "indexing", []),
    "torch.fliplr": ("matrix", "indexing", []), "torch.flipud": ("matrix", "indexing", []),
    "torch.msort": ("matrix", "indexing", []), "torch.clone": ("matrix", "indexing", []),
    "torch.diagflat": ("vector", "indexing", []), "torch.diag_embed": ("matrix", "indexing", []),
    "torch.atleast_1d": ("vector", "indexing", []), "torch.atleast_2d": ("vector", "indexing", []),
    "torch.atleast_3d": ("matrix", "indexing", []),
    "torch.swapaxes": ("three", "indexing", [{"value": 0}, {"value": 2}]),
    "torch.swapdims": ("three", "indexing", [{"value": 0}, {"value": 2}]),
    "torch.moveaxis": ("three", "indexing", [{"value": 0}, {"value": 2}]),
    "torch.movedim": ("three", "indexing", [{"value": 0}, {"value": 2}]),
    "torch.select": ("three", "indexing", [{"value": 1}, {"value": 2}]),
    "torch.hstack": ("stack", "indexing", None), "torch.vstack": ("stack", "indexing", None),
    "torch.dstack": ("stack", "indexing", None), "torch.column_stack": ("stack", "indexing", None),
    "torch.row_stack": ("stack", "indexing", None),
    "torch.mv": ("mv", "linalg", []), "torch.trapz": ("matrix", "math", []),
    "torch.addmv": ("addmv", "linalg", []), "torch.addbmm": ("addbmm", "linalg", []), "torch.addr": ("addr", "linalg", []),
    "torch.ger": ("ger", "linalg", []), "torch.bincount": ("counts", "reductions", []),
    "torch.histc": ("like", "reductions", []), "torch.zeros_like": ("like", "indexing", []),
    "torch.ones_like": ("like", "indexing", []), "torch.full_like": ("like", "indexing", [{"value": 2.5}]),
    "torch.igamma": ("positive2", "math", []), "torch.igammac": ("positive2", "math", []),
    "torch.ldexp": ("ldexp", "math", []), "torch.sub": ("binary", "math", []), "torch.true_divide": ("binary", "math", []),
    "torch.isclose": ("compare", "math", []),
    "torch.mvlgamma": ("positive", "math", [{"value": 1}]),
    "torch.renorm": ("matrix", "math", [{"value": 2}, {"value": 0}, {"value": 1.0}]),
    "torch.diff": ("matrix", "math", []), "torch.block_diag": ("blocks", "indexing", []),
    "torch.meshgrid": ("vectors", "indexing", []),
    "torch.broadcast_to": ("matrix", "indexing", [{"value": [4, 6, 5]}]),
    "torch.tensor_split": ("matrix", "indexing", [{"value": 3}]), "torch.hsplit": ("matrix", "indexing", [{"value": 5}]),
    "torch.vsplit": ("matrix", "indexing", [{"value": 3}]), "torch.unbind": ("three", "indexing", []),
    "torch.vander": ("vector", "linalg", []), "torch.nonzero": ("nonzero", "indexing", []),
    "torch.slogdet": ("square", "linalg", []), "torch.linalg.cond": ("square", "linalg", []),
    "torch.linalg.inv": ("square", "linalg", []),
    "torch.special.log_softmax": ("unary", "activations", [{"value": 1}]),
    "torch.nn.functional.relu_": ("inplace", "activations", []),
    "torch.nn.functional.adaptive_avg_pool1d": ("seq", "pooling", [{"value": 4}]),
    "torch.nn.functional.adaptive_max_pool1d": ("seq", "pooling", [{"value": 4}]),
    "torch.nn.functional.avg_pool1d": ("seq", "pooling", [{"value": 2}, {"value": 2}]),
    "torch.nn.functional.lp_pool1d": ("seq", "pooling", [{"value": 2.0}, {"value": 2}]),
    "torch.nn.functional.adaptive_max_pool2d": ("image", "pooling", [{"value": [4, 4]}]),
    "torch.nn.functional.lp_pool2d": ("image", "pooling", [{"value": 2.0}, {"value": 2}]),
    "torch.nn.functional.adaptive_avg_pool3d": ("volume", "pooling", [{"value": [3, 3, 3]}]),
    "torch.nn.functional.avg_pool3d": ("volume", "pooling", [{"value": 2}, {"value": 2}]),
    "torch.nn.functional.max_pool3d": ("volume", "pooling", [{"value": 2}, {"value": 2}]),
    "torch.nn.functional.binary_cross_entropy": ("bce", "losses", []),
    "torch.nn.functional.conv3d": ("conv3d", "nn", []), "torch.nn.functional.conv_transpose2d": ("convt2d", "nn", []),
    "torch.nn.functional.pdist": ("matrix", "linalg", []),
    "torch.nn.functional.margin_ranking_loss": ("ranking", "losses", []),
    "torch.nn.functional.soft_margin_loss": ("signed", "losses", []),
    "torch.nn.functional.hinge_embedding_loss": ("signed", "losses", []),
    "torch.nn.functional.cosine_embedding_loss": ("cosine", "losses", []),
    "torch.nn.functional.multi_margin_loss": ("classes", "losses", []),
    "torch.dist": ("binary", "linalg", []),
}


def _spec(row: dict, kind: str, family: str, literals: list | None) -> tuple[Path, dict]:
    inputs, grad = KINDS[kind]
    names = [i["name"] for i in inputs]
    if literals is None and kind == "stack":
        side_args = [names]
    else:
        side_args = [*names, *(literals or [])]
    ms_api = row["mindspore"]
    short = ms_api.removeprefix("mindspore.")
    functional = row["torch"].startswith("torch.nn.functional.") and not short.startswith("mint.")
    name = "F." + row["torch"].rsplit(".", 1)[-1] if functional else short  # ops.sigmoid is torch.sigmoid's
    spec = {"name": name, "summary": f"{row['torch']} -> {ms_api} (mapping table {row['table']}: {row['label']})",
            "source": row.get("diff") or f"https://www.mindspore.cn/docs/en/{row['table']}/note/api_mapping/pytorch_api_mapping.html"}
    if grad:
        spec["grad"] = True
    spec["inputs"] = [dict(i) for i in inputs]
    spec["torch"] = {"op": row["torch"], "args": copy.deepcopy(side_args)}
    spec["mindspore"] = {"op": ms_api, "args": copy.deepcopy(side_args)}
    leaf = short.removeprefix("mint.").removeprefix("ops.")
    folder = "mint" if short.startswith("mint.") else family
    return CONFIGS / folder / f"{name if functional else leaf}.yaml", spec


def main(write: bool) -> None:
    for row in coverage.expected_rows(ROOT / "mapping", CONFIGS):
        if row["specs"] or row["torch"] not in OPS or not row["mindspore"]:
            continue
        kind, family, literals = OPS[row["torch"]]
        path, spec = _spec(row, kind, family, literals)
        if path.exists():
            print(f"skip {row['torch']} -> {row['mindspore']}: {path.relative_to(ROOT)} exists")
            continue
        print(f"{'wrote' if write else 'would write'} {path.relative_to(ROOT)}")
        if write:
            path.write_text(writer.dump(spec), encoding="utf-8")


if __name__ == "__main__":
    main("--write" in sys.argv[1:])
