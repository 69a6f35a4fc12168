"""`eqcheck run --inputs FILE`: real data replacing spec inputs by name, checked before any case runs."""

from __future__ import annotations

import dataclasses

from eqcheck.cases.draws import fit_input
from eqcheck.cases.weights import read_weights_file  # the same reader as --weights: a .npz or a torch dict of tensors
from eqcheck.errors import EqcheckError
from eqcheck.spec.model import InputData


def with_input_file(cases: list, file: str) -> list:
    """`eqcheck run --inputs FILE`: every input named in FILE (a .npz, or a torch .pt holding a dict of tensors) takes
    its values from there, in every case; each is checked against its case's shape and dtype now, before any case runs."""
    if not file.lower().endswith((".npz", ".pt", ".pth")):
        raise EqcheckError("is not a .npz or torch .pt file holding arrays by input name", file=file, field="--inputs")
    arrays = read_weights_file(file, field="--inputs")
    names = {inp.name for case in cases for inp in case.spec.inputs}
    unknown = sorted(set(arrays) - names)
    if unknown:
        raise EqcheckError(f"names {', '.join(unknown)}, which no selected spec has as an input (inputs: {', '.join(sorted(names))})",
                           file=file, field="--inputs", hint="name each array after the input it replaces")
    specs: dict[int, object] = {}
    out = []
    for case in cases:
        spec = case.spec
        if id(spec) not in specs:
            inputs = tuple(dataclasses.replace(inp, data=InputData(file, inp.name))
                           if inp.name in arrays else inp for inp in spec.inputs)
            specs[id(spec)] = dataclasses.replace(spec, inputs=inputs)
        case = dataclasses.replace(case, spec=specs[id(spec)])
        for i, inp in enumerate(case.spec.inputs):
            if inp.name in arrays and case.edge is None:
                fit_input(arrays[inp.name], case.input_shape(i), case.input_dtype(inp), what=f"{file}[{inp.name}] for {case.id}",
                          spec=file, field="--inputs")
        out.append(case)
    return out
