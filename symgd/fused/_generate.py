"""The generated kernel: the source text of one fused loop over starts, steps and coordinates.

One function, ``kernel(X, S, coef, steps, k0, k1, tile, D, tol2, zmode, out_x, out_f, out_g, out_nit,
out_code, path, losses, R)``, runs the starts of tiles ``k0 .. k1-1`` (``tile`` starts each; a thread runs
a range of tiles). Per step: per coordinate ``x_j, s_j = update(x_j, g_j, s_j, c)`` with
``c = coef[t-1]``, then f and ∇f at the new point (straight-line code from the printer), then the
runner's tests: diverged when some ``|x_j| > D`` or x, f, ∇f is not finite, converged when
``Σ g_j² <= tol2`` (or, with ``zmode``, every ``g_j == 0``); a finished start keeps its x, f and ∇f and
its step goes to ``out_nit``. The NumPy runner's ``_loop`` is the reference for all of it.

Three layouts of the same computation:

- "tiles" (elementwise updates, n <= ``TILED_MAX``): a tile's starts live in per-coordinate arrays and
  the innermost loop walks the tile's starts, so numba vectorizes across starts; the update is unrolled
  per coordinate; a finished start is computed and dropped (branch-free selects), and a tile stops
  when all its starts are done.
- "grid" (elementwise updates, more variables): a tile's starts live in (coordinate, start) arrays
  ``xa[j, i]``, ``ga[j, i]``, ``sa[q, j, i]`` whose last axis has the constant length ``TW`` (rows a known
  distance apart: without it LLVM cannot prove that ``xa[0, i]`` and ``xa[1, i']`` differ, and vectorizes
  nothing). Per step: a loop over coordinates (``nj``, not unrolled) around a loop over the tile's starts
  applying the update to running starts; one loop over the starts with the printed f and ∇f; the tests
  (unrolled into that loop up to ``INLINE_TESTS_MAX`` variables, else loops over coordinates summing into
  per-start arrays); then the flags. Step 0 is the same loop without the update, so f and ∇f are printed
  once: the source is the printed gradient plus O(1) lines (O(n) below ``INLINE_TESTS_MAX``).
- "rows" (Newton, and n > ``GRID_MAX``): one start at a time through all its steps, coordinates in
  small arrays, loops over coordinates; a start stops when it finishes.

With ``Spec.rows`` (``Fused.rows``, SWATS's switch: a per-start reduction) the update also reads
``r = (R[0, i], ...)``, the start's row state, and returns ``parts``; the kernel adds them over the
coordinates, left to right from 0.0 (``acc_q`` in "tiles" and "rows", per-start arrays ``ac[q, i]`` in
"grid"), then stores ``finish(r, sums, c)`` into ``R[:, i]``. R is the kernel's last argument, an
``(n_rows, B)`` array (``(0, B)`` without rows).

With ``Spec.point`` (``Fused.point``, classical NAG's look-ahead) each step first computes
``z_j = point(x_j, s_j, c)``, ∇f at z (the printed f and ∇f again, renamed: ``_lookahead``) and passes that
to ``update``; f and ∇f at the new x serve the tests as always.

float32 kernels compute in float32: every float literal becomes a float32 constant bound at the top
(``_printer.typed_constants``), D and tol² are rounded down to float32 (so the float32 comparison answers
what the float64 one would), flags and step counts are int32 (an int64 lane halves float32's SIMD width),
and the ``_scalar`` helpers make their constants from their argument's type.

Measured (``benchmarks/bench_layouts.py``, 2-core machine shared with other jobs; point-steps per second
with 1 / 2 threads, 1e4 starts, every start every step; compile seconds; chained Rosenbrock
Σ 100(x_{i+1} - x_i²)² + (1 - x_i)² from U(-1, 1)^n, Styblinski-Tang from U(-5, 5)^n):

=============  ========  ==================  ==================  =========  ========
problem        method    rows                grid                compile    compile
                         1 / 2 threads       1 / 2 threads       rows       grid
=============  ========  ==================  ==================  =========  ========
Styb.-Tang 10  GD        3.6e7 / 7.2e7       1.3e8 / 2.7e8       1.8        1.7
Styb.-Tang 10  momentum  3.4e7 / 6.7e7       1.2e8 / 2.4e8       1.3        1.5
Styb.-Tang 10  Adam      1.9e7 / 3.6e7       4.6e7 / 8.9e7       1.6        1.7
Rosenbrock 4   GD        9.8e7 / 1.8e8       3.2e8 / 6.2e8       0.9        0.9
Rosenbrock 4   Adam      3.5e7 / 6.6e7       1.2e8 / 2.3e8       1.0        1.3
Rosenbrock 10  GD        3.6e7 / 7.2e7       1.4e8 / 2.6e8       1.2        1.5
Rosenbrock 10  Adam      2.0e7 / 3.8e7       4.9e7 / 9.1e7       1.4        1.7
Rosenbrock 50  GD        6.9e6 / 1.3e7       1.6e7 / 3.0e7       5.7        4.0
Rosenbrock 50  Adam      4.7e6 / 8.8e6       7.8e6 / 1.6e7       5.8        3.8
Rosenbrock 200 GD / Adam --                  --                  35 / 39    14 / 15
=============  ========  ==================  ==================  =========  ========

Before this layout (session 3 start, "rows" with ``pow`` for x³, x⁴): Styblinski-Tang 10-D 3.8e6 for GD,
momentum and Adam; JAX + optax (``bench_peers.py``, same run, 1e4 starts) 2.5e8 GD, 7.7e7 momentum, 4.4e7
Adam against the grid's 2.3e8, 1.9e8, 8.8e7 there. n = 2: "tiles" 7.6e8 GD, 3.2e8 Adam against the grid's
6.8e8, 2.6e8; n = 3: "tiles" 5.1e8 GD, 4.3e7 Adam (not vectorized), grid 4.1e8, 1.7e8: so TILED_MAX = 2.
Tile size (GRID_BYTES 8 to 256 KiB): flat within noise up to 32 KiB, 20-35 % slower for GD at 128 KiB.
float32 (one thread): Rosenbrock 2-D GD 1.35e9 against 7.7e8 in float64, Adam 4.4e8 against 2.9e8;
Styblinski-Tang 10-D GD 1.35e8 / 1.26e8 and Adam 8e7 / 4.8e7 over 600 steps (but 1.3e7 over 2000 steps
from U(-5, 5): not understood; m, v and g stay normal floats).

Newton's form replaces the update by the Hessian (printed the same way), a per-start solve
(``symgd.optimizers._linalg.newton_direction``) and, for damping "armijo", backtracking on the
printed f.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import numpy as np

from symgd.optimizers._linalg import ARMIJO_C, MAX_HALVINGS


# The layouts' thresholds and sizes, measured (see the module docstring)
TILED_MAX = 2  # "tiles" up to this n, "grid" above
GRID_MAX = 10**9  # "rows" above this n (no n up to 200 where "rows" runs or compiles faster)
INLINE_TESTS_MAX = 16  # "grid": up to this n the tests are unrolled into the loop of f and ∇f
GRID_BYTES = 16384  # "grid" tiles: about this many bytes of tile arrays (8 to 256 KiB measured: 8-32 as good)
INT32_STEPS = 2**31 - 1  # "tiles" and "grid" count steps in int32 (fused.MAX_STEPS, far lower, comes first)


class Parts(NamedTuple):
    """The printed symbolic pieces of one problem (independent of optimizer and backend)."""

    n: int
    fg: tuple[str, ...]  # f, g_0, ... from x_0, ...
    h: tuple[str, ...] | None  # h_i_j for the nonzero upper-triangle cells, from o_0, ... (Newton only)
    cells: tuple[tuple[int, int], ...] | None  # those cells (i <= j), in the order the NumPy kernel uses
    f_only: tuple[str, ...] | None  # ft from z_0, ... (Newton armijo only)


def parts(problem, hessian: bool = False) -> Parts:
    """Print f and ∇f (and the Hessian and f alone for Newton) as ``symgd.kernels`` groups them for ``cse``."""
    from symgd.fused._printer import statements  # SymPy: only when a problem's parts are printed

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


def _indent(lines, depth: int) -> list[str]:
    return ["    " * depth + line for line in lines]


def _check(n: int) -> list[str]:
    """good (x in bounds, x, f, g finite) and conv (the gradient test) at x_j, f, g_j."""
    lines = ["chk = f - f", "inb = abs(x_0) <= DL", "ss = g_0 * g_0", "az = g_0 == 0.0"]
    lines += [f"chk = chk + (g_{j} - g_{j}) + (x_{j} - x_{j})" for j in range(n)]
    for j in range(1, n):
        lines += [f"inb = inb & (abs(x_{j}) <= DL)", f"ss = ss + g_{j} * g_{j}", f"az = az & (g_{j} == 0.0)"]
    return lines + ["good = inb & (chk == 0.0)", "conv = (ss <= TL) | (zmode & az)"]


def _alloc(spec: Spec, integer: bool = False, size: str = "L") -> str:
    if spec.backend == "python":
        return f"[0] * {size}" if integer else f"[0.0] * {size}"
    return f"np.empty({size}, np.int32)" if integer else f"np.empty({size}, DT)"


def _alloc_grid(spec: Spec, *dims: int) -> str:
    """A (dims..., TW) float array: nested lists for CPython, one C array for numba. The last axis is the
    constant TW (not L): rows a known distance apart are what lets LLVM vectorize the loops over starts."""
    if spec.backend == "numba":
        return f"np.empty(({''.join(f'{d}, ' for d in dims)}TW), DT)"
    out = "[0.0] * TW"
    for d in reversed(dims):
        out = f"[{out} for _ in range({d})]"
    return out


def _at(spec: Spec, name: str, *ix) -> str:
    """``name[a, b]`` (numba) or ``name[a][b]`` (CPython lists)."""
    return f"{name}[{', '.join(map(str, ix))}]" if spec.backend == "numba" else name + "".join(f"[{i}]" for i in ix)


def _rounded(spec: Spec, names) -> list[str]:
    """float32: round each new value to float32 at once, so the tests see what is stored."""
    return [f"{v} = DT({v})" for v in names] if spec.dtype == "float32" else []


def _fg(spec: Spec) -> list[str]:
    n = spec.parts.n
    return list(spec.parts.fg) + _rounded(spec, ["f", *(f"g_{j}" for j in range(n))])


_RENAME = re.compile(r"\b(?:x_(\d+)|g_(\d+)|u(\d+))\b")


def _lookahead(spec: Spec) -> list[str]:
    """∇f at z_j as q_j (the printed f and ∇f renamed: z for x, q for g, p for u; f itself dropped).

    The same statements as at x, so the look-ahead gradient rounds as the NumPy kernel's ``grad``."""
    n = spec.parts.n
    sub = {1: "z_", 2: "q_", 3: "p"}
    lines = [_RENAME.sub(lambda m: next(sub[k] + v for k, v in enumerate(m.groups(), 1) if v is not None), line)
             for line in spec.parts.fg if not line.startswith("f = ")]
    return lines + _rounded(spec, [f"q_{j}" for j in range(n)])


def _state(spec: Spec, item) -> str:
    """The state tuple of one coordinate: ``item(q)`` is where state q lives."""
    return "(" + "".join(f"{item(q)}, " for q in range(spec.n_state)) + ")"


def _update_lines(spec: Spec) -> list[str]:
    n, ns = spec.parts.n, spec.n_state
    lines, g = [], "ga_{j}[i]"
    if spec.point is not None:
        lines += [f"z_{j} = point(o_{j}, {_state(spec, lambda q: f'sa_{q}_{j}[i]')}, c)" for j in range(n)]
        lines += _rounded(spec, [f"z_{j}" for j in range(n)]) + _lookahead(spec)
        g = "q_{j}"
    if spec.rows:
        lines += [_row_read(spec, "lo + i")] + [f"acc_{q} = 0.0" for q in range(spec.sums)]
    for j in range(n):
        state = _state(spec, lambda q: f'sa_{q}_{j}[i]')
        if spec.rows:
            lines.append(f"x_{j}, s_{j}, d_{j} = update(o_{j}, {g.format(j=j)}, {state}, r, c)")
            lines += [f"acc_{q} = acc_{q} + d_{j}[{q}]" for q in range(spec.sums)]
        else:
            lines.append(f"x_{j}, s_{j} = update(o_{j}, {g.format(j=j)}, {state}, c)")
    if spec.rows:
        lines += _row_finish(spec, "lo + i", [f"acc_{q}" for q in range(spec.sums)])
    lines += _rounded(spec, [f"x_{j}" for j in range(n)]) + _fg(spec)
    lines += [f"sa_{q}_{j}[i] = s_{j}[{q}]" for j in range(n) for q in range(ns)]
    return lines


def _row_read(spec: Spec, i: str) -> str:
    """``r = (R[0, i], ...)``, the start's row state (read as float64 in float32 kernels: one type for finish)."""
    wrap = "float({})" if spec.dtype == "float32" else "{}"
    return "r = (" + "".join(wrap.format(_at(spec, "R", q, i)) + ", " for q in range(spec.rows)) + ")"


def _row_finish(spec: Spec, i: str, sums) -> list[str]:
    """``finish`` of the start's row state and its sums, stored into R."""
    lines = ["rn = finish(r, (" + "".join(f"{a}, " for a in sums) + "), c)"]
    return lines + [f"{_at(spec, 'R', q, i)} = rn[{q}]" for q in range(spec.rows)]


def _newton_lines(spec: Spec) -> list[str]:
    """Rows layout: from o_j (xv) and gv to x_j, f, g_j."""
    n = spec.parts.n
    lines = [f"o_{j} = xv[{j}]" for j in range(n)] + list(spec.parts.h)  # the Hessian at the old point
    filled = {}
    for i, j in spec.parts.cells:  # as the NumPy kernel: the nonzero upper cells, mirrored; zeros elsewhere
        filled[i * n + j] = filled[j * n + i] = f"h_{i}_{j}"
    if len(filled) < n * n:
        lines += [f"for q in range({n * n}):", "    hb[q] = 0.0"]
    lines += [f"hb[{k}] = {name}" for k, name in sorted(filled.items())]
    saddle = "True" if spec.newton == "saddle_free" else "False"
    lines.append(f"_newton_dir(hb, gv, db, wb, {n}, {saddle}, c[1])")
    if spec.newton != "armijo":
        lines += [f"x_{j} = o_{j} - c[0] * db[{j}]" for j in range(n)]
    else:
        lines += [f"d_{j} = -db[{j}]" for j in range(n)]
        slope = " + ".join(f"gv[{j}] * d_{j}" for j in range(n))
        lines += [f"sl = {slope}", "if not (sl < 0.0):"]  # not a descent direction (or NaN): -g
        lines += [f"    d_{j} = -gv[{j}]" for j in range(n)]
        lines += [f"sl = {slope}", "fx = f", "a = c[0]", "if (fx - fx) == 0.0 and (sl - sl) == 0.0:",
                  f"    for _h in range({MAX_HALVINGS}):"]
        body = [f"z_{j} = o_{j} + a * d_{j}" for j in range(n)] + list(spec.parts.f_only)
        body += [f"if ft <= fx + {ARMIJO_C!r} * a * sl:", "    break", "a = a * 0.5"]
        lines += _indent(body, 2)
        lines += [f"x_{j} = o_{j} + a * d_{j}" for j in range(n)]
    lines += _rounded(spec, [f"x_{j}" for j in range(n)]) + _fg(spec)
    return lines + [f"xv[{j}] = x_{j}" for j in range(n)] + [f"gv[{j}] = g_{j}" for j in range(n)]




def layout(spec: Spec) -> str:
    """"tiles", "grid" or "rows" (see the module docstring)."""
    if spec.newton is not None or spec.parts.n > GRID_MAX:
        return "rows"
    return "tiles" if spec.parts.n <= TILED_MAX else "grid"


def _head(spec: Spec) -> list[str]:
    n, ns, nc = spec.parts.n, spec.n_state, spec.n_coef
    return [f"# symgd.fused kernel ({layout(spec)}): n={n}, state={ns}, coef={nc}, newton={spec.newton}, "
            f"point={spec.point is not None}, rows={spec.rows}, sums={spec.sums}, path={spec.path}, "
            f"backend={spec.backend}, dtype={spec.dtype}",
            "# names bound at load: np, DT, _NAN, _sel, update, point, finish, _newton_dir, _f_<function> "
            "(symgd.fused._scalar)",
            "def kernel(X, S, coef, steps, k0, k1, tile, D, tol2, zmode, out_x, out_f, out_g, out_nit, out_code, "
            "path, losses, R):",
            "    B = len(X)"]


def _limits(spec: Spec) -> list[str]:
    """DL and TL, the bounds the tests compare with: float32 kernels take the largest float32 <= D (and
    tol2), so that a float32 comparison says what the float64 one would (and nothing is promoted)."""
    if spec.dtype != "float32":
        return ["DL = D", "TL = tol2"]
    out = []
    for name, arg in (("DL", "D"), ("TL", "tol2")):
        out += [f"{name} = DT({arg})", f"if {name} > {arg}:", f"    {name} = np.nextafter({name}, DT(-np.inf))"]
    return out


def _coefs(nc: int) -> list[str]:
    return ["t32 = np.int32(t)", "cr = coef[t - 1]", "c = (" + "".join(f"cr[{q}], " for q in range(nc)) + ")"]


def source(spec: Spec) -> str:
    """The kernel's Python source: the same loop for CPython and numba (numba's variant selects without
    branches where CPython skips finished starts, and allocates typed arrays where CPython uses lists).
    float32: every float literal is a float32 constant bound once at the top (``typed_constants``)."""
    kind = layout(spec)
    body = _limits(spec) + {"tiles": _tiles, "grid": _grid, "rows": _rows}[kind](spec)
    if kind != "rows":  # int32 step counts and flags (int64 ones would halve float32's SIMD lanes)
        body = [f"if steps > {INT32_STEPS}:", f"    raise ValueError('at most {INT32_STEPS} steps in one call')"] + body
    if spec.dtype == "float32":
        from symgd.fused._printer import typed_constants

        body, consts = typed_constants(body)
        body = consts + body
    return "\n".join(_head(spec) + _indent(body, 1)) + "\n"


def _tiles(spec: Spec) -> list[str]:
    n, ns = spec.parts.n, spec.n_state
    body = ["lo = k * tile", "L = min(B, lo + tile) - lo"]
    arrays = [f"xa_{j}" for j in range(n)] + [f"ga_{j}" for j in range(n)] + ["fa"]
    arrays += [f"sa_{q}_{j}" for q in range(ns) for j in range(n)]
    body += [f"{a} = {_alloc(spec)}" for a in arrays]
    body += [f"al = {_alloc(spec, True)}", f"nt = {_alloc(spec, True)}", f"st = {_alloc(spec, True)}"]
    body += ["nal = 0", "for i in range(L):"]
    first = [f"x_{j} = X[lo + i][{j}]" for j in range(n)]
    first += [f"sa_{q}_{j}[i] = S[{q}][lo + i][{j}]" for q in range(ns) for j in range(n)]
    first += _fg(spec) + _check(n) + ["fin = (not good) | conv"]
    first += [f"xa_{j}[i] = x_{j}" for j in range(n)] + [f"ga_{j}[i] = g_{j}" for j in range(n)]
    first += _first_flags()
    if spec.path:
        first += [f"path[0][lo + i][{j}] = x_{j}" for j in range(n)] + ["losses[0][lo + i] = f"]
    body += _indent(first, 1)
    body += ["for t in range(1, steps + 1):", "    if nal == 0:", "        break", *_indent(_coefs(spec.n_coef), 1),
             "    nal = 0", "    for i in range(L):"]
    step = ["ok = al[i]"]
    if spec.backend == "python":
        step += ["if ok == 0:", "    continue"]  # numba computes finished starts too and drops the result
    step += [f"o_{j} = xa_{j}[i]" for j in range(n)] + _update_lines(spec) + _check(n)
    step += _keep(spec, [(f"xa_{j}[i]", f"x_{j}", f"o_{j}") for j in range(n)]
                  + [(f"ga_{j}[i]", f"g_{j}", f"ga_{j}[i]") for j in range(n)])
    if spec.path:
        step += [f"path[t][lo + i][{j}] = xa_{j}[i]" for j in range(n)] + ["losses[t][lo + i] = fa[i]"]
    body += _indent(step, 2) + _indent(_count(spec), 1)
    out = [f"out_x[lo + i][{j}] = xa_{j}[i]" for j in range(n)] + [f"out_g[lo + i][{j}] = ga_{j}[i]" for j in range(n)]
    body += ["for i in range(L):"] + _indent(out + _out_flags(), 1)
    return ["for k in range(k0, k1):"] + _indent(body, 1)


def _first_flags() -> list[str]:
    return ["fa[i] = f", "nt[i] = _sel(fin, 0, steps)", "al[i] = _sel(fin, 0, 1)", "nal += al[i]",
            "st[i] = _sel(fin, _sel(good, 1, 2), 0)"]


def _out_flags() -> list[str]:
    return ["out_f[lo + i] = fa[i]", "out_nit[lo + i] = nt[i]", "out_code[lo + i] = st[i]"]


def _keep(spec: Spec, stores) -> list[str]:
    """After a step of start i: keep (``target = new``; numba selects ``new`` or ``old`` without a branch),
    then the flags. CPython skipped finished starts, so everything here is kept."""
    if spec.backend == "python":
        lines = [f"{dst} = {new}" for dst, new, _ in stores]
        return lines + ["fa[i] = f", "if (not good) | conv:", "    nt[i] = t", "    al[i] = 0",
                        "    st[i] = 1 if good else 2", "else:", "    nal += 1"]
    lines = ["fin = (ok > 0) & ((not good) | conv)", "keep = ok > 0"]
    lines += [f"{dst} = _sel(keep, {new}, {old})" for dst, new, old in stores]
    return lines + ["fa[i] = _sel(keep, f, fa[i])", "nt[i] = _sel(fin, t32, nt[i])", "a2 = _sel(fin, 0, ok)",
                    "al[i] = a2", "st[i] = _sel(fin, _sel(good, 1, 2), st[i])"]


def _count(spec: Spec) -> list[str]:
    """numba: the starts still running, counted in a loop of their own (an int64 sum in the step's loop
    would halve its SIMD lanes in float32)."""
    return ["nal = 0", "for i in range(L):", "    nal += al[i]"] if spec.backend == "numba" else []


def _grid(spec: Spec) -> list[str]:
    """Tiles of starts in (coordinate, start) arrays. Per step: a loop over coordinates around the update (not
    unrolled: ``nj`` is no constant to LLVM) that moves only running starts, one loop over the tile's starts
    with the printed f and ∇f, the tests as loops over coordinates into per-start sums, then the flags. A
    finished start stays where it is, so f and ∇f evaluated there again are its own. Step 0 is the same
    without the update: f and ∇f are printed once."""
    n, ns = spec.parts.n, spec.n_state
    at = lambda name, *ix: _at(spec, name, *ix)  # noqa: E731
    body = ["lo = k * tile", "L = min(B, lo + tile) - lo", "nj = len(X[lo])"]
    body += [f"{a} = {_alloc_grid(spec, n)}" for a in ("xa", "ga")]
    body += [f"sa = {_alloc_grid(spec, ns, n)}"] if ns else []
    body += [f"za = {_alloc_grid(spec, n)}", f"qa = {_alloc_grid(spec, n)}"] if spec.point is not None else []
    body += [f"ac = {_alloc_grid(spec, max(1, spec.sums))}"] if spec.rows else []
    body += [f"{a} = {_alloc(spec)}" for a in ("fa", "ck", "ss", "am")]
    body += [f"{a} = {_alloc(spec, True)}" for a in ("al", "nt", "st")]
    body += ["for i in range(L):", "    for j in range(nj):", f"        {at('xa', 'j', 'i')} = {at('X', 'lo + i', 'j')}"]
    body += [f"        {at('sa', q, 'j', 'i')} = {at('S', q, 'lo + i', 'j')}" for q in range(ns)]
    body += ["    al[i] = 1", "    nt[i] = steps", "    st[i] = 0"]
    body += ["nal = L", "for t in range(steps + 1):", "    if nal == 0:", "        break", "    t32 = np.int32(t)"]
    skip = ["if al[i] == 0:", "    continue"] if spec.backend == "python" else []  # CPython: only running starts
    state = _state(spec, lambda q: at("sa", q, "j", "i"))
    loop, g = _coefs(spec.n_coef)[1:], at("ga", "j", "i")  # (t32 is set above)
    if spec.point is not None:
        loop += ["for j in range(nj):", "    for i in range(L):"]
        loop += _indent(skip + [f"{at('za', 'j', 'i')} = point({at('xa', 'j', 'i')}, {state}, c)"], 2)
        look = [f"z_{j} = {at('za', j, 'i')}" for j in range(n)] + _lookahead(spec)
        loop += ["for i in range(L):"] + _indent(skip + look + [f"{at('qa', j, 'i')} = q_{j}" for j in range(n)], 1)
        g = at("qa", "j", "i")
    if spec.rows:
        loop += ["for i in range(L):"] + _indent([f"{at('ac', q, 'i')} = 0.0" for q in range(spec.sums)], 1)
        upd = [_row_read(spec, "lo + i"), f"y, s, d = update({at('xa', 'j', 'i')}, {g}, {state}, r, c)"]
    else:
        upd = [f"y, s = update({at('xa', 'j', 'i')}, {g}, {state}, c)"]
    upd += [f"{at('xa', 'j', 'i')} = y"] if skip else [f"{at('xa', 'j', 'i')} = _sel(al[i] > 0, y, {at('xa', 'j', 'i')})"]
    upd += [f"{at('sa', q, 'j', 'i')} = s[{q}]" for q in range(ns)]
    upd += [f"{at('ac', q, 'i')} = {at('ac', q, 'i')} + d[{q}]" for q in range(spec.sums)] if spec.rows else []
    loop += ["for j in range(nj):", "    for i in range(L):"] + _indent(skip + upd, 2)
    if spec.rows:
        fin = [_row_read(spec, "lo + i")] + _row_finish(spec, "lo + i", [at("ac", q, "i") for q in range(spec.sums)])
        loop += ["for i in range(L):"] + _indent(skip + fin, 1)
    body += ["    if t > 0:"] + _indent(loop, 2) + _indent(_grid_tests(spec, skip), 1)
    out = ["for j in range(nj):", f"    {at('out_x', 'lo + i', 'j')} = {at('xa', 'j', 'i')}",
           f"    {at('out_g', 'lo + i', 'j')} = {at('ga', 'j', 'i')}"]
    body += ["for i in range(L):"] + _indent(out + _out_flags(), 1)
    guard = [f"TW = {tile_size(spec)}", "if tile > TW:", "    raise ValueError('tile is larger than the kernel\\'s tiles')"]
    return guard + ["for k in range(k0, k1):"] + _indent(body, 1)


def _grid_tests(spec: Spec, skip: list[str]) -> list[str]:
    """f and ∇f at xa (into fa, ga), then the runner's tests as ``_check``'s, summed over coordinates per start:
    ck is 0 while x is in bounds and x, f, ∇f are finite (nan otherwise), ss is Σ g_j², am is Σ |g_j|
    (0 exactly when every g_j is 0); then the flags of the starts that ran this step."""
    n, at = spec.parts.n, lambda name, *ix: _at(spec, name, *ix)  # noqa: E731
    fg = [f"x_{j} = {at('xa', j, 'i')}" for j in range(n)] + _fg(spec) + [f"{at('ga', j, 'i')} = g_{j}" for j in range(n)]
    fg += ["fa[i] = f", "ck[i] = f - f", "ss[i] = 0.0", "am[i] = 0.0"]
    test = ["xj = " + at("xa", "j", "i"), "gj = " + at("ga", "j", "i"),
            "ck[i] = ck[i] + (gj - gj) + _sel(abs(xj) <= DL, xj - xj, _NAN)", "ss[i] = ss[i] + gj * gj",
            "am[i] = am[i] + abs(gj)"]
    flags = ["ok = al[i]", "good = ck[i] == 0.0", "conv = (ss[i] <= TL) | (zmode & (am[i] == 0.0))",
             "fin = (ok > 0) & ((not good) | conv)", "nt[i] = _sel(fin, t32, nt[i])", "al[i] = _sel(fin, 0, ok)",
             "st[i] = _sel(fin, _sel(good, 1, 2), st[i])"]
    if n <= INLINE_TESTS_MAX:  # one loop: the tests unrolled over coordinates (3 lines each), scalar sums
        sums = ["ck_ = f - f", "ss_ = 0.0", "am_ = 0.0"]
        for j in range(n):
            sums += [f"ck_ = ck_ + (g_{j} - g_{j}) + _sel(abs(x_{j}) <= DL, x_{j} - x_{j}, _NAN)",
                     f"ss_ = ss_ + g_{j} * g_{j}", f"am_ = am_ + abs(g_{j})"]
        sums += ["ck[i] = ck_", "ss[i] = ss_", "am[i] = am_"]
        lines = ["nal = 0", "for i in range(L):"] + _indent(skip + fg[:-3] + sums + flags + ["nal += al[i]"], 1)
        return lines + _grid_path(spec, "t")
    lines = ["for i in range(L):"] + _indent(skip + fg, 1)
    lines += ["for j in range(nj):", "    for i in range(L):"] + _indent(skip + test, 2)
    lines += ["nal = 0", "for i in range(L):"] + _indent(skip + flags + ["nal += al[i]"], 1)
    return lines + _grid_path(spec, "t")


def _grid_path(spec: Spec, t: str) -> list[str]:
    if not spec.path:
        return []
    n, at = spec.parts.n, lambda name, *ix: _at(spec, name, *ix)  # noqa: E731
    return ["for i in range(L):", "    for j in range(nj):",
            f"        {at('path', t, 'lo + i', 'j')} = {at('xa', 'j', 'i')}", f"    {at('losses', t, 'lo + i')} = fa[i]"]


def _check_rows(n: int) -> list[str]:
    """good and conv from f, xv and gv (one start), as ``_check``."""
    return ["chk = f - f", "inb = True", "ss = 0.0", "az = True", f"for j in range({n}):",
            "    xj = xv[j]", "    gj = gv[j]", "    chk = chk + (gj - gj) + (xj - xj)", "    inb = inb & (abs(xj) <= DL)",
            "    ss = ss + gj * gj", "    az = az & (gj == 0.0)", "good = inb & (chk == 0.0)",
            "conv = (ss <= TL) | (zmode & az)"]


def _rows_update(spec: Spec) -> list[str]:
    """Rows layout, an elementwise update: from xv, gv (and sv) to x_j, f, g_j."""
    n, ns = spec.parts.n, spec.n_state
    s = "(" + "".join(f"sv[{q * n} + j], " for q in range(ns)) + ")"
    lines, g = [], "gv[j]"
    if spec.point is not None:
        lines += [f"for j in range({n}):", f"    zv[j] = point(xv[j], {s}, c)"]
        lines += [f"z_{j} = zv[{j}]" for j in range(n)] + _lookahead(spec) + [f"zv[{j}] = q_{j}" for j in range(n)]
        g = "zv[j]"
    if spec.rows:
        lines += [_row_read(spec, "i")] + [f"acc_{q} = 0.0" for q in range(spec.sums)]
        lines += [f"for j in range({n}):", f"    y, s, d = update(xv[j], {g}, {s}, r, c)"]
        lines += [f"    acc_{q} = acc_{q} + d[{q}]" for q in range(spec.sums)]
    else:
        lines += [f"for j in range({n}):", f"    y, s = update(xv[j], {g}, {s}, c)"]
    lines += ["    xv[j] = DT(y)" if spec.dtype == "float32" else "    xv[j] = y"]
    lines += [f"    sv[{q * n} + j] = s[{q}]" for q in range(ns)]
    if spec.rows:
        lines += _row_finish(spec, "i", [f"acc_{q}" for q in range(spec.sums)])
    return lines + [f"x_{j} = xv[{j}]" for j in range(n)] + _fg(spec) + [f"gv[{j}] = g_{j}" for j in range(n)]


def _rows(spec: Spec) -> list[str]:
    n, ns = spec.parts.n, spec.n_state
    body = [f"xv = {_alloc(spec, size=str(n))}", f"gv = {_alloc(spec, size=str(n))}",
            f"sv = {_alloc(spec, size=str(max(1, ns * n)))}"]
    body += [f"zv = {_alloc(spec, size=str(n))}"] if spec.point is not None else []
    if spec.newton:
        body += [f"hb = {_alloc(spec, size=str(n * n))}", f"db = {_alloc(spec, size=str(n))}",
                 f"wb = {_alloc(spec, size=str(3 * n * n + 2 * n))}"]
    body += ["for i in range(k0 * tile, min(B, k1 * tile)):"]
    one = [f"for j in range({n}):", "    xv[j] = X[i][j]"]
    one += [f"    sv[{q * n} + j] = S[{q}][i][j]" for q in range(ns)]
    one += [f"x_{j} = xv[{j}]" for j in range(n)] + _fg(spec) + [f"gv[{j}] = g_{j}" for j in range(n)]
    if spec.path:
        one += [f"for j in range({n}):", "    path[0][i][j] = xv[j]", "losses[0][i] = f"]
    one += _check_rows(n) + ["nt = steps", "done = 0", "if (not good) | conv:", "    nt = 0", "    done = _sel(good, 1, 2)"]
    loop = _coefs(spec.n_coef) + (_newton_lines(spec) if spec.newton else _rows_update(spec))
    if spec.path:
        loop += [f"for j in range({n}):", "    path[t][i][j] = xv[j]", "losses[t][i] = f"]
    loop += _check_rows(n) + ["if (not good) | conv:", "    nt = t", "    done = _sel(good, 1, 2)", "    break"]
    one += ["if done == 0:", "    for t in range(1, steps + 1):"] + _indent(loop, 2)
    one += [f"for j in range({n}):", "    out_x[i][j] = xv[j]", "    out_g[i][j] = gv[j]",
            "out_f[i] = f", "out_nit[i] = nt", "out_code[i] = done"]
    return body + _indent(one, 1)




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
