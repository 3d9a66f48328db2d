"""The exceptions symgd raises for bad input (layer 0: imports nothing of symgd)."""

from __future__ import annotations


class SymgdError(Exception):
    """Base class of every error caused by what the user gave symgd (text, options, files).

    The CLI prints these as one line, ``symgd: error: ...``, and exits with code 2.
    """


class InputError(SymgdError, ValueError):
    """A bad option, hyperparameter, data file or start point."""


class ParseError(SymgdError, ValueError):
    """Text that is not an expression symgd accepts.

    Attributes
    ----------
    column : int or None
        1-based column of the offending character, when one can be named.
    hint : str or None
        A suggestion for what the user probably meant.
    """

    def __init__(self, message: str, *, column: int | None = None, hint: str | None = None):
        self.message = message
        self.column = column
        self.hint = hint
        text = message
        if column is not None:
            text += f" (column {column})"
        if hint:
            text += f"; hint: {hint}"
        super().__init__(text)


class BudgetError(SymgdError):
    """A symbolic or numeric step ran past its time or size budget."""


class Unprintable(ValueError):
    """An expression node the compiled backends' scalar printer has no form for (``.name``: what to tell the user).

    Not an error of the user's: ``backend="auto"`` then runs NumPy, and an explicit compiled backend says why
    it cannot run (an ``InputError``).
    """

    def __init__(self, name: str):
        super().__init__(f"{name} has no scalar form")
        self.name = name
