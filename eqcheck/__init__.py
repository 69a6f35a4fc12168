"""eqcheck: prove (or disprove) that two deep-learning frameworks compute the same thing.

The data flow, one folder per step:

    spec/       YAML -> OpSpec (strict validation, safe $expressions, allowlist, weight layouts)
    cases/      OpSpec -> Case per sweep point x dtype; seeded inputs; one shared weight set bound to both sides
    backends/   one module per framework or execution mode behind one small interface
    execution/  one case across two targets, gradient/state/float64 passes, in-process or worker executors
    verdict/    deviation metrics, the tolerance rule, float64 attribution, the result records
    report/     the JSON document and every view of it (rich, JUnit, Markdown, HTML, repro)
    gate/       CI-gate features: baseline diff, golden outputs, shards, the pytest plugin
    api.py      eqcheck.compare: the same run on objects a Python caller holds; testing.py: assert_equivalent
    cli.py      the click commands

Imports only point down this stack (backends is the bottom: it knows nothing of specs), with the package
root's `errors`, `dtypes` and `_lazy` usable everywhere; tests/test_layers.py enforces it.
"""

__version__ = "0.1.0"

__all__ = ["compare", "__version__"]


def __getattr__(name: str):
    """`eqcheck.compare` on first use: `import eqcheck` stays cheap (--help, list and validate import no numpy)."""
    if name == "compare":
        from eqcheck.api import compare

        return compare
    raise AttributeError(f"module 'eqcheck' has no attribute {name!r}")
