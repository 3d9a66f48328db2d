"""The generated kernel: the source text of one fused loop over starts, steps and coordinates.

One function, ``kernel(X, S, coef, t0, steps, k0, k1, tile, D, tol2, zmode, out_x, out_f, out_g, out_nit,
out_code, path, losses, R)``, runs steps ``t0 + 1 .. t0 + steps`` of the starts of tiles ``k0 .. k1-1``
(``tile`` starts each; a thread runs a range of tiles). Per step: per coordinate
``x_j, s_j = update(x_j, g_j, s_j, c)`` with ``c = coef[t-1]`` (t counts the call's steps from 1: the
table holds this call's rows), then f and ∇f at the new point (straight-line code from the printer), then
the runner's tests: diverged when some ``|x_j| > D`` or x, f, ∇f is not finite, converged when
``Σ g_j² <= tol2`` (or, with ``zmode``, every ``g_j == 0``); a finished start keeps its x, f and ∇f and
its step goes to ``out_nit``. The NumPy runner's ``_loop`` is the reference for all of it.

A run is a sequence of such calls (``_run.execute``: chunks of steps), and the kernel's whole state
carries over from one call to the next. The first call (``t0 == 0``) starts from X and S, evaluates f and
∇f there and runs the step-0 tests; a later call starts each start from ``out_x``, ``out_f``,
``out_g`` and S as the call before left them, runs only the starts whose ``out_code`` is still 0, and
leaves the others as they are. Every call writes the state back into S (and R), and ``t0 + t`` into
``out_nit``: int64, exact for any length of run, while the step counters inside a call may be int32.
``path[t]`` and ``losses[t]`` are step ``t0 + t`` (row 0, the start, is written by the first call only).

This module holds what every layout shares (the spec, the printed parts, the head of the kernel, the
tests, the look-ahead, SWATS's rows); each layout of the same computation has its own module, which
says how it runs and what was measured:

- "tiles" (``_layout_tiles``; elementwise updates, n <= ``TILED_MAX``): per-coordinate arrays of a tile's
  starts, the update unrolled per coordinate, vectorized across starts;
- "grid" (``_layout_grid``; elementwise updates, more variables): (coordinate, start) arrays, loops over
  coordinates, vectorized across starts; the table of rows against grid is there;
- "rows" (``_layout_rows``; Newton, and n > ``GRID_MAX``): one start at a time through all its steps.

With ``Spec.rows`` (``Fused.rows``, SWATS's switch: a per-start reduction) the update also reads
``r = (R[0, i], ...)``, the start's row state, and returns ``parts``; the kernel adds them over the
coordinates, left to right from 0.0 (``acc_q`` in "tiles" and "rows", per-start arrays ``ac[q, i]`` in
"grid"), then stores ``finish(r, sums, c)`` into ``R[:, i]``. R is the kernel's last argument, an
``(n_rows, B)`` array (``(0, B)`` without rows).

With ``Spec.point`` (``Fused.point``, classical NAG's look-ahead) each step first computes
``z_j = point(x_j, s_j, c)``, ∇f at z (the printed f and ∇f again, renamed: ``lookahead``) and passes that
to ``update``; f and ∇f at the new x serve the tests as always.

float32 kernels compute in float32: every float literal becomes a float32 constant bound at the top
(``_printer.typed_constants``), D and tol² are rounded down to float32 (so the float32 comparison answers
what the float64 one would), flags and step counts are int32 (an int64 lane halves float32's SIMD width),
and the ``_scalar`` helpers make their constants from their argument's type.

SymPy is imported only by ``parts`` (the printer) and, for float32 sources, by ``source``
(``typed_constants``): loading a kernel whose source this process has needs neither.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import numpy as np

# The layouts' thresholds and sizes, measured (see the layouts' modules)
TILED_MAX = 2  # "tiles" up to this n, "grid" above
GRID_MAX = 10**9  # "rows" above this n (no n up to 200 where "rows" runs or compiles faster)
GRID_BYTES = 16384  # "grid" tiles: about this many bytes of tile arrays (8 to 256 KiB measured: 8-32 as good)
INT32_STEPS = 2**31 - 1  # "tiles" and "grid" count a call's steps in int32 (calls are far shorter: _run.CHUNK)


class Parts(NamedTuple):
    """The printed symbolic pieces of one problem (independent of optimizer and backend)."""

    n: int
    fg: tuple[str, ...]  # f, g_0, ... from x_0, ...
    h: tuple[str, ...] | None  # h_i_j for the nonzero upper-triangle cells, from o_0, ... (Newton only)
    cells: tuple[tuple[int, int], ...] | None  # those cells (i <= j), in the order the NumPy kernel uses
    f_only: tuple[str, ...] | None  # ft from z_0, ... (Newton armijo only)


def parts(problem, hessian: bool = False) -> Parts:
    """Print f and ∇f (and the Hessian and f alone for Newton) as ``symgd.kernels`` groups them for ``cse``."""
    from symgd.fused._printer import statements  # SymPy: only when printing a problem

    n = problem.n
    xs = {v: f"x_{j}" for j, v in enumerate(problem.variables)}
    fg = statements([problem.expr, *problem.gradient], xs, ["f", *(f"g_{j}" for j in range(n))], "u")
    if not hessian:
        return Parts(n, tuple(fg), None, None, None)
    upper = sorted((ij, v) for ij, v in problem.hessian.todok().items() if ij[1] >= ij[0] and v != 0)
    os_ = {v: f"o_{j}" for j, v in enumerate(problem.variables)}  # the Hessian is taken at the old point
    h = statements([v for _, v in upper], os_, [f"h_{i}_{j}" for (i, j), _ in upper], "w")
    zs = {v: f"z_{j}" for j, v in enumerate(problem.variables)}
    f_only = statements([problem.expr], zs, ["ft"], "v")
    return Parts(n, tuple(fg), tuple(h), tuple(ij for ij, _ in upper), tuple(f_only))


class Spec(NamedTuple):
    """Everything that changes the generated text (and so the compiled kernel)."""

    parts: Parts
    n_state: int
    n_coef: int
    newton: str | None  # None: an elementwise update; else Newton's damping
    path: bool
    backend: str  # "python" | "numba"
    dtype: str
    point: Any = None  # ``Fused.point`` (the update's gradient is taken at point(x, s, c)) or None: at x
    rows: int = 0  # ``len(Fused.rows)``: per-start state in R (a per-start reduction), 0 for none
    sums: int = 0  # ``Fused.sums``: the update's parts, added over the coordinates per start
    finish: Any = None  # ``Fused.finish`` (r, sums, c) -> r_next, or None without rows


def indent(lines, depth: int) -> list[str]:
    """``lines`` indented by ``depth`` levels (four spaces each)."""
    return ["    " * depth + line for line in lines]


def check(n: int) -> list[str]:
    """good (x in bounds, x, f, g finite) and conv (the gradient test) at x_j, f, g_j."""
    lines = ["chk = f - f", "inb = abs(x_0) <= DL", "ss = g_0 * g_0", "az = g_0 == 0.0"]
    lines += [f"chk = chk + (g_{j} - g_{j}) + (x_{j} - x_{j})" for j in range(n)]
    for j in range(1, n):
        lines += [f"inb = inb & (abs(x_{j}) <= DL)", f"ss = ss + g_{j} * g_{j}", f"az = az & (g_{j} == 0.0)"]
    return lines + ["good = inb & (chk == 0.0)", "conv = (ss <= TL) | (zmode & az)"]


def alloc(spec: Spec, integer: bool = False, size: str = "L") -> str:
    """A fresh float (or int32 with ``integer``) array of ``size``: a list for CPython, ``np.empty`` for numba."""
    if spec.backend == "python":
        return f"[0] * {size}" if integer else f"[0.0] * {size}"
    return f"np.empty({size}, np.int32)" if integer else f"np.empty({size}, DT)"


def at(spec: Spec, name: str, *ix) -> str:
    """``name[a, b]`` (numba) or ``name[a][b]`` (CPython lists)."""
    return f"{name}[{', '.join(map(str, ix))}]" if spec.backend == "numba" else name + "".join(f"[{i}]" for i in ix)


def rounded(spec: Spec, names) -> list[str]:
    """float32: round each new value to float32 at once, so the tests see what is stored."""
    return [f"{v} = DT({v})" for v in names] if spec.dtype == "float32" else []


def f_and_grad(spec: Spec) -> list[str]:
    """The printed f and ∇f (f, g_0, ... from x_0, ...), rounded to float32 in float32 kernels."""
    n = spec.parts.n
    return list(spec.parts.fg) + rounded(spec, ["f", *(f"g_{j}" for j in range(n))])


_RENAME = re.compile(r"\b(?:x_(\d+)|g_(\d+)|u(\d+))\b")


def lookahead(spec: Spec) -> list[str]:
    """∇f at z_j as q_j (the printed f and ∇f renamed: z for x, q for g, p for u; f itself dropped).

    The same statements as at x, so the look-ahead gradient rounds as the NumPy kernel's ``grad``."""
    n = spec.parts.n
    sub = {1: "z_", 2: "q_", 3: "p"}
    lines = [_RENAME.sub(lambda m: next(sub[k] + v for k, v in enumerate(m.groups(), 1) if v is not None), line)
             for line in spec.parts.fg if not line.startswith("f = ")]
    return lines + rounded(spec, [f"q_{j}" for j in range(n)])


def state_tuple(spec: Spec, item) -> str:
    """The state tuple of one coordinate: ``item(q)`` is where state q lives."""
    return "(" + "".join(f"{item(q)}, " for q in range(spec.n_state)) + ")"


def row_read(spec: Spec, i: str) -> str:
    """``r = (R[0, i], ...)``, the start's row state (read as float64 in float32 kernels: one type for finish)."""
    wrap = "float({})" if spec.dtype == "float32" else "{}"
    return "r = (" + "".join(wrap.format(at(spec, "R", q, i)) + ", " for q in range(spec.rows)) + ")"


def row_finish(spec: Spec, i: str, sums) -> list[str]:
    """``finish`` of the start's row state and its sums, stored into R."""
    lines = ["rn = finish(r, (" + "".join(f"{a}, " for a in sums) + "), c)"]
    return lines + [f"{at(spec, 'R', q, i)} = rn[{q}]" for q in range(spec.rows)]


def out_flags(spec: Spec) -> list[str]:
    """A tile's start i: its f, step and status out of the tile's arrays ("tiles" and "grid"); ``nt[i]`` is -1
    for a start that finished in an earlier call (its step stays). The step is int64: t0 plus the call's."""
    nit = f"_sel(nt[i] >= 0, t0 + {read(spec, 'nt[i]', True)}, out_nit[lo + i])"
    return ["out_f[lo + i] = fa[i]", f"out_nit[lo + i] = {nit}", "out_code[lo + i] = st[i]"]


def resume_flags(code: str) -> list[str]:
    """A later call, start i of a tile: running (al 1, nt the call's steps) if its status ``code`` is 0, else
    finished in an earlier call (al 0, nt -1)."""
    return [f"st[i] = {code}", "al[i] = _sel(st[i] == 0, 1, 0)", "nt[i] = _sel(st[i] == 0, steps, -1)"]


def read(spec: Spec, item: str, integer: bool = False) -> str:
    """``item`` as a Python float (int) in CPython, where it may be a NumPy scalar: an output array's (a NumPy
    float divides by zero with a warning where the ``_scalar`` helpers expect Python's error), or the int32
    step of the grid (``t0 + np.int32`` overflows where ``t0 + int`` does not)."""
    if spec.backend == "numba":
        return item
    return f"int({item})" if integer else f"float({item})"


def layout(spec: Spec) -> str:
    """"tiles", "grid" or "rows" (see the module docstring)."""
    if spec.newton is not None or spec.parts.n > GRID_MAX:
        return "rows"
    return "tiles" if spec.parts.n <= TILED_MAX else "grid"


def head(spec: Spec) -> list[str]:
    """The comment naming the kernel's spec, and the kernel's signature."""
    n, ns, nc = spec.parts.n, spec.n_state, spec.n_coef
    return [f"# symgd.fused kernel ({layout(spec)}): n={n}, state={ns}, coef={nc}, newton={spec.newton}, "
            f"point={spec.point is not None}, rows={spec.rows}, sums={spec.sums}, path={spec.path}, "
            f"backend={spec.backend}, dtype={spec.dtype}",
            "# names bound at load: np, DT, _NAN, _sel, update, point, finish, _newton_dir, _f_<function> "
            "(symgd.fused._scalar)",
            "def kernel(X, S, coef, t0, steps, k0, k1, tile, D, tol2, zmode, out_x, out_f, out_g, out_nit, out_code, "
            "path, losses, R):",
            "    B = len(X)"]


def limits(spec: Spec) -> list[str]:
    """DL and TL, the bounds the tests compare with: float32 kernels take the largest float32 <= D (and
    tol2), so that a float32 comparison says what the float64 one would (and nothing is promoted)."""
    if spec.dtype != "float32":
        return ["DL = D", "TL = tol2"]
    out = []
    for name, arg in (("DL", "D"), ("TL", "tol2")):
        out += [f"{name} = DT({arg})", f"if {name} > {arg}:", f"    {name} = np.nextafter({name}, DT(-np.inf))"]
    return out


def coef_lines(nc: int) -> list[str]:
    """Step t's coefficients: the row ``coef[t - 1]`` as the tuple ``c`` (and t as int32, ``t32``)."""
    return ["t32 = np.int32(t)", "cr = coef[t - 1]", "c = (" + "".join(f"cr[{q}], " for q in range(nc)) + ")"]


def source(spec: Spec) -> str:
    """The kernel's Python source: the same loop for CPython and numba (numba's variant selects without
    branches where CPython skips finished starts, and allocates typed arrays where CPython uses lists).
    float32: every float literal is a float32 constant bound once at the top (``typed_constants``)."""
    from symgd.fused import _layout_grid, _layout_rows, _layout_tiles  # they build on this module

    kind = layout(spec)
    layouts = {"tiles": _layout_tiles, "grid": _layout_grid, "rows": _layout_rows}
    body = limits(spec) + layouts[kind].kernel_body(spec)
    if kind != "rows":  # int32 step counts and flags (int64 ones would halve float32's SIMD lanes)
        body = [f"if steps > {INT32_STEPS}:", f"    raise ValueError('at most {INT32_STEPS} steps in one call')"] + body
    if spec.dtype == "float32":
        from symgd.fused._printer import typed_constants

        body, consts = typed_constants(body)
        body = consts + body
    return "\n".join(head(spec) + indent(body, 1)) + "\n"


def tile_size(spec: Spec) -> int:
    """Starts per tile: "tiles" fill about 32 KiB (L1) with the tile's arrays, 64..1024 starts; "grid"
    GRID_BYTES, 16..1024; "rows" 64."""
    kind = layout(spec)
    if kind == "rows":
        return 64
    n, ns = spec.parts.n, spec.n_state
    if kind == "grid":
        per_start = 8 * (n * (2 + ns + 2 * (spec.point is not None)) + 6 + spec.sums)
        return int(np.clip(GRID_BYTES // per_start // 16 * 16, 16, 1024))
    per_start = 8 * (n * (2 + ns) + 3)
    return int(np.clip(32768 // per_start // 64 * 64, 64, 1024))
