"""Writing files safely: the one helper every file symgd writes goes through (layer 0: stdlib only).

``write(path, data)`` refuses to replace an existing file unless ``force=True``, reports a missing or
unwritable directory as a one-line ``InputError``, and never leaves a half-written file behind: the
bytes go to a temporary file in the same directory, which is then renamed over the target (a rename
within one directory is atomic on POSIX and Windows). Paths are taken literally: ``~`` and ``$VAR``
are not expanded.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> write(d / "a.txt", "one\\n").read_text()
'one\\n'
>>> write(d / "a.txt", "two\\n")
Traceback (most recent call last):
...
symgd.errors.InputError: ... exists; pass force=True (--force on the command line) to overwrite it
>>> write(d / "a.txt", "two\\n", force=True).read_text()
'two\\n'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from symgd.errors import InputError

__all__ = ["atomic_path", "check_target", "write"]


def check_target(path, *, force: bool = False) -> Path:
    """Validate ``path`` as a file to create (before any slow work), and return it as a ``Path``.

    Raises ``InputError`` when the path is empty, names a directory (or ends with a slash), has a
    missing parent directory, or exists and ``force`` is False. The path is used literally (no ``~`` or
    ``$VAR`` expansion).
    """
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise InputError(f"an output path must be a string or a path, got {type(path).__name__}")
    text = os.fspath(path)
    if not text or "\x00" in text:
        raise InputError(f"not a usable output path: {text!r}")
    p = Path(text)
    parent = p.parent
    if p.is_dir() or text.endswith(("/", os.sep)):
        raise InputError(f"{text} is a directory; give a file name")
    if not parent.is_dir():
        what = "is not a directory" if parent.exists() else "does not exist"
        raise InputError(f"cannot write {text}: directory {parent} {what}")
    if (p.exists() or p.is_symlink()) and not force:
        raise InputError(f"{text} exists; pass force=True (--force on the command line) to overwrite it")
    return p


def _mode() -> int:
    """The permissions a newly created file gets (0o666 minus the umask), as open() would give."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_path(path, *, force: bool = False) -> Iterator[Path]:
    """A temporary path next to ``path``, renamed to ``path`` when the block ends without an error.

    The temporary name keeps the suffix of ``path`` (``.name.XXXX.png``), so tools that infer a
    format from the extension (matplotlib's ``savefig``, PIL) work on it. On error it is removed; an
    ``OSError`` while writing it (a full disk) becomes a one-line ``InputError``.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "b.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("hi")
    >>> target.read_text()
    'hi'
    """
    p = check_target(path, force=force)
    try:
        fd, name = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=p.suffix)
    except OSError as exc:
        raise InputError(f"cannot write {p}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, _mode())
        try:
            yield tmp
        except OSError as exc:
            raise InputError(f"cannot write {p}: {exc.strerror or exc}") from None
        _publish(tmp, p, force)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _publish(tmp: Path, p: Path, force: bool) -> None:
    """Rename ``tmp`` to ``p``; without ``force`` never replace a file that appeared meanwhile."""
    try:
        if force:
            os.replace(tmp, p)
            return
        try:
            os.link(tmp, p)  # fails if p exists: no check-then-replace race
        except FileExistsError:
            raise InputError(f"{p} exists; pass force=True (--force on the command line) to overwrite it") from None
        except OSError:  # a file system without hard links
            if p.exists():
                raise InputError(f"{p} exists; pass force=True (--force on the command line) "
                                 "to overwrite it") from None
            os.replace(tmp, p)
    except InputError:
        raise
    except OSError as exc:
        raise InputError(f"cannot write {p}: {exc.strerror or exc}") from None


def write(path, data, *, force: bool = False) -> Path:
    """Write ``data`` (str, as UTF-8 with the newlines given, or bytes) to ``path`` atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The file to create; its directory must exist. Taken literally (no ``~`` expansion).
    data : str or bytes
        The content.
    force : bool
        Replace an existing file (otherwise an existing file is an ``InputError``).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    elif not isinstance(data, (bytes, bytearray, memoryview)):
        raise InputError(f"write needs str or bytes, got {type(data).__name__}")
    with atomic_path(path, force=force) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return Path(os.fspath(path))
