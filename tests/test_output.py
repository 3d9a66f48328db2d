"""symgd.output: the atomic, no-clobber writer every file symgd produces goes through."""

import os
import stat

import pytest

from symgd.errors import InputError
from symgd.output import atomic_path, check_target, write


def test_write_creates_and_refuses_to_overwrite(tmp_path):
    target = tmp_path / "a.tex"
    assert write(target, "first\n") == target
    assert target.read_text() == "first\n"
    with pytest.raises(InputError, match="exists; pass force=True") as info:
        write(target, "second\n")
    assert "\n" not in str(info.value)  # one line, for the CLI
    assert target.read_text() == "first\n"  # untouched
    write(target, b"second\n", force=True)
    assert target.read_bytes() == b"second\n"


def test_no_temporary_files_are_left_behind(tmp_path):
    write(tmp_path / "a.png", b"\x89PNG")
    with pytest.raises(InputError):
        write(tmp_path / "a.png", b"other")
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "b.png") as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("the writer failed half way")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_the_temporary_file_keeps_the_suffix_and_lives_beside_the_target(tmp_path):
    with atomic_path(tmp_path / "plot.gif") as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".gif" and tmp.name.startswith(".plot.gif.")
        tmp.write_bytes(b"GIF89a")
    assert (tmp_path / "plot.gif").read_bytes() == b"GIF89a"


def test_new_files_get_the_usual_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        path = write(tmp_path / "m.txt", "x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_missing_directory_and_directory_targets_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        write(tmp_path / "nope" / "a.tex", "x")
    with pytest.raises(InputError, match="is a directory"):
        write(tmp_path, "x")
    for bad in ("", 3, None, b"bytes-path"):
        with pytest.raises(InputError):
            check_target(bad)


def test_unwritable_directory_is_an_input_error(tmp_path, monkeypatch):
    # simulated: the tests may run as root, who can write into a read-only directory
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("symgd.output.tempfile.mkstemp", refuse)
    with pytest.raises(InputError, match="cannot write .*Permission denied"):
        write(tmp_path / "a.tex", "x")
    assert not (tmp_path / "a.tex").exists()


def test_paths_are_taken_literally(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SYMGD_TEST_DIR", str(tmp_path))
    with pytest.raises(InputError, match="does not exist"):
        write("~/a.tex", "x")  # no ~ expansion: ./~ does not exist
    with pytest.raises(InputError, match="does not exist"):
        write("$SYMGD_TEST_DIR/a.tex", "x")
    (tmp_path / "~").mkdir()
    write("~/a.tex", "x")
    assert (tmp_path / "~" / "a.tex").read_text() == "x"
    assert not (tmp_path / "home").exists()


def test_write_refuses_other_data(tmp_path):
    with pytest.raises(InputError, match="str or bytes"):
        write(tmp_path / "a.txt", 3.5)
