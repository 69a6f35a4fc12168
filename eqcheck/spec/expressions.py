"""Arithmetic over named sizes ("3*hidden_size", "1 - momentum"), parsed with ast and never eval'd.

Specs may come from untrusted pull requests, so only literals, names, arithmetic, comparisons, boolean
logic and `len(name)` (a sample's tuple argument) are accepted; anything else (other calls, attributes,
subscripts, lambdas) is refused.
"""

from __future__ import annotations

import ast
import operator
from functools import lru_cache
from typing import Any, Mapping

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}
_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_MAX_EXPONENT = 64
_MAX_LENGTH = 200


class ExpressionError(ValueError):
    """The text is not an allowed expression, or names something undefined."""


@lru_cache(maxsize=1024)
def parse(text: str) -> ast.expr:
    if len(text) > _MAX_LENGTH:
        raise ExpressionError(f"expression longer than {_MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"'{text}' is not a valid expression ({exc.msg})") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # e.g. a NUL character, absurd nesting
        raise ExpressionError(f"{text!r} is not a valid expression ({type(exc).__name__})") from None
    _check(tree.body, text)
    return tree.body


ALLOWED = "only numbers, names, arithmetic, comparisons, and/or/not and len(name) are allowed"


def _check(node: ast.AST, text: str) -> None:
    allowed = (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Name, ast.Constant, ast.IfExp, ast.Load)
    for child in ast.walk(node):
        if isinstance(child, ast.Call):  # len(name) only: no keywords, no other callee
            if not (isinstance(child.func, ast.Name) and child.func.id == "len" and len(child.args) == 1
                    and not child.keywords and isinstance(child.args[0], ast.Name)):
                raise ExpressionError(f"'{text}' contains call; {ALLOWED}")
            continue
        if isinstance(child, (ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.expr_context)):
            # the checker admits exactly what the evaluator knows: `~`, `in`, `is` and `@` are refused here
            known = {**_BINARY, **_UNARY, **_COMPARE, ast.And: None, ast.Or: None, ast.Load: None}
            if type(child) not in known:
                raise ExpressionError(f"'{text}' uses the operator {type(child).__name__}, which is not allowed; {ALLOWED}")
            continue
        if not isinstance(child, allowed):
            raise ExpressionError(f"'{text}' contains {type(child).__name__.lower()}; {ALLOWED}")
        if isinstance(child, ast.Constant) and not isinstance(child.value, (int, float, bool, str)):
            raise ExpressionError(f"'{text}' contains a constant of type {type(child.value).__name__}")


def names(text: str) -> set[str]:
    """Every name the expression refers to."""
    return {node.id for node in ast.walk(parse(text)) if isinstance(node, ast.Name)} - _callees(text)


def _callees(text: str) -> set[str]:
    return {node.func.id for node in ast.walk(parse(text)) if isinstance(node, ast.Call)}


_MAX_MAGNITUDE = 2**256  # far above any size or argument; stops (2**64)**64**... from eating memory


def evaluate(text: str, namespace: Mapping[str, Any]) -> Any:
    try:
        value = _eval(parse(text), namespace, text)
    except (TypeError, ArithmeticError, ValueError, RecursionError) as exc:  # 'a' < 1, -'a', 1e300**2, ...
        if isinstance(exc, ExpressionError):
            raise
        raise ExpressionError(f"{text!r} cannot be evaluated ({type(exc).__name__}: {str(exc)[:80]})") from None
    return value


def _eval(node: ast.expr, ns: Mapping[str, Any], text: str) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in ns:
            known = ", ".join(sorted(ns)) or "none"
            raise ExpressionError(f"'{text}' refers to '{node.id}', which is not defined (defined: {known})")
        return ns[node.id]
    if isinstance(node, ast.Call):  # len(name), checked by _check
        value = _eval(node.args[0], ns, text)
        if not isinstance(value, (list, tuple)):
            raise ExpressionError(f"'{text}' takes len() of a non-sequence")
        return len(value)
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, ns, text))
    if isinstance(node, ast.BoolOp):
        values = (_eval(v, ns, text) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.IfExp):
        return _eval(node.body if _eval(node.test, ns, text) else node.orelse, ns, text)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, ns, text)
        for op, right_node in zip(node.ops, node.comparators):
            right = _eval(right_node, ns, text)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, ns, text), _eval(node.right, ns, text)
        if not all(isinstance(v, (int, float)) for v in (left, right)):
            raise ExpressionError(f"'{text}' does arithmetic on a non-number")
        if isinstance(node.op, ast.Pow) and abs(right) > _MAX_EXPONENT:
            raise ExpressionError(f"'{text}' raises to a power above {_MAX_EXPONENT}")
        try:
            value = _BINARY[type(node.op)](left, right)
        except ZeroDivisionError:
            raise ExpressionError(f"'{text}' divides by zero") from None
        if isinstance(value, complex) or (isinstance(value, int) and abs(value) > _MAX_MAGNITUDE):
            what = "a complex number" if isinstance(value, complex) else "a number above 2**256"
            raise ExpressionError(f"'{text}' evaluates to {what}")
        return value
    raise ExpressionError(f"'{text}' cannot be evaluated")  # unreachable after _check
