"""Data sets: CSV files with a header, dicts of columns, and standardization statistics.

Every problem with the data is one ``InputError`` line naming the file, the row and the column.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping

import numpy as np

from symgd.errors import InputError

Columns = dict  # name -> (M,) float64 array, all of one length M >= 1


def load_csv(path) -> Columns:
    """Read a CSV file whose first row names the columns; every other cell must be a finite number.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    dict of str to numpy.ndarray
        One float64 array of shape (M,) per column, in the header's order.

    Raises
    ------
    InputError
        A missing or empty file, a header with an empty or repeated name, a row with the wrong number
        of cells, an empty, non-numeric, NaN or infinite cell. Rows are counted from 1 after the
        header; the message also gives the line of the file. Blank lines are skipped.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise InputError(f"the data must be a CSV path or a dict of columns, got {type(path).__name__}")
    name = os.fspath(path)
    if not os.path.exists(name):
        raise InputError(f"data file {name!r} not found")
    if os.path.isdir(name):
        raise InputError(f"data file {name!r} is a directory")
    try:
        with open(name, newline="", encoding="utf-8-sig") as fh:
            return _read(csv.reader(fh), name)
    except UnicodeDecodeError:
        raise InputError(f"data file {name!r} is not UTF-8 text") from None
    except csv.Error as e:
        raise InputError(f"data file {name!r} is not valid CSV: {e}") from None


def _read(reader, name: str) -> Columns:
    header = None
    for row in reader:
        if any(cell.strip() for cell in row):
            header = [cell.strip() for cell in row]
            break
    if header is None:
        raise InputError(f"data file {name!r} is empty (it needs a header row naming the columns)")
    for j, col in enumerate(header, 1):
        if not col:
            raise InputError(f"data file {name!r}: column {j} of the header has no name")
        if header.index(col) != j - 1:
            raise InputError(f"data file {name!r}: column name {col!r} appears twice in the header")
    rows = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        where = f"data file {name!r}, row {len(rows) + 1} (line {reader.line_num})"
        if len(row) != len(header):
            raise InputError(f"{where} has {len(row)} cells; the header has {len(header)} columns")
        rows.append([_number(cell, f"{where}, column {col!r}") for cell, col in zip(row, header)])
    if not rows:
        raise InputError(f"data file {name!r} has a header but no data rows")
    table = np.array(rows, dtype=np.float64)
    return {col: np.ascontiguousarray(table[:, j]) for j, col in enumerate(header)}


def _number(cell: str, where: str) -> float:
    text = cell.strip()
    if not text:
        raise InputError(f"{where} is empty")
    try:
        value = float(text)
    except ValueError:
        shown = text if len(text) <= 20 else text[:20] + "..."
        raise InputError(f"{where}: {shown!r} is not a number") from None
    if math.isnan(value):
        raise InputError(f"{where} is NaN: missing values are not supported; remove or fill the row")
    if math.isinf(value):
        raise InputError(f"{where} is infinite ({text!r})")
    return value


def as_columns(data) -> Columns:
    """A dict of 1-D arrays (or a CSV path) as validated float64 columns of one length.

    >>> as_columns({"x": [1, 2], "y": [0.5, 1.5]})["x"].tolist()
    [1.0, 2.0]
    """
    if isinstance(data, (str, os.PathLike)):
        return load_csv(data)
    if not isinstance(data, Mapping):
        raise InputError(f"the data must be a CSV path or a dict of columns, got {type(data).__name__}")
    if not data:
        raise InputError("the data has no columns")
    out, length = {}, None
    for col, values in data.items():
        if not isinstance(col, str):
            raise InputError(f"column names must be strings, got {col!r}")
        a = np.asarray(values)
        if a.dtype.kind not in "biuf":
            raise InputError(f"column {col!r} must hold real numbers, got dtype {a.dtype}")
        a = np.array(a, dtype=np.float64).reshape(-1) if a.ndim <= 1 else None
        if a is None:
            raise InputError(f"column {col!r} must be one-dimensional, got shape {np.shape(values)}")
        bad = np.flatnonzero(~np.isfinite(a))
        if bad.size:
            what = "NaN" if np.isnan(a[bad[0]]) else "infinite"
            raise InputError(f"column {col!r}, row {bad[0] + 1} is {what}: the data must be finite")
        if length is not None and a.size != length:
            raise InputError(f"column {col!r} has {a.size} rows; column {next(iter(out))!r} has {length}")
        length = a.size
        out[col] = a
    if length == 0:
        raise InputError("the data has no rows")
    return out


def column_stats(columns: Columns, names) -> dict[str, tuple[float, float]]:
    r"""Mean and standard deviation (population, ddof = 0) of each named column, for standardization.

    :math:`\tilde x = (x - \mu) / \sigma`; a constant column (σ = 0) cannot be standardized.

    >>> column_stats({"x": np.array([1.0, 3.0])}, ["x"])
    {'x': (2.0, 1.0)}
    """
    stats = {}
    for col in names:
        a = columns[col]
        mu, sd = float(a.mean()), float(a.std())
        if not sd > 0:
            raise InputError(f"column {col!r} is constant (sd = 0): it cannot be standardized")
        stats[col] = (mu, sd)
    return stats
