"""torch's own test samples (OpInfo `op_db`, ModuleInfo `module_db`, OptimizerInfo `optim_db`), built once per torch version.

- `cache.py`: where built samples live (JSON arguments + .npz arrays, no pickle) and `ensure`, which builds missing
  entries in a child process, so the process asking (`list --explore`, a run) never imports op_db itself.
- `build.py`: that child: `python -m eqcheck.backends.samples.build CACHE SOURCE ENTRY...`.
- one module per sample source (`opinfo.py`, `modules.py`, `borrowed.py`: a module's samples from its
  functional's, `optimizers.py`): its index of entries and one entry's samples.
- `encoding.py`: torch values -> JSON-safe values and named arrays.

Backend layer: it imports torch (in the child) and knows nothing of specs or cases; eqcheck/cases/explore.py
turns the cached records into cases through each spec's `explore:` map.
"""

# source name -> module building it; a new source is a new module and one line here
SOURCES = {
    "opinfo": "eqcheck.backends.samples.opinfo",
    "module": "eqcheck.backends.samples.modules",
    "borrowed": "eqcheck.backends.samples.borrowed",  # a module's samples from its functional's op_db entries
    "optim": "eqcheck.backends.samples.optimizers",
    "mindspore": "eqcheck.backends.samples.signatures",  # MindSpore's parameter names (no samples)
}
