"""Fuzz the spec loader, the validator and the cheap commands with hypothesis.

Thousands of malformed documents (random YAML-ish trees, mutated shipped configs, raw and truncated text)
and random flag combinations for `list` and `validate`: the loader raises only SpecError; the CLI exits 0
or 2 with one paragraph, never a traceback. No framework is imported. The number of generated examples is
counted and checked at the end (run with -s to see it).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CONFIGS
from eqcheck.errors import SpecError
from eqcheck.cases import load_spec

EXAMPLES = int(os.environ.get("EQCHECK_FUZZ_EXAMPLES", "1000"))  # per test; the closing test checks the total
COUNT = {"documents": 0, "cli": 0}
CLI_EXAMPLES = EXAMPLES // 2  # each loads a folder of specs: ~35 ms
_CHECKS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=_CHECKS)
FUZZ_CLI = settings(max_examples=CLI_EXAMPLES, deadline=None, database=None, suppress_health_check=_CHECKS)

SHIPPED = sorted(CONFIGS.rglob("*.yaml"))
SHIPPED_DOCS = [yaml.safe_load(p.read_text()) for p in SHIPPED]
SHIPPED_TEXT = [p.read_text() for p in SHIPPED]


def _all_keys(node, out: set) -> set:
    if isinstance(node, dict):
        for key, value in node.items():
            out.add(str(key))
            _all_keys(value, out)
    elif isinstance(node, list):
        for item in node:
            _all_keys(item, out)
    return out


KEYS = sorted(_all_keys(SHIPPED_DOCS, set()))

# ---- strategies ---------------------------------------------------------------------------------

expressions = st.one_of(
    st.sampled_from(["$batch", "$3*hidden", "$2**64", "$(2**64)**64", "$1e308*10", "$1/0", "$-1", "$x.y", "$f(1)",
                     "$'a'*3", "$not", "$(", "$" + "(" * 300, "$dtype == 'float32'", "$a if b else c", "$[1,2]",
                     "$__import__('os')", "$lambda: 1", "$1e300**2", "$-'a'", "$(-8)**0.5", "$10**12", "$0.5",
                     "batch // 0", "1e-5", "nan", "inf", "-inf", "0x10", "1_000",
                     "$~1", "$1 in t", "$n is 4", "$n is not 4", "$1 not in t", "$1 @ 2"]),  # #32: operators the evaluator lacks
    st.text(max_size=30).map(lambda t: "$" + t),
)
scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70), st.sampled_from([0, 1, -1, 2**28, 2**28 + 1, 10**12, 2**63, 2**64]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.sampled_from(KEYS), expressions,
    st.sampled_from(["torch.nn.GRUCell", "mindspore.nn.GRUCell", "torch.load", "torch.os.system", "numpy.load",
                     "torch.", "torch..x", "mindspore.ops.Custom", "torch.nn.Module.__init__", "float32", "bfloat16",
                     "int64", "bool", "normal", "integers", "constant", "eval", "train", "\x00", "\ud7ff", "🙂",
                     # #32: file, import and communication entry points inside the numerical namespaces; hostile text
                     "mindspore.Tensor.offload", "torch.PyTorchFileWriter", "mindspore.ops.tensordump",
                     "torch.import_ir_module", "torch.set_default_tensor_type", "mindspore.ops.broadcast_object_list",
                     "x\"\"\"\nimport os\n\"\"\"", "\x1b]0;PWNED\x07", "a\rb"]),
)
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=10), st.integers(), st.booleans()), children, max_size=6),
    ),
    max_leaves=25,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, prefix + (i,))


def _get(node, path):
    for part in path:
        node = node[part]
    return node


@st.composite
def mutated_configs(draw):
    """A shipped config with 1-4 random mutations: drop, rename, retype, duplicate, garbage values."""
    import copy

    doc = copy.deepcopy(draw(st.sampled_from(SHIPPED_DOCS)))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, last = _get(doc, path[:-1]), path[-1]
        action = draw(st.sampled_from(["drop", "rename", "replace", "duplicate", "wrap", "none", "huge", "expr", "tree"]))
        if action == "drop":
            del parent[last]
        elif action == "rename" and isinstance(parent, dict):
            value = parent.pop(last)
            parent[draw(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)))] = value
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
        elif action == "wrap":
            parent[last] = [parent[last]]
        elif action == "none":
            parent[last] = None
        elif action == "huge":
            parent[last] = draw(st.sampled_from([10**12, 2**64, -(2**63), [10**6, 10**6], [2**31, 2**31, 2**31], 1e308]))
        elif action == "expr":
            parent[last] = draw(expressions)
        else:
            parent[last] = draw(trees)
    return doc


def _write(text: str | bytes) -> Path:
    handle = tempfile.NamedTemporaryFile("wb", suffix=".yaml", delete=False, dir=_tmpdir())
    with handle:
        handle.write(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    return Path(handle.name)


_TMP: list[str] = []


def _tmpdir() -> str:
    if not _TMP:
        _TMP.append(tempfile.mkdtemp(prefix="eqcheck-fuzz-"))
    return _TMP[0]


def _dump(doc) -> str:
    try:
        return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, UnicodeError, ValueError):
        return repr(doc)


def _load_only_spec_error(text: str | bytes) -> None:
    COUNT["documents"] += 1
    path = _write(text)
    try:
        load_spec(path)
    except SpecError as exc:
        paragraph = exc.paragraph()
        assert paragraph and "Traceback" not in paragraph
    finally:
        path.unlink()


# ---- the loader and validator directly -----------------------------------------------------------


@FUZZ
@given(trees)
def test_random_trees_raise_only_spec_errors(doc):
    _load_only_spec_error(_dump(doc))


@FUZZ
@given(mutated_configs())
def test_mutated_shipped_configs_raise_only_spec_errors(doc):
    _load_only_spec_error(_dump(doc))


@FUZZ
@given(st.data())
def test_raw_and_truncated_text_raises_only_spec_errors(data):
    text = data.draw(st.sampled_from(SHIPPED_TEXT))
    choice = data.draw(st.sampled_from(["truncate", "flip", "text", "bytes", "splice", "aliases"]))
    if choice == "truncate":
        raw = text[: data.draw(st.integers(0, len(text)))]
    elif choice == "flip":
        at = data.draw(st.integers(0, len(text) - 1))
        raw = text[:at] + data.draw(st.text(min_size=1, max_size=3)) + text[at + 1:]
    elif choice == "text":
        raw = data.draw(st.text(max_size=200))
    elif choice == "bytes":
        raw = data.draw(st.binary(max_size=200))
    elif choice == "aliases":  # #32: a YAML alias tree spliced in as a params entry (8 levels: 10**8 values)
        depth = data.draw(st.integers(1, 8))
        levels = ["a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"]
        levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, depth + 1)]
        raw = "params:\n" + "".join(f"  {line}\n" for line in levels) + text.replace("params:", "params_:")
    else:
        other = data.draw(st.sampled_from(SHIPPED_TEXT))
        raw = text[: len(text) // 2] + other[len(other) // 2:]
    _load_only_spec_error(raw)


# ---- the cheap commands, with random flags -------------------------------------------------------

FLAG_WORDS = ["-k", "--dtype", "--help", "-h", "--version", "--json", "--seed", "--bogus", "-q", "--", "-kgru",
              "--dtype=float32", "--dtype=", "float32,float64", "bfloat16", "int8", ",", "gru or lstm", "not", "(", ")",
              "and and", "(((", "x" * 300, "nn.GRUCell[bias=True", "\x00", "é", "--jobs", "2"]


@FUZZ_CLI
@given(
    command=st.sampled_from(["list", "validate"]),
    target=st.sampled_from(["configs", "configs/nn/GRUCell.yaml", "fuzzed", "missing", "empty-dir", "fuzzed-dir"]),
    flags=st.lists(st.one_of(st.sampled_from(FLAG_WORDS), st.text(max_size=12)), max_size=6),
    selection=st.one_of(st.none(), st.text(max_size=40), st.just("not " * 2000 + "x"), st.just("(" * 2000 + "x" + ")" * 2000)),
    doc=st.one_of(mutated_configs(), trees),
)
def test_cli_list_and_validate_exit_0_or_2(cli, command, target, flags, selection, doc):
    COUNT["cli"] += 1
    paths = {"configs": str(CONFIGS), "configs/nn/GRUCell.yaml": str(CONFIGS / "nn" / "GRUCell.yaml"),
             "missing": os.path.join(_tmpdir(), "does-not-exist.yaml")}
    if target in ("fuzzed", "fuzzed-dir"):
        folder = tempfile.mkdtemp(dir=_tmpdir())
        spec = Path(folder) / "spec.yaml"
        spec.write_text(_dump(doc), encoding="utf-8", errors="surrogatepass")
        paths[target] = str(spec) if target == "fuzzed" else folder
    elif target == "empty-dir":
        paths[target] = tempfile.mkdtemp(dir=_tmpdir())
    args = [command, paths[target], *flags]
    if selection is not None and command == "list":
        args += ["-k", selection]
    result = cli(*args)
    assert result.exit_code in (0, 2), (args, result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert "Traceback" not in result.output, (args, result.output)


def test_zz_generated_example_count():
    import shutil

    for folder in _TMP:
        shutil.rmtree(folder, ignore_errors=True)
    total = COUNT["documents"] + COUNT["cli"]
    print(f"\nfuzz: {COUNT['documents']} generated spec documents, {COUNT['cli']} CLI invocations, {total} in all")
    # 0 when -k deselected a test; hypothesis runs max_examples of each test that passes
    assert COUNT["documents"] == 0 or COUNT["documents"] >= EXAMPLES, COUNT
    assert COUNT["cli"] == 0 or COUNT["cli"] >= CLI_EXAMPLES, COUNT
