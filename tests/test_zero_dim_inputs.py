"""A 0-dim shared input reaches each framework as 0-dim (numpy<2's ascontiguousarray returns shape [1] for it)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.parametrize("backend_path", ["eqcheck.backends.torch_eager:TorchEagerBackend",
                                          "eqcheck.backends.mindspore_pynative:MindSporePyNativeBackend"])
def test_a_zero_dim_input_keeps_its_shape(backend_path):
    module, name = backend_path.split(":")
    backend = getattr(__import__(module, fromlist=[name]), name)()
    backend.activate()
    tensor = backend.tensor(np.array(1.5), "float32")
    assert tuple(tensor.shape) == ()
    assert backend.to_numpy(tensor).shape == () and float(backend.to_numpy(tensor)) == 1.5
