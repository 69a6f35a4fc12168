"""Execution: running cases. `runner` takes one case across two targets (build, load the shared weights, feed the
inputs, call `verdict` on every output), `checks/` adds the gradient, state and float64-reference passes,
`trials` repeats a case over seeds, `failures` words what a side raised, and `executor`/`workers` run many cases
in this process or in isolated worker processes.

May import every lower layer: `verdict`, `cases`, `spec`, `backends` and the package root. Never `report` or `gate`.
"""
