"""Draft mapping/reasons.yaml's `rows:`: why each mapping-table row without a spec has none.

    PYTHONPATH=. python scripts/mapping_reasons.py          # imports torch and MindSpore to check each API exists

Rules, first match wins; the section reasons (written by hand) already cover whole sections. Rows that a
spec covers need no reason and are left out; "no spec yet" marks a runnable row still to write. Review the
result before committing: the rules draft, a person decides.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from eqcheck.report import coverage

ROOT = Path(__file__).resolve().parent.parent
RULES = (  # (pattern over the torch API, reason)
    (r"rand|normal|bernoulli|multinomial|poisson|[Dd]ropout|RReLU|rrelu|gumbel|init\.uniform_|seed|shuffle",
     "random numbers: not comparable across frameworks"),
    (r"\.(is_tensor|is_complex|is_floating_point|is_nonzero|numel|nn\.parameter\.Parameter|nn\.Module\w*|nn\.Sequential)$"
     r"|Module(Dict|List)$|Sequential$|ParameterList$",
     "framework mechanism (type checks, containers), not numerics"),
    (r"\.(angle|conj|real|imag|polar|view_as_real|view_as_complex|complex|eigvals)$",
     "complex numbers: the spec format feeds real tensors"),
    (r"\.(arange|range|linspace|logspace|eye|zeros|ones|full|empty|\w+_window|tril_indices|triu_indices|tensor)$",
     "no tensor input: built from sizes alone, nothing shared to feed both sides"),
    (r"SyncBatchNorm", "not applicable here: distributed"),
    (r"\.(cholesky|cholesky_solve|geqrf|orgqr|ormqr|lu_solve|lu_unpack)$",
     "needs a structured input (a positive-definite matrix or a factorization) that seeded draws do not make"),
    (r"\.svd$", "singular vectors are defined up to sign (and the outputs come in another order: torch U, S, V; MindSpore S, U, V)"),
    (r"\.polygamma$", "torch takes n before the input (polygamma(n, input)); a spec passes its inputs first"),
    (r"MaxUnpool|max_unpool", "needs the indices of a max pooling as input, which seeded draws do not make"),
    (r"\.searchsorted$", "needs a sorted sequence as input, which seeded draws do not make"),
    (r"\.empty_like$", "uninitialized memory: nothing to compare"),
    (r"functional\.ctc_loss$", "MindSpore returns (loss, log_alpha), torch one tensor: the outputs differ in structure "
     "(table_errors.yaml); nn.CTCLoss is compared"),
    (r"^torch\.nn\.Transformer(Encoder|Decoder)$", "takes a layer module as an argument (encoder_layer / decoder_layer); "
     "a spec holds data only: nn.TransformerEncoderLayer is compared"),
    (r"^torch\.nn\.Flatten$", "the table pairs a module with a function; torch.flatten -> mint.flatten is compared"),
)

PAIR_RULES = (  # (pattern over "TORCH -> MINDSPORE", reason)
    (r"^torch\.unique -> mindspore\.ops\.", "MindSpore's ops version returns (output, indices), "
     "torch the output alone: the outputs differ in structure; the mint version is compared"),
    (r"^torch\.logdet -> ", "log of a negative determinant is nan on both sides; a positive-determinant input is not "
     "something seeded draws make"),
)


def _exists(api: str) -> bool:
    from eqcheck.backends.resolve import resolve_dotted

    try:
        resolve_dotted(api)
        return True
    except Exception:  # noqa: BLE001 - a property (Tensor.T, Tensor.shape) resolves only as its class's attribute
        parent, _, leaf = api.rpartition(".")
        try:
            return hasattr(resolve_dotted(parent), leaf)
        except Exception:  # noqa: BLE001 - any failure to resolve means the API is not there
            return False


def reason(row: dict) -> str:
    for pattern, text in RULES:
        if re.search(pattern, row["torch"]):
            return text
    for pattern, text in PAIR_RULES:
        if re.search(pattern, coverage.row_key(row)):
            return text
    if not _exists(row["torch"]):
        return "the table's torch API does not exist in torch 2.13 (misspelt or removed)"
    if not row["mindspore"] or not _exists(row["mindspore"]):
        return "API absent in MindSpore 2.10"
    if row["section"] in ("torch.Tensor", "torch.optim", "torch.optim.lr_scheduler"):
        return "no spec yet (Tensor methods and optimizers: configs/tensor, configs/optim)"
    return "no spec yet"


def main() -> None:
    import mindspore  # noqa: F401 - resolve both frameworks' APIs
    import torch  # noqa: F401

    path = ROOT / "mapping" / "reasons.yaml"
    text = path.read_text(encoding="utf-8")
    sections = coverage.read_yaml_data(path, "sections")
    others: dict[str, str] = {}  # the other owners' files (reasons-*.yaml) keep their rows
    for other in coverage.reason_files(ROOT / "mapping")[1:]:
        others.update(coverage.read_yaml_data(other, "rows"))
    rows = {}
    for row in coverage.expected_rows(ROOT / "mapping", ROOT / "configs"):
        if row["specs"] or row["section"] in sections or coverage.row_key(row) in others:
            continue
        rows.setdefault(coverage.row_key(row), reason(row))
    found = re.search(r"^rows:", text, re.MULTILINE)
    head = text[: found.start()] if found else text
    path.write_text(head + yaml.safe_dump({"rows": dict(sorted(rows.items()))}, sort_keys=False, width=150,
                                          allow_unicode=True), encoding="utf-8")
    print(f"{path}: {len(rows)} row reasons")


if __name__ == "__main__":
    main()
