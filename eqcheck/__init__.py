"""eqcheck: prove (or disprove) that two deep-learning frameworks compute the same thing.

Data flow, one module per step:
    spec/ (YAML -> OpSpec) -> cases (sweep -> Case) -> data (shared inputs, weights)
    -> backends/ (torch, mindspore) -> executor (run both) -> compare (deviations)
    -> report/ (JSON document, rich console)
"""

__version__ = "0.1.0"
