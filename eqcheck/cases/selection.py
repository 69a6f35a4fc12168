"""`-k` expressions over case ids, like pytest's: words match substrings (case-insensitive), joined by and/or/not."""

from __future__ import annotations

import re
from typing import Callable

import click

_TOKEN = re.compile(r"\(|\)|[^\s()]+")


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _TOKEN.findall(text)
        self.pos = 0

    def parse(self) -> Callable[[str], bool]:
        if not self.tokens:
            raise self._error("the expression is empty")
        matcher = self._or()
        if self.pos != len(self.tokens):
            raise self._error(f"unexpected '{self.tokens[self.pos]}'")
        return matcher

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise self._error("the expression ends too early")
        self.pos += 1
        return token

    def _or(self):
        left = self._and()
        while self._peek() == "or":
            self._take()
            right = self._and()
            left = (lambda a, b: lambda s: a(s) or b(s))(left, right)
        return left

    def _and(self):
        left = self._not()
        while self._peek() == "and":
            self._take()
            right = self._not()
            left = (lambda a, b: lambda s: a(s) and b(s))(left, right)
        return left

    def _not(self):
        if self._peek() == "not":
            self._take()
            inner = self._not()
            return lambda s: not inner(s)
        return self._atom()

    def _atom(self):
        token = self._take()
        if token == "(":
            inner = self._or()
            if self._take() != ")":
                raise self._error("missing ')'")
            return inner
        if token in (")", "and", "or"):
            raise self._error(f"unexpected '{token}'")
        word = token.lower()
        return lambda s: word in s.lower()

    def _error(self, reason: str) -> click.BadParameter:
        return click.BadParameter(f"{reason} in '{self.text}'", param_hint="'-k'")


def compile_selection(text: str | None) -> Callable[[str], bool]:
    if text is None:
        return lambda _: True
    try:
        return _Parser(text).parse()
    except RecursionError:  # thousands of nested 'not' or '(': refuse like any other bad expression
        raise click.BadParameter(f"the expression nests too deeply in '{text[:60]}…'", param_hint="'-k'") from None
