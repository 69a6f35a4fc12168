"""One trial of a case (a case under one seed): everything its forward run produced, handed to every check as
`check(runner, trial, result)`. A check reads what it needs from here, so no check depends on another having run
first; what the gradient check is fed (cotangents, `wrt`) is set by the runner before it runs, not by the check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eqcheck.cases import weights
from eqcheck.cases.sweep import Case


@dataclass
class Trial:
    case: Case
    seed: int
    built: dict[str, Any]  # target label -> the built op or model
    params: dict[str, dict]  # framework -> the parameter records its backend reported
    weight_map: weights.WeightMap
    canonical: dict[str, np.ndarray]  # the shared weights, canonical names and layout
    loaded: dict[str, dict[str, np.ndarray]]  # target label -> the side's weights as loaded
    inputs: dict[str, np.ndarray]
    flat: dict[str, list[tuple[str, np.ndarray]]]  # target label -> forward outputs by path, flattened
    state_rows: list | None = None  # the buffers compared after the call (checks/state.py), if any
    cotangents: list[np.ndarray | None] | None = None  # one per forward output; set where gradients are compared
    wrt: list[str] = field(default_factory=list)  # the inputs gradients are taken with respect to (plus parameters)

