"""Flushing subnormal numbers to zero while a numba kernel runs, as JAX (XLA) does: x86 FTZ and DAZ.

A value below the smallest normal float (2.2e-308 in float64, 1.2e-38 in float32) is *subnormal*, and an
arithmetic operation on one takes a slow microcode path on x86 CPUs, about a hundred cycles instead of one.
Long runs meet them as a matter of course: once a start's gradient is 0, Adam's m decays by β₁ = 0.9 per
step and passes through the subnormal range in a few hundred steps, v by β₂ = 0.999 and in thousands, and a
start converging to a minimum at 0 decays through it too. Measured (one numba kernel, Adam on Rosenbrock
2-D, 1e4 starts from U(-2, 2)², every start every step): float64 went from 3.7e8 point-steps/s over 4000
steps to 8.6e7 over 32,000; float32 Adam in the benchmark ran at a quarter of its short-run speed. With
flushing both keep their speed (float32: 7.2e8 over 32,000 steps).

So while a kernel runs with ``flush``, the thread's MXCSR has FTZ (results that would be subnormal are 0)
and DAZ (subnormal inputs are read as 0) set; the previous MXCSR comes back after the call, so NumPy and
everything else in the process keep IEEE's gradual underflow. The price: a value, or a step, below the
smallest normal float is 0 (GD on x² from 1 with lr 1/4 halves x each step and stops at 2^-1022 instead of
going on down to 2^-1074). float32 kernels flush by default; float64 kernels only when asked
(``minimize(..., flush_subnormals=True)``), since they agree with the NumPy backend bit for bit otherwise,
subnormals included. On a CPU other than x86-64 nothing is changed.
"""

from __future__ import annotations

import contextlib
import functools
import platform

FTZ_DAZ = 0x8040  # MXCSR bit 15 (flush to zero) and bit 6 (denormals are zero)


@functools.cache
def _switch():
    """``(set_bits, restore)``: numba functions that OR bits into this thread's MXCSR (returning the old
    value) and put a value back; None on a CPU without MXCSR."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    import numba
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    def mxcsr(builder, name, ptr):
        fnty = ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer()])
        builder.call(cgutils.get_or_insert_function(builder.module, fnty, f"llvm.x86.sse.{name}"),
                     [builder.bitcast(ptr, ir.IntType(8).as_pointer())])

    @intrinsic
    def or_mxcsr(typingctx, bits):
        def codegen(context, builder, signature, args):
            ptr = cgutils.alloca_once(builder, ir.IntType(32))
            mxcsr(builder, "stmxcsr", ptr)
            old = builder.load(ptr)
            builder.store(builder.or_(old, args[0]), ptr)
            mxcsr(builder, "ldmxcsr", ptr)
            return old

        return types.int32(types.int32), codegen

    @intrinsic
    def load_mxcsr(typingctx, value):
        def codegen(context, builder, signature, args):
            ptr = cgutils.alloca_once(builder, ir.IntType(32))
            builder.store(args[0], ptr)
            mxcsr(builder, "ldmxcsr", ptr)
            return context.get_dummy_value()

        return types.void(types.int32), codegen

    @numba.njit(nogil=True)
    def set_bits(bits):
        return or_mxcsr(numba.int32(bits))

    @numba.njit(nogil=True)
    def restore(old):
        load_mxcsr(numba.int32(old))

    return set_bits, restore


@contextlib.contextmanager
def flushing(on: bool):
    """Within the block, this thread flushes subnormals to zero (when ``on``, on x86-64)."""
    switch = _switch() if on else None
    if switch is None:
        yield
        return
    old = switch[0](FTZ_DAZ)
    try:
        yield
    finally:
        switch[1](old)
