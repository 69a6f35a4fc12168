"""The one YAML style of spec files, written by every generator (scripts/draft_*.py, `eqcheck scaffold`, `eqcheck
findings`' declaration lines) and by scripts/canonical_specs.py, which rewrites shipped specs through it
(tests/test_shipped_configs.py fails on a spec not in this form).

The style, in a sentence per rule:
- the top-level mapping and the mappings under its keys are block style, one key per line, in the order given;
- deeper mappings, and lists holding mappings, are one flow line where that line fits in WIDTH columns
  (`init: {dim: 1, keepdim: true}`) and none of their keys has a comment of its own, else block;
- a list of scalars is one flow line (`shape: [batch, 16]`); a block list has `  - ` items indented two spaces
  under their key;
- a string is plain where YAML reads it back as the same string, else double-quoted (JSON escapes); a float is
  its shortest repr with a point (`1.0e-5`, `0.001`);
- two spaces per level; comments stay with the key they are written above or beside (`rewrite`).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

INDENT = "  "
WIDTH = 130  # the longest flow line; pyproject.toml's line length
_FLOW_UNSAFE = re.compile(r"[,\[\]{}]")


def scalar(value: Any, flow: bool = False) -> str:
    """One scalar as the style writes it; `flow`: inside a flow collection (where , [ ] { } need quotes)."""
    import yaml

    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value):
        mantissa, e, exponent = repr(value).partition("e")
        mantissa = mantissa if "." in mantissa else mantissa + ".0"  # YAML 1.1 reads 1e-05 as a string
        return mantissa + (f"e{exponent[0]}{exponent[1:].lstrip('0') or '0'}" if e else "")
    if isinstance(value, (int, float)):
        return yaml.safe_dump(value, default_flow_style=True).removesuffix("\n...\n").strip()
    text = str(value)
    plain = (text and "\n" not in text and text == text.strip() and not text.startswith(("'", '"', "#", "&", "*", "!", "|",
             ">", "%", "@", "`", "-", "?", ":", "[", "]", "{", "}", ",")) and ": " not in text and " #" not in text
             and not text.endswith(":") and not (flow and _FLOW_UNSAFE.search(text)))
    if plain:
        try:
            if yaml.safe_load(text) == text:
                return text
        except yaml.YAMLError:
            pass
    return json.dumps(text, ensure_ascii=False)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list, tuple))


def _flat(value: Any) -> bool:
    """A list of scalars (or of lists of scalars): always one flow line."""
    return all(_is_scalar(v) or (isinstance(v, (list, tuple)) and all(map(_is_scalar, v))) for v in value)


def flow(value: Any) -> str:
    """A value on one line: flow collections, scalars as `scalar` writes them inside one."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k, True)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value, flow=True)


def _mapping(data: dict, depth: int, lines: list[str], first_prefix: str | None = None, path: tuple = (),
             block: frozenset = frozenset()) -> None:
    pad = INDENT * depth
    for i, (key, value) in enumerate(data.items()):
        here = path + (key,)
        prefix = first_prefix if (i == 0 and first_prefix is not None) else pad
        head = f"{prefix}{scalar(key)}:"
        if not isinstance(value, (dict, list, tuple)):
            lines.append(f"{head} {scalar(value)}")
            continue
        one_line = f"{head} {flow(value)}"
        if not value or (isinstance(value, (list, tuple)) and _flat(value)) or (
                depth >= 1 and len(one_line) <= WIDTH and here not in block):
            lines.append(one_line)
        elif isinstance(value, dict):
            lines.append(head)
            _mapping(value, depth + 1, lines, path=here, block=block)
        else:
            lines.append(head)
            _sequence(value, depth + 1, lines, here, block)


def _sequence(items, depth: int, lines: list[str], path: tuple = (), block: frozenset = frozenset()) -> None:
    pad = INDENT * depth
    for i, item in enumerate(items):
        if isinstance(item, dict) and item:
            _mapping(item, depth + 1, lines, first_prefix=pad + "- ", path=path + (i,), block=block)
        elif isinstance(item, (list, tuple)) and item and not _flat(item) and (
                len(pad + "- " + flow(item)) > WIDTH or path + (i,) in block):
            lines.append(pad + "-")
            _sequence(item, depth + 1, lines, path + (i,), block)
        else:
            lines.append(f"{pad}- {flow(item) if isinstance(item, (dict, list, tuple)) else scalar(item)}")


def dump(data: dict, block: frozenset = frozenset()) -> str:
    """A spec (a mapping, keys in the order to write) as the style's text; `block`: paths (keys and list indexes) of
    collections written block style even where one line would do (their keys carry comments)."""
    lines: list[str] = []
    _mapping(data, 0, lines, block=block)
    return "\n".join(lines) + "\n"


# ---- rewriting a file, comments kept ---------------------------------------------------------------------


def _node_lines(text: str) -> dict[tuple, int]:
    """Path (keys and list indexes) -> the line each mapping key or list item starts on."""
    import yaml

    out: dict[tuple, int] = {}

    def walk(node, path: tuple) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = path + (key.value,)
                out.setdefault(child, key.start_mark.line)
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                out.setdefault(path + (i,), item.start_mark.line)
                walk(item, path + (i,))

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        walk(root, ())
    return out


def _split_comment(line: str) -> tuple[str, str | None]:
    """(content, trailing comment) of a line; a `#` inside quotes is content."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == quote and (quote == "'" or line[i - 1] != "\\"):
                quote = None
        elif char in "'\"" and (i == 0 or line[i - 1] in " [{,:-"):
            quote = char
        elif char == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip(), line[i:]
    return line, None


def rewrite(text: str, data: dict | None = None, notes: dict[tuple, str] | None = None) -> str:
    """The file in the style: its data through `dump`, each comment above or beside the key it was with, a blank line
    kept before a top-level key (or its comments) that had one. `data`: new contents for the file (a generator's
    edit; comments follow their keys' paths), `notes`: a comment beside each of these paths (the edit's source)."""
    import yaml

    data = yaml.safe_load(text) if data is None else data
    if not isinstance(data, dict):
        return text
    old_lines = text.splitlines()
    path_at: dict[int, tuple] = {}
    for path, line in _node_lines(text).items():
        path_at.setdefault(line, path)  # the first key on a line names it
    above: dict[tuple, list[str]] = {}
    beside: dict[tuple, list[str]] = {}
    blank_before: set[tuple] = set()
    pending: list[str] = []
    pending_blank = False
    for number, line in enumerate(old_lines):
        content, comment = _split_comment(line)
        if not content.strip():
            if comment:
                pending.append(comment)
            elif line.strip() == "" and number:
                pending_blank = pending_blank or not pending
            continue
        path = path_at.get(number)
        if path is None:  # a continuation line of a multi-line value: its comments go with the key above
            path = next((path_at[n] for n in range(number, -1, -1) if n in path_at), ())
        if pending:
            above.setdefault(path, []).extend(pending)
        if pending_blank and len(path) == 1:
            blank_before.add(path)
        pending, pending_blank = [], False
        if comment:
            beside.setdefault(path, []).append(comment)
    for path, note in (notes or {}).items():
        beside.setdefault(path, []).append(f"# {note}")
    commented = set(above) | set(beside)
    body = dump(data, frozenset(p[:n] for p in commented for n in range(1, len(p)))).splitlines()
    new_at: dict[int, list[tuple]] = {}
    new_paths = _node_lines("\n".join(body) + "\n")
    for path in set(above) | set(beside) | blank_before:
        probe = path
        while probe and probe not in new_paths:  # a key now inside a flow line: that line
            probe = probe[:-1]
        new_at.setdefault(new_paths.get(probe, 0), []).append(path)
    out: list[str] = []
    for number, line in enumerate(body):
        paths = sorted(new_at.get(number, []), key=len)
        indent = line[: len(line) - len(line.lstrip(" "))]
        if any(p in blank_before for p in paths) and out:
            out.append("")
        for path in paths:
            out.extend(indent + c for c in above.get(path, []))
        trailing = [c for path in paths for c in beside.get(path, [])]
        out.append(line + ("  " + " ".join(trailing) if trailing else ""))
    if pending:  # comments after the last key
        out.extend(pending)
    return "\n".join(out) + "\n"
