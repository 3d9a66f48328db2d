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


# ---------------------------------------------------------------------------------------------
# the command line: every subcommand that writes (latex, plot, compare -o) goes through symgd.output

import json  # noqa: E402

from symgd.cli import main  # noqa: E402

WRITERS = {
    "latex": (".tex", ["latex", "x^2 - 2x", "-o"], []),
    "plot-png": (".png", ["plot", "x^2 + y^2", "-o"], []),
    "plot-gif": (".gif", ["plot", "x^2", "-o"], ["--methods", "gd", "--x0", "1", "--lr", "0.1", "--steps", "3"]),
    "compare-png": (".png", ["compare", "x^2 + y^2", "--methods", "gd", "--x0", "1,1", "--lr", "0.1",
                             "--steps", "3", "-o"], []),
    "compare-gif": (".gif", ["compare", "x^2", "--methods", "gd,adam", "--x0", "1", "--lr", "0.1",
                             "--steps", "3", "-o"], []),
}


def _argv(kind, out):
    _, head, tail = WRITERS[kind]
    return [*head, str(out), *tail]


def _cli(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(code, err, says):
    assert code == 2, err
    assert err.startswith("symgd: error:") and err.count("\n") == 1 and says in err, err


@pytest.mark.parametrize("kind", WRITERS)
def test_cli_writes_once_and_overwrites_only_with_force(capsys, tmp_path, kind):
    target = tmp_path / f"out{WRITERS[kind][0]}"
    code, _, err = _cli(capsys, _argv(kind, target))
    assert code == 0, err
    first = target.read_bytes()
    assert first and f"wrote {target}" in err
    target.write_bytes(b"keep me")
    code, _, err = _cli(capsys, _argv(kind, target))
    _one_line_error(code, err, "exists; pass force=True (--force on the command line)")
    assert target.read_bytes() == b"keep me"
    code, _, err = _cli(capsys, [*_argv(kind, target), "--force"])
    assert code == 0, err
    assert target.read_bytes() != b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]  # no temporary file left


@pytest.mark.parametrize("kind", WRITERS)
def test_cli_missing_or_unusable_directory_is_one_line(capsys, tmp_path, kind):
    suffix = WRITERS[kind][0]
    code, _, err = _cli(capsys, _argv(kind, tmp_path / "no" / "such" / f"a{suffix}"))
    _one_line_error(code, err, "does not exist")
    (tmp_path / "file.txt").write_text("x")
    code, _, err = _cli(capsys, _argv(kind, tmp_path / "file.txt" / f"a{suffix}"))
    _one_line_error(code, err, "is not a directory")
    code, _, err = _cli(capsys, _argv(kind, tmp_path))
    _one_line_error(code, err, "is a directory")
    code, _, err = _cli(capsys, _argv(kind, f"{tmp_path / 'newdir'}/"))
    _one_line_error(code, err, "is a directory; give a file name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


@pytest.mark.parametrize("kind", WRITERS)
def test_cli_unwritable_directory_is_one_line(capsys, tmp_path, monkeypatch, kind):
    # simulated (the tests may run as root, who can write into a read-only directory)
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("symgd.output.tempfile.mkstemp", refuse)
    code, _, err = _cli(capsys, _argv(kind, tmp_path / f"a{WRITERS[kind][0]}"))
    _one_line_error(code, err, "Permission denied")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", WRITERS)
def test_cli_failure_while_publishing_leaves_nothing_behind(capsys, tmp_path, monkeypatch, kind):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("symgd.output.os.link", full)
    monkeypatch.setattr("symgd.output.os.replace", full)
    code, _, err = _cli(capsys, _argv(kind, tmp_path / f"a{WRITERS[kind][0]}"))
    _one_line_error(code, err, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_cli_failure_while_writing_leaves_nothing_behind(capsys, tmp_path, monkeypatch):
    import matplotlib.figure

    def half_then_full(self, fname, *args, **kwargs):
        with open(fname, "wb") as fh:
            fh.write(b"\x89PNG half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", half_then_full)
    code, _, err = _cli(capsys, _argv("plot-png", tmp_path / "a.png"))
    _one_line_error(code, err, "cannot write")
    monkeypatch.setattr("symgd.output.os.fsync", lambda fd: half_then_full(None, os.devnull))
    code, _, err = _cli(capsys, _argv("latex", tmp_path / "a.tex"))
    _one_line_error(code, err, "No space left on device")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", WRITERS)
def test_cli_paths_are_taken_literally(capsys, tmp_path, monkeypatch, kind):
    suffix = WRITERS[kind][0]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("SYMGD_OUT", str(tmp_path / "home"))
    for path in (f"~/a{suffix}", f"$SYMGD_OUT/a{suffix}", f"${{SYMGD_OUT}}/a{suffix}"):
        code, _, err = _cli(capsys, _argv(kind, path))
        _one_line_error(code, err, "does not exist")
    assert list((tmp_path / "home").iterdir()) == []  # nothing was expanded to HOME
    (tmp_path / "~").mkdir()
    code, _, err = _cli(capsys, _argv(kind, f"~/a{suffix}"))
    assert code == 0, err
    assert (tmp_path / "~" / f"a{suffix}").stat().st_size > 0


def test_latex_pdf_target_is_checked_before_any_work(capsys, tmp_path):
    (tmp_path / "a.pdf").write_bytes(b"%PDF old")
    code, _, err = _cli(capsys, ["latex", "x^2", "-o", str(tmp_path / "a.tex"), "--pdf"])
    _one_line_error(code, err, "a.pdf exists")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pdf"]  # the .tex was not written either
    assert (tmp_path / "a.pdf").read_bytes() == b"%PDF old"


def test_commands_that_do_not_write_leave_the_directory_alone(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_text("x,y\n1,2\n2,4\n3,6\n")
    for argv in (["analyze", "x^2", "--json"], ["run", "x^2", "--method", "gd", "--lr", "0.1", "--x0", "1"],
                 ["compare", "x^2", "--methods", "gd", "--lr", "0.1", "--x0", "1", "--json"],
                 ["fit", "a*x", "--data", "d.csv", "--target", "y", "--params", "a", "--x0", "1", "--lr", "0.01",
                  "--epochs", "3", "--json"]):
        code, out, err = _cli(capsys, argv)
        assert code == 0, err
        if "--json" in argv:
            json.loads(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv"]


def test_cli_figures_do_not_pile_up(capsys, tmp_path):
    # A long-lived process (a notebook, a web worker, this test run) calling the CLI entry point many times
    # must not accumulate pyplot figures (matplotlib warns past 20, and pytest makes that an error).
    import matplotlib.pyplot as plt

    before = len(plt.get_fignums())
    for i in range(3):
        code, _, err = _cli(capsys, _argv("plot-png", tmp_path / f"p{i}.png"))
        assert code == 0, err
        code, _, err = _cli(capsys, _argv("compare-png", tmp_path / f"c{i}.png"))
        assert code == 0, err
    assert len(plt.get_fignums()) == before
