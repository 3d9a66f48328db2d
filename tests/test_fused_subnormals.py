"""Subnormal numbers on the compiled backend (``symgd.fused._fpu``): float32 flushes them, float64 keeps them
unless asked, and the thread's floating-point mode is restored after the run.

GD on x² with lr = 1/4 halves x at every step, exactly: x_t = 2^-t from x_0 = 1. So the iterate walks into
the subnormal range at t = 1023 (float64) or t = 127 (float32), and what happens there is known exactly.
"""

import platform

import numpy as np
import pytest

from symgd import Problem, minimize
from symgd.errors import InputError
from symgd.fused import numba_installed

needs_numba = pytest.mark.skipif(not numba_installed(), reason="numba is not installed (symgd[fast])")
x86 = platform.machine().lower() in ("x86_64", "amd64")
P = Problem("x^2")


def _halving(steps, **options):
    return minimize(P, "gd", [1.0], steps, lr=0.25, tol=None, **options)


def test_float64_keeps_subnormals_bit_for_bit_with_numpy():
    for backend in ("numpy", "python", *(("numba",) if numba_installed() else ())):
        run = _halving(1060, backend=backend)
        assert run.x[0] == 2.0**-1060 and run.x[0] < np.finfo(np.float64).tiny  # subnormal, exact
        assert "flushed" not in run.backend_reason


@needs_numba
@pytest.mark.skipif(not x86, reason="flushing needs x86-64's MXCSR")
def test_float64_flushes_when_asked_and_the_step_below_the_smallest_normal_vanishes():
    run = _halving(1060, backend="numba", flush_subnormals=True)
    assert run.x[0] == 2.0**-1022  # the step 2^-1023 is subnormal: 0, so x stays at the smallest normal
    assert run.backend_reason.endswith("subnormal numbers flushed to zero")
    assert np.float64(2.0**-1022) / 4 == 2.0**-1024  # this thread is back to IEEE after the run


@needs_numba
@pytest.mark.skipif(not x86, reason="flushing needs x86-64's MXCSR")
def test_float32_flushes_by_default_and_not_when_told():
    flushed = _halving(200, backend="numba", dtype="float32")
    kept = _halving(200, backend="numba", dtype="float32", flush_subnormals=False)
    assert flushed.x[0] == np.float32(2.0**-126) and "flushed" in flushed.backend_reason
    assert kept.x[0] == np.float32(2.0**-149) and "flushed" not in kept.backend_reason  # down to the least subnormal
    # (where the step, 2^-150, rounds to 0: IEEE's gradual underflow, as NumPy would do it)
    assert np.float32(2.0**-126) / np.float32(4) == np.float32(2.0**-128)


@needs_numba
@pytest.mark.skipif(not x86, reason="flushing needs x86-64's MXCSR")
def test_threads_flush_and_restore_too():
    X = np.ones((4000, 1))
    run = minimize(P, "gd", X, 1060, lr=0.25, tol=None, backend="numba", flush_subnormals=True)
    assert (run.x == 2.0**-1022).all()  # every thread's share flushed
    assert np.float64(2.0**-1022) / 4 == 2.0**-1024


def test_bad_flush_values_are_refused():
    with pytest.raises(InputError, match="flush_subnormals must be True, False or None"):
        _halving(5, flush_subnormals="yes")


@needs_numba
@pytest.mark.skipif(not x86, reason="flushing needs x86-64's MXCSR")
def test_the_command_line_flag(capsys):
    import json

    from symgd.cli import main

    argv = ["run", "x^2", "--method", "gd", "--lr", "0.25", "--x0", "1", "--tol", "0", "--steps", "1060",
            "--backend", "numba", "--json"]
    assert main([*argv, "--flush-subnormals", "yes"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["x"] == [[2.0**-1022]] and out["backend_reason"].endswith("subnormal numbers flushed to zero")
    assert main(argv) == 0 and json.loads(capsys.readouterr().out)["x"] == [[2.0**-1060]]
