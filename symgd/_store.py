"""What symgd derived from a text, kept on disk: a process that meets the text again skips SymPy.

Parsing, deriving and printing a typed expression takes 5-35 ms, and importing SymPy 0.2 s: most of what a
short run from the command line, or a script run again, waits for. So the first time a text is made into
a ``Problem``, its variables' names (and constants) are written to a small JSON record, and the printed
f and ∇f of the compiled backends (and ``sympy.sstr`` of f, for reprs) are added when first made. The
next process that builds ``Problem`` from the same text (and ``variables=``) reads the record instead, and
imports SymPy only if something asks for the expression itself (``p.expr``, ``p.gradient``, critical
points, LaTeX).

Records live in ``$SYMGD_CACHE_DIR/problems`` (default ``~/.cache/symgd/problems``, the folder of the
compiled kernels), one file per (text, variables), named by a hash of the text, the variables, this
module's format and a fingerprint of the code that made it: the parser, the derivatives and the printer
of symgd, and SymPy (their files' paths, sizes and modification times, as Python's own bytecode cache
checks them), and Python's version. Changing any of them makes new names, so a stale record is never
read; old files are pruned when there are more than ``MAX_RECORDS``. A record that cannot be read or
does not have the expected shape is ignored; a folder that cannot be written means no records (everything
still works, only slower). The printed parts become kernel source that is executed, as numba's cache in
the same folder is: the folder is the user's own, like Python's ``__pycache__``; user text never reaches
it except through the printer.

Layer 0: only the standard library.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import random
import sys
import threading

__all__ = ["cache_dir", "get", "load", "save", "text_key"]

FORMAT = 1
MAX_RECORDS = 20000  # more than this many records: the oldest half go
_PRUNE_EVERY = 256  # on average, one save in this many checks the count


def cache_dir() -> str | None:
    """``$SYMGD_CACHE_DIR`` (default ``~/.cache/symgd``) if it exists or can be made, and is writable."""
    d = os.environ.get("SYMGD_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "symgd")
    try:
        os.makedirs(d, exist_ok=True)
    except OSError:
        return None
    return d if os.access(d, os.W_OK | os.X_OK) else None


def text_key(text: str, variables):
    """``(text, variables)`` with the variables as typed (None, one string, or a tuple of strings); else None.

    None (variables given as SymPy Symbols, say) means: not a text-only problem, nothing to keep.

    >>> text_key("x^2", ["x", "y"]), text_key("x^2", None), text_key("x^2", [1])
    (('x^2', ('x', 'y')), ('x^2', None), None)
    """
    if variables is None or isinstance(variables, str):
        return text, variables
    if isinstance(variables, (tuple, list)) and all(type(v) is str for v in variables):
        return text, tuple(variables)
    return None


# The code whose output a record holds: the parser and the derivatives (names, constants), the printers and the
# parts' layout (the compiled backends' printed f and ∇f), the record itself. Files and folders of symgd.
_SOURCES = ("parse", "fused", "kernels.py", "_symbolic.py", "problem.py", "_store.py")


@functools.cache
def _fingerprint() -> str:
    """The sources that make a record (``_SOURCES``) and SymPy, by path, size and mtime; and Python's version."""
    root = os.path.dirname(os.path.abspath(__file__))
    files = []
    for name in _SOURCES:
        path = os.path.join(root, name)
        if os.path.isdir(path):
            files += sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(".py"))
        else:
            files.append(path)
    spec = importlib.util.find_spec("sympy")  # finds the package without importing it
    if spec and spec.origin:
        files += [os.path.join(os.path.dirname(spec.origin), name) for name in ("__init__.py", "release.py")]
    items = [sys.version]
    for path in files:
        if os.path.exists(path):
            st = os.stat(path)
            items.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(items).encode()).hexdigest()


def _path(key) -> str | None:
    """The record's file (None: no key, or no usable folder); worked out once per key and $SYMGD_CACHE_DIR."""
    if key is None:
        return None
    memo = (key, os.environ.get("SYMGD_CACHE_DIR"))
    hit = _PATHS.get(memo, False)
    if hit is False:
        d = cache_dir()  # a few system calls: once, not on every Problem(text) of a REPL
        digest = hashlib.sha256(json.dumps([FORMAT, _fingerprint(), *key]).encode()).hexdigest()[:32]
        hit = None if d is None else os.path.join(d, "problems", f"{digest}.json")
        if len(_PATHS) >= MEMO_MAX:
            _PATHS.clear()
        _PATHS[memo] = hit
    return hit


_PATHS: dict = {}  # (key, $SYMGD_CACHE_DIR) -> _path(key)


_LOCK = threading.Lock()
_MEMO: dict = {}  # path -> record, for records this process read or wrote (the newest MEMO_MAX)
MEMO_MAX = 4096


def _keep(path: str, record: dict) -> None:
    with _LOCK:
        _MEMO.pop(path, None)
        _MEMO[path] = record
        while len(_MEMO) > MEMO_MAX:
            _MEMO.pop(next(iter(_MEMO)))


def load(key) -> dict | None:
    """The record kept for ``key`` (a ``text_key``), or None (also for ``key`` None)."""
    path = _path(key)
    if path is None:
        return None
    hit = _MEMO.get(path)
    if hit is not None:
        return hit
    try:
        with open(path, encoding="utf-8") as fh:
            record = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("key") != json.loads(json.dumps(list(key))):
        return None  # another text with the same hash prefix (or a damaged file): never trust it
    _keep(path, record)
    return record


def get(key, field: str):
    """``load(key)[field]``, or None (no key, no record, no such field)."""
    return (load(key) or {}).get(field)


def save(key, **fields) -> None:
    """Add ``fields`` (JSON values) to the record of ``key``; silently nothing for ``key`` None or a folder that
    is not writable."""
    path = _path(key)
    if path is None:
        return
    record = dict(load(key) or {"key": list(key)})
    if all(record.get(k) == v for k, v in json.loads(json.dumps(fields)).items()):
        return
    record.update(fields)
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(record, fh)
        os.replace(tmp, path)  # readers see the old record or the new one, never half of one
    except (OSError, TypeError, ValueError):
        return
    _keep(path, json.loads(json.dumps(record)))
    if random.random() * _PRUNE_EVERY < 1:
        _prune(os.path.dirname(path))


def _prune(folder: str) -> None:
    """Keep the newest ``MAX_RECORDS // 2`` records when there are more than ``MAX_RECORDS``."""
    try:
        with os.scandir(folder) as it:
            files = [(e.stat().st_mtime_ns, e.path) for e in it if e.name.endswith(".json")]
        if len(files) > MAX_RECORDS:
            for _, path in sorted(files)[: len(files) - MAX_RECORDS // 2]:
                os.remove(path)
    except OSError:
        return
