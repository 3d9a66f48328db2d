"""The README's Python examples run as doctests, and its first screen shows the two set-up commands."""

import doctest
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def test_readme_examples_pass():
    result = doctest.testfile(str(README), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 5
    assert result.failed == 0


def test_first_screen_shows_the_two_commands():
    first_screen = "\n".join(README.read_text().splitlines()[:25])
    assert "make demo" in first_screen and "make test" in first_screen


def test_ci_calls_the_readme_test_command():
    ci = (README.parent / ".ci" / "run").read_text()
    assert "make test" in ci and "SYMGD_REQUIRE_LATEX=1" in ci and "texlive-latex-base" in ci
