"""Why a framework step failed, by kind, so that one failure reads the same on every release of the framework.

MindSpore words a missing CPU kernel differently from release to release (2.7: `Not found op
N9mindspore6kernel7pyboost9CumsumExtE on device CPU`; 2.10: `The kernel CumsumExt unregistered.`), and an
older release can lack an API its own layers call (2.7: `module 'mindspore.ops' has no attribute
'InstanceNorm'`). Each kind has the wordings of every release measured (tests/data/failures/ keeps the
messages of MindSpore 2.7, 2.8, 2.9 and 2.10 that the catalog produces with --grad):

- missing_kernel: the device has no kernel for the op (or for the op in this dtype): `unsupported`;
- missing_api: the framework's own code reaches an attribute this release does not have: `unsupported`;
- refused_dtype: the op refuses the case's dtype (not float32): `unsupported`;
- wrong_arguments: the call's arguments do not fit the op: `error` (the spec, or the op, needs a look).

Anything else has no kind and is an `error`. Pure text matching: no framework import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MISSING_KERNEL, MISSING_API, REFUSED_DTYPE, WRONG_ARGUMENTS = "missing_kernel", "missing_api", "refused_dtype", "wrong_arguments"
UNSUPPORTED_KINDS = (MISSING_KERNEL, MISSING_API, REFUSED_DTYPE)

# Wordings that name the kernel: 2.8-2.10 "The kernel GeluExt unregistered.", "Create kernelmod for op LayerNormExt
# failed"; 2.7 "Not found op N9mindspore6kernel7pyboost9CumsumExtE on device CPU" (an Itanium-mangled class name).
# torch: "Could not run 'aten::foo' with arguments from the 'CPU' backend".
_KERNEL_NAMED = re.compile(r"kernel (\w+) unregistered|create kernelmod for op (\w+) failed|not found op (\w+) on device"
                           r"|could not run '([\w:.]+)' with arguments from the", re.IGNORECASE)
# ... and those that do not: "Kernel select failed", "Select CPU operator[MatMul] fail! Unsupported data type!",
# "... only supports Ascend" (an op with no CPU implementation at all)
_KERNEL_MISSING = re.compile(
    r"unsupported op|unsupported data ?type|kernel select failed|kernel.*not (found|registered|exist)|can ?not find .*kernel"
    r"|only supports ascend",
    re.IGNORECASE,
)
_API_MISSING = re.compile(r"module '((?:mindspore|torch)(?:\.\w+)*)' has no attribute '(\w+)'")
_DTYPE_REFUSAL = re.compile(
    r"(should|must) be (in|one of|a type of)|not implemented for|unsupported data ?type|float ?64|float ?16|bfloat ?16|half|double",
    re.IGNORECASE,
)
_WRONG_ARGUMENTS = re.compile(
    r"unexpected keyword argument|required positional argument|takes \d+ positional argument|got multiple values for"
    r"|missing \d+ required|invalid argument|argument .* must be",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Failure:
    kind: str | None  # one of the kinds above, or None (an error of no known kind)
    missing: str | None = None  # the kernel (CumsumExt) or the API (mindspore.ops.InstanceNorm) that is absent

    @property
    def status(self) -> str:
        return "unsupported" if self.kind in UNSUPPORTED_KINDS else "error"


def classify(exc_type: str, text: str, dtype: str) -> Failure:
    """The kind of a failure from its exception type name and message (the message's first line suffices)."""
    named = _KERNEL_NAMED.search(text)
    if named:
        return Failure(MISSING_KERNEL, demangle(next(name for name in named.groups() if name)))
    if _KERNEL_MISSING.search(text):
        return Failure(MISSING_KERNEL)
    api = _API_MISSING.search(text)
    if exc_type == "AttributeError" and api:
        return Failure(MISSING_API, f"{api.group(1)}.{api.group(2)}")
    if dtype != "float32" and _DTYPE_REFUSAL.search(text):  # a refusal naming a dtype, in a case not in float32
        return Failure(REFUSED_DTYPE)
    if exc_type in ("TypeError", "ValueError") and _WRONG_ARGUMENTS.search(text):
        return Failure(WRONG_ARGUMENTS)
    return Failure(None)


def demangle(name: str) -> str:
    """The last component of an Itanium-mangled nested name (N9mindspore6kernel7pyboost9CumsumExtE -> CumsumExt)."""
    if not (name.startswith("N") and name.endswith("E")):
        return name
    parts, rest = [], name[1:-1]
    while rest:
        length = re.match(r"\d+", rest)
        if not length:
            return name
        size, rest = int(length.group()), rest[length.end():]
        parts.append(rest[:size])
        rest = rest[size:]
    return parts[-1] if parts and all(parts) else name
