"""`eqcheck coverage REPORT.json -o docs/coverage.md`: every row of MindSpore's PyTorch API mapping tables,
with the spec that covers it and that spec's status in a run, or the reason no spec exists.

Inputs, all data: the parsed tables (mapping/pytorch_api_mapping-<branch>.json, scripts/mapping_tables.py),
the specs' torch.op / mindspore.op, mapping/reasons.yaml (why a row has no spec) and mapping/table_errors.yaml
(rows where the table is wrong, measured). `expected_rows` needs no run, so a test can tell the page is stale.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from eqcheck.cases import case_id
from eqcheck.errors import EqcheckError
from eqcheck.report.catalog import LABEL, STATUS_ORDER, relative_path, versions
from eqcheck.report.markdown import cell
from eqcheck.spec.loader import discover_spec_files, parse_spec

TABLE_GLOB = "pytorch_api_mapping-*.json"
EXCLUDED_FAMILIES = ("defaults",)  # deliberately forgotten defaults: declared differences, not a port's mapping
_ROW = re.compile(r"^\| (?P<table>r[\w.]+) \| (?P<n>\d+) \| `(?P<torch>[^`]*)` \| `(?P<ms>[^`]*)` \| [^|]* \| "
                  r"(?P<spec>[^|]*) \| [^|]* \| [^|]* \| (?P<reason>.*) \|$", re.MULTILINE)
_KERNEL = re.compile(r"has no (\w+) kernel|[Tt]he kernel (\w+) unregistered")
_ALIASES = ((r"^F\.", "torch.nn.functional."), (r"^nn\.", "torch.nn."), (r"^ms\.", "mindspore."),
            (r"^mindspore\.ops\.function\.(\w+\.)*", "mindspore.ops."), (r"^mindspore\.ops\.functional\.", "mindspore.ops."),
            (r"^mindspore\.nn\.layer\.(\w+\.)*", "mindspore.nn."), (r"^ops\.", "mindspore.ops."), (r"\(\)$", ""))


def normalize(api: str | None) -> str:
    """One spelling per API: F.x -> torch.nn.functional.x, ms./ops. -> mindspore.ops., no call parentheses."""
    text = (api or "").strip().strip("`")
    for pattern, repl in _ALIASES:
        text = re.sub(pattern, repl, text)
    return text


def row_key(row: dict) -> str:
    """A row's key in reasons.yaml / table_errors.yaml: the same pair in both tables shares it."""
    return f"{row['torch']} -> {row['mindspore']}"


@dataclass(frozen=True)
class Table:
    branch: str
    commit: str
    rows: tuple[dict, ...]


def read_tables(mapping_dir: str | Path) -> list[Table]:
    found = sorted(Path(mapping_dir).glob(TABLE_GLOB))
    if not found:
        raise EqcheckError(f"{mapping_dir}: no {TABLE_GLOB} tables; regenerate them with scripts/mapping_tables.py")
    tables = []
    for path in found:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            tables.append(Table(doc["branch"], doc["commit"], tuple(doc["rows"])))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise EqcheckError(f"{path}: not a mapping table written by scripts/mapping_tables.py ({exc})") from None
    return tables


def read_yaml_data(path: str | Path, top: str) -> dict[str, Any]:
    """mapping/reasons.yaml or table_errors.yaml: a mapping under `top`; a missing file is empty."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise EqcheckError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    value = data.get(top, {}) if isinstance(data, dict) else None
    if not isinstance(value, dict):
        raise EqcheckError(f"{path}: field '{top}' must be a mapping")
    return value


def reason_files(mapping_dir: str | Path) -> list[Path]:
    """reasons.yaml first, then every reasons-*.yaml (one per owner, e.g. reasons-tensor-optim.yaml), which win."""
    mapping_dir = Path(mapping_dir)
    return [mapping_dir / "reasons.yaml", *sorted(mapping_dir.glob("reasons-*.yaml"))]


def read_reasons(mapping_dir: str | Path) -> tuple[dict[str, str], dict[str, str]]:
    """(row key -> reason, section -> reason) over every reasons file."""
    rows: dict[str, str] = {}
    sections: dict[str, str] = {}
    for path in reason_files(mapping_dir):
        rows.update(read_yaml_data(path, "rows"))
        sections.update(read_yaml_data(path, "sections"))
    return rows, sections


def read_table_errors(mapping_dir: str | Path) -> dict[str, dict]:
    """Row key -> {table, measured, spec}: table_errors.yaml's `rows`, and each owner's reasons-*.yaml `table_errors`."""
    errors = dict(read_yaml_data(Path(mapping_dir) / "table_errors.yaml", "rows"))
    for path in reason_files(mapping_dir)[1:]:
        errors.update(read_yaml_data(path, "table_errors"))
    return errors


def spec_index(configs: str | Path) -> dict[tuple[str, str], list[str]]:
    """(torch op, MindSpore op), normalized -> the spec files (relative to configs) that compare them."""
    root = Path(configs)
    index: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in discover_spec_files([str(root)]):
        rel = path.relative_to(root).as_posix()
        if rel.split("/")[0] in EXCLUDED_FAMILIES:
            continue
        spec = parse_spec(path)
        torch, ms = spec.sides.get("torch"), spec.sides.get("mindspore")
        if torch and ms:
            index[(normalize(torch.op), normalize(ms.op))].append(rel)
    return index


def _covering(row: dict, index: dict[tuple[str, str], list[str]], names: dict[str, str]) -> list[str]:
    torch = normalize(names.get(row["torch"], row["torch"]))
    files: list[str] = []
    for ms in [row["mindspore"], *row.get("also", [])]:
        files += [f for f in index.get((torch, normalize(names.get(ms, ms))), []) if f not in files]
    return files


def _reason(row: dict, section_reasons: dict, row_reasons: dict) -> str:
    return row_reasons.get(row_key(row)) or section_reasons.get(row["section"]) or ""


def expected_rows(mapping_dir: str | Path, configs: str | Path) -> list[dict[str, Any]]:
    """Every row of every table with its covering specs or its reason; no run needed."""
    mapping_dir = Path(mapping_dir)
    reasons, sections = read_reasons(mapping_dir)
    names = read_yaml_data(mapping_dir / "table_errors.yaml", "names")  # the table's misspelt API names
    index = spec_index(configs)
    out = []
    for table in read_tables(mapping_dir):
        for n, row in enumerate(table.rows, 1):
            specs = _covering(row, index, names)
            out.append({**row, "table": table.branch, "n": n, "specs": specs,
                        "reason": "" if specs else _reason(row, sections, reasons)})
    return out


def _by_spec(document: dict[str, Any], configs: str) -> dict[str, list[dict]]:
    by_file: dict[str, list[dict]] = defaultdict(list)
    for case in document.get("cases", []):
        by_file[relative_path(case["spec"], str(configs))].append(case)
    return by_file


def _status(cases: list[dict]) -> str:
    if not cases:
        return "not run"
    counts = Counter(c["status"] for c in cases)
    text = ", ".join(f"{LABEL.get(s, s)} ({counts[s]})" for s in STATUS_ORDER if counts[s]) if len(counts) > 1 \
        else LABEL.get(next(iter(counts)), next(iter(counts)))
    refused = next((c.get("message") or "" for c in cases if c["status"] == "unsupported"), "")
    kernel = _KERNEL.search(refused)
    if kernel:
        return f"{text}: no {kernel.group(1) or kernel.group(2)} kernel"
    return f"{text}: kernel select failed" if "Kernel select failed" in refused else text


def _bucket(cases: list[dict]) -> str:
    """The one status a row counts under in the totals: the worst over its cases."""
    if not cases:
        return "not run"
    statuses = {c["status"] for c in cases}
    for status in ("fail", "error", "unexpected_pass", "nondeterministic"):
        if status in statuses:
            return "fail / error"
    for status in ("expected_difference", "unsupported"):
        if status in statuses:
            return status
    return "pass"


def rows(document: dict[str, Any], mapping_dir: str | Path, configs: str = "configs") -> list[dict[str, Any]]:
    by_spec = _by_spec(document, configs)
    errors = read_table_errors(mapping_dir)
    out = []
    for row in expected_rows(mapping_dir, configs):
        cases = [c for f in row["specs"] for c in by_spec.get(f, [])]
        bucket = _bucket(cases) if row["specs"] else "no spec"
        out.append({**row, "cases": cases, "bucket": bucket,
                    "status": _status(cases) if row["specs"] else "-",
                    "samples": sum(1 for c in cases if "sample" in case_id.parts(c["id"])),
                    "table_error": errors.get(row_key(row))})
    return out


BUCKETS = ("pass", "expected_difference", "unsupported", "fail / error", "not run", "no spec")


def render(document: dict[str, Any], mapping_dir: str | Path, configs: str = "configs", command: str = "") -> str:
    table = rows(document, mapping_dir, configs)
    sources = read_tables(mapping_dir)
    lines = [
        "# Coverage of MindSpore's PyTorch API mapping table",
        "",
        f"Generated by `{command or 'eqcheck coverage REPORT.json -o docs/coverage.md'}` from one run of `configs/` "
        f"({versions(document)}) and MindSpore's mapping table "
        f"(`docs/mindspore/source_en/note/api_mapping/pytorch_api_mapping.md` of mindspore-ai/docs: "
        + ", ".join(f"{t.branch} at {t.commit[:12]}, {len(t.rows)} rows" for t in sources)
        + "). Do not edit by hand: regenerate it ([the catalog](catalog.md#coverage-of-the-mapping-table)). "
        "A row is covered by the specs whose `torch.op` and `mindspore.op` are the row's pair (aliases such as "
        "`F.x` normalized); a row without a spec gives its reason (`mapping/reasons*.yaml`). "
        "`samples` counts the explored cases (ids with `sample=`).",
        "",
        "## Totals per section",
        "",
        "| table | section | rows | with a spec | pass | expected difference | unsupported | fail / error | not run | no spec |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    totals: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for row in table:
        totals[(row["table"], row["section"])][row["bucket"]] += 1
    for t in sources:
        whole: Counter = Counter()
        for (branch, section), counts in totals.items():
            if branch == t.branch:
                whole.update(counts)
                lines.append(_total_row(branch, section, counts))
        lines.append(_total_row(t.branch, "**all**", whole))
    consistent = Counter(r["bucket"] for r in table if r["label"] == "consistent")
    differing = consistent["expected_difference"] + consistent["fail / error"]
    lines += ["", f"Rows labelled consistent whose spec does not pass with default flags: {differing} "
              f"({consistent['expected_difference']} declared differences, {consistent['fail / error']} fail or error); "
              f"{consistent['unsupported']} more have no kernel on this device (unsupported).", ""]
    wrong = [r for r in table if r["table_error"]]
    lines += ["## Where the table is wrong", "",
              "Rows whose label or documented defaults a run contradicts (`mapping/table_errors.yaml` and the owners' `reasons-*.yaml` `table_errors:`, measured).", "",
              "| table | # | torch API | MindSpore API | the table says | measured | spec |", "| --- | ---: | --- | --- | --- | --- | --- |"]
    for r in wrong:
        e = r["table_error"]
        lines.append(f"| {r['table']} | {r['n']} | `{r['torch']}` | `{r['mindspore']}` | {cell(e.get('table'))} | "
                     f"{cell(e.get('measured'))} | {cell(e.get('spec'))} |")
    for t in sources:
        lines += ["", f"## {t.branch}", "",
                  "| table | # | torch API | MindSpore API | label | spec | status | samples | reason / note |",
                  "| --- | ---: | --- | --- | --- | --- | --- | ---: | --- |"]
        for r in (r for r in table if r["table"] == t.branch):
            spec = ", ".join(f"`{f}`" for f in r["specs"]) or "-"
            note = r["reason"] or _note(r["cases"])
            lines.append(f"| {r['table']} | {r['n']} | `{r['torch']}` | `{r['mindspore']}` | {r['label']} | {spec} | "
                         f"{cell(r['status'])} | {r['samples']} | {cell(note[:160]) if note else '-'} |")
    return "\n".join(lines) + "\n"


def _note(cases: list[dict]) -> str:
    for c in cases:
        if c.get("expected_difference"):
            return c["expected_difference"]["reason"]
    return ""


def _total_row(branch: str, section: str, c: Counter) -> str:
    return (f"| {branch} | {section} | {sum(c.values())} | {sum(c.values()) - c['no spec']} | "
            + " | ".join(str(c[b]) for b in BUCKETS) + " |")


def page_rows(markdown: str) -> list[tuple[str, int, str, str, tuple[str, ...], str]]:
    """(table, n, torch, MindSpore, spec files, reason) of each row a page lists, for the staleness check."""
    out = []
    for m in _ROW.finditer(markdown):
        specs = tuple(re.findall(r"`([^`]+)`", m.group("spec")))
        reason = "" if specs else m.group("reason")
        out.append((m.group("table"), int(m.group("n")), m.group("torch"), m.group("ms"), specs, reason))
    return out


def expected_page_rows(mapping_dir: str | Path, configs: str | Path) -> list[tuple[str, int, str, str, tuple[str, ...], str]]:
    return [(r["table"], r["n"], r["torch"], r["mindspore"], tuple(r["specs"]),
             "" if r["specs"] else cell(r["reason"][:160]) if r["reason"] else "-")
            for r in expected_rows(mapping_dir, configs)]
