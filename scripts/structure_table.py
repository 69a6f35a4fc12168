"""Write eqcheck/verdict/structure.json: which torch ops are elementwise (from OpInfo) or multilinear (listed here).

    python scripts/structure_table.py            # rewrite the table from the installed torch
    python scripts/structure_table.py --check    # exit 1 if the checked-in table is stale

Elementwise: the names (and variants) of op_db's UnaryUfuncInfo and BinaryUfuncInfo entries, torch's own record of
"each output element is f of one element per input"; `aliases` names each alias's entry (special.expm1 -> expm1). Module
classes map to their functional entry when the lower-cased class name is one (nn.Tanh -> tanh, nn.ReLU ->
nn.functional.relu).
Multilinear: ops whose every output element is a sum of products of inputs and weights with unit coefficients, so
the op evaluated on ones counts the products (verdict/rounding.py). Scaled sums (mean, avg_pool, addmm's alpha)
are left out: on ones they return 1, not n.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TABLE = Path(__file__).resolve().parent.parent / "eqcheck" / "verdict" / "structure.json"
MULTILINEAR = {
    "nn.functional.conv1d": "Conv1d", "nn.functional.conv2d": "Conv2d", "nn.functional.conv3d": "Conv3d",
    "nn.functional.conv_transpose1d": "ConvTranspose1d", "nn.functional.conv_transpose2d": "ConvTranspose2d",
    "nn.functional.conv_transpose3d": "ConvTranspose3d", "nn.functional.linear": "Linear",
    "nn.functional.bilinear": "Bilinear", "matmul": None, "mm": None, "bmm": None, "mv": None, "dot": None,
    "inner": None, "outer": None, "einsum": None, "tensordot": None, "kron": None, "sum": None, "cumsum": None,
    "trace": None,
}


def build() -> dict:
    import torch
    from torch.testing._internal.common_methods_invocations import op_db
    from torch.testing._internal.opinfo.core import BinaryUfuncInfo, UnaryUfuncInfo

    ufuncs = [op for op in op_db if isinstance(op, (UnaryUfuncInfo, BinaryUfuncInfo))]
    elementwise = sorted({op.name + (f".{op.variant_test_name}" if op.variant_test_name else "") for op in ufuncs})
    aliases = {alias.name.removeprefix("torch."): op.name for op in ufuncs if not op.variant_test_name
               for alias in op.aliases or ()}
    names = set(elementwise)
    modules = {}
    for cls in sorted(n for n in dir(torch.nn) if n[:1].isupper()):
        lower = cls.lower()
        entry = next((e for e in (f"nn.functional.{lower}", lower) if e in names), None)
        if entry:
            modules[cls] = entry
    modules.update({cls: entry for entry, cls in MULTILINEAR.items() if cls})
    return {"torch": torch.__version__.split("+")[0], "elementwise": elementwise, "aliases": dict(sorted(aliases.items())),
            "multilinear": sorted(MULTILINEAR), "modules": dict(sorted(modules.items()))}


def main() -> int:
    table = build()
    text = json.dumps(table, indent=1) + "\n"
    if "--check" in sys.argv:
        if TABLE.read_text(encoding="utf-8") != text:
            print(f"{TABLE} is stale: run python scripts/structure_table.py", file=sys.stderr)
            return 1
        return 0
    TABLE.write_text(text, encoding="utf-8")
    print(f"wrote {TABLE}: {len(table['elementwise'])} elementwise, {len(table['multilinear'])} multilinear, "
          f"{len(table['modules'])} module classes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
