"""Comparisons beyond the forward outputs, each run by CaseRunner after the forward pass when a case asks:
state.py (buffers after a train-mode call), gradients.py (--grad), reference.py (the error budget's float64 re-runs)."""
