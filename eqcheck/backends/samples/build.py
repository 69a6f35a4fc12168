"""The child that builds samples: `python -m eqcheck.backends.samples.build FOLDER SOURCE [ENTRY...]`.

Writes FOLDER/index.json, then FOLDER/ENTRY.json and ENTRY.npz per entry (atomically). Exit 3 with one line on
stderr when torch's test internals cannot be imported."""

from __future__ import annotations

import importlib
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from eqcheck.backends.samples import SOURCES

SEED = 0  # torch's sample generators draw from the global generator: the same seed and torch, the same samples


def _write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix + ".tmp")
    os.close(fd)
    write(tmp)
    os.replace(tmp, path)


def _write_json(path: Path, data) -> None:
    def write(tmp):
        Path(tmp).write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
    _write(path, write)


def _savez(path: str, arrays) -> None:
    with open(path, "wb") as handle:  # a file object: np.savez would append .npz to the temporary name
        np.savez_compressed(handle, **arrays)


def main(argv: list[str]) -> int:
    out, source, names = Path(argv[0]), argv[1], argv[2:]
    os.environ.setdefault("GLOG_v", "3")
    import warnings

    warnings.simplefilter("ignore")
    try:
        module = importlib.import_module(SOURCES[source])
        catalog = module.load()
    except Exception as exc:  # noqa: BLE001 - ModuleNotFoundError (expecttest), a moved internal API, ...
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 3
    _write_json(out / "index.json", module.index(catalog))
    for name in names:
        record, arrays = module.build(catalog, name, SEED)
        with_arrays = out / f"{name}.npz"
        _write(with_arrays, lambda tmp: _savez(tmp, arrays))
        _write_json(out / f"{name}.json", record)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
