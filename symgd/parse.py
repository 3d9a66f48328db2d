"""Placeholder: the safe parser is being written (see issue 2). Keeps natural_key's signature."""

from __future__ import annotations

import re

import sympy as sp

from symgd.errors import ParseError


def natural_key(name) -> tuple:
    """Sort key putting ``x2`` before ``x10`` (accepts a str or a Symbol)."""
    text = str(name)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text) if p)


def parse(text: str, variables=None):
    raise ParseError("parser not built yet")
