"""The generated kernel: the source text of one fused loop over starts, steps and coordinates.

One function, ``kernel(X, S, coef, steps, k0, k1, tile, D, tol2, zmode, out_x, out_f, out_g, out_nit,
out_code, path, losses)``, runs the starts of tiles ``k0 .. k1-1`` (``tile`` starts each; a thread runs
a range of tiles). Per step: per coordinate ``x_j, s_j = update(x_j, g_j, s_j, c)`` with
``c = coef[t-1]``, then f and ∇f at the new point (straight-line code from the printer), then the
runner's tests: diverged when some ``|x_j| > D`` or x, f, ∇f is not finite, converged when
``Σ g_j² <= tol2`` (or, with ``zmode``, every ``g_j == 0``); a finished start keeps its x, f and ∇f and
its step goes to ``out_nit``. The NumPy runner's ``_loop`` is the reference for all of it.

Two layouts of the same computation:

- "tiles" (elementwise updates, n <= ``TILED_MAX``): a tile's starts live in per-coordinate arrays and
  the innermost loop walks the tile's starts, so numba vectorizes across starts; a finished start is
  computed and dropped (branch-free selects), and a tile stops when all its starts are done.
- "rows" (more variables, and Newton): one start at a time through all its steps, coordinates in
  small arrays, loops over coordinates; a start stops when it finishes. The generated code stays
  proportional to the printed gradient, so compiling scales with n.

Newton's form replaces the update by the Hessian (printed the same way), a per-start solve
(``symgd.optimizers._linalg.newton_direction``) and, for damping "armijo", backtracking on the
printed f.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from symgd.fused._printer import statements
from symgd.optimizers._linalg import ARMIJO_C, MAX_HALVINGS


class Parts(NamedTuple):
    """The printed symbolic pieces of one problem (independent of optimizer and backend)."""

    n: int
    fg: tuple[str, ...]  # f, g_0, ... from x_0, ...
    h: tuple[str, ...] | None  # h_i_j for the nonzero upper-triangle cells, from o_0, ... (Newton only)
    cells: tuple[tuple[int, int], ...] | None  # those cells (i <= j), in the order the NumPy kernel uses
    f_only: tuple[str, ...] | None  # ft from z_0, ... (Newton armijo only)


def parts(problem, hessian: bool = False) -> Parts:
    """Print f and ∇f (and the Hessian and f alone for Newton) as ``symgd.kernels`` groups them for ``cse``."""
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


def _indent(lines, depth: int) -> list[str]:
    return ["    " * depth + line for line in lines]


def _check(n: int) -> list[str]:
    """good (x in bounds, x, f, g finite) and conv (the gradient test) at x_j, f, g_j."""
    lines = ["chk = f - f", "inb = abs(x_0) <= D", "ss = g_0 * g_0", "az = g_0 == 0.0"]
    lines += [f"chk = chk + (g_{j} - g_{j}) + (x_{j} - x_{j})" for j in range(n)]
    for j in range(1, n):
        lines += [f"inb = inb & (abs(x_{j}) <= D)", f"ss = ss + g_{j} * g_{j}", f"az = az & (g_{j} == 0.0)"]
    return lines + ["good = inb & (chk == 0.0)", "conv = (ss <= tol2) | (zmode & az)"]


def _alloc(spec: Spec, integer: bool = False, size: str = "L") -> str:
    if spec.backend == "python":
        return f"[0] * {size}" if integer else f"[0.0] * {size}"
    return f"np.empty({size}, np.int64)" if integer else f"np.empty({size}, DT)"


def _rounded(spec: Spec, names) -> list[str]:
    """float32: round each new value to float32 at once, so the tests see what is stored."""
    return [f"{v} = DT({v})" for v in names] if spec.dtype == "float32" else []


def _fg(spec: Spec) -> list[str]:
    n = spec.parts.n
    return list(spec.parts.fg) + _rounded(spec, ["f", *(f"g_{j}" for j in range(n))])


def _update_lines(spec: Spec) -> list[str]:
    n, ns = spec.parts.n, spec.n_state
    lines = []
    for j in range(n):
        s = "(" + "".join(f"sa_{q}_{j}[i], " for q in range(ns)) + ")"
        lines.append(f"x_{j}, s_{j} = update(o_{j}, ga_{j}[i], {s}, c)")
    lines += _rounded(spec, [f"x_{j}" for j in range(n)]) + _fg(spec)
    lines += [f"sa_{q}_{j}[i] = s_{j}[{q}]" for j in range(n) for q in range(ns)]
    return lines


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


# More variables: the rows layout. Measured (Adam / GD on n-D Rosenbrock, numba, one thread): tiles are 3.6x / 2.9x
# faster than rows at n = 2, 1.2x / 2.8x at n = 3, no faster at n = 4 and 8, and compile 30-100 % longer.
TILED_MAX = 3


def layout(spec: Spec) -> str:
    """"tiles" or "rows" (see the module docstring)."""
    return "tiles" if spec.newton is None and spec.parts.n <= TILED_MAX else "rows"


def _head(spec: Spec) -> list[str]:
    n, ns, nc = spec.parts.n, spec.n_state, spec.n_coef
    return [f"# symgd.fused kernel ({layout(spec)}): n={n}, state={ns}, coef={nc}, newton={spec.newton}, "
            f"path={spec.path}, backend={spec.backend}, dtype={spec.dtype}",
            "# names bound at load: np, DT, _NAN, _sel, update, _newton_dir, _f_<function> (symgd.fused._scalar)",
            "def kernel(X, S, coef, steps, k0, k1, tile, D, tol2, zmode, out_x, out_f, out_g, out_nit, out_code, "
            "path, losses):",
            "    B = len(X)"]


def _coefs(nc: int) -> list[str]:
    return ["cr = coef[t - 1]", "c = (" + "".join(f"cr[{q}], " for q in range(nc)) + ")"]


def source(spec: Spec) -> str:
    """The kernel's Python source: the same loop for CPython and numba (numba's variant selects without
    branches where CPython skips finished starts, and allocates typed arrays where CPython uses lists)."""
    body = _tiles(spec) if layout(spec) == "tiles" else _rows(spec)
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
    first += ["fa[i] = f", "nt[i] = _sel(fin, 0, steps)", "al[i] = _sel(fin, 0, 1)", "nal += al[i]",
              "st[i] = _sel(fin, _sel(good, 1, 2), 0)"]
    if spec.path:
        first += [f"path[0][lo + i][{j}] = x_{j}" for j in range(n)] + ["losses[0][lo + i] = f"]
    body += _indent(first, 1)
    body += ["for t in range(1, steps + 1):", "    if nal == 0:", "        break", *_indent(_coefs(spec.n_coef), 1),
             "    nal = 0", "    for i in range(L):"]
    step = ["ok = al[i]"]
    if spec.backend == "python":
        step += ["if ok == 0:", "    continue"]  # numba computes finished starts too and drops the result
    step += [f"o_{j} = xa_{j}[i]" for j in range(n)] + _update_lines(spec) + _check(n)
    if spec.backend == "python":  # finished starts were skipped above: everything here is kept
        step += [f"xa_{j}[i] = x_{j}" for j in range(n)] + [f"ga_{j}[i] = g_{j}" for j in range(n)]
        step += ["fa[i] = f", "if (not good) | conv:", "    nt[i] = t", "    al[i] = 0", "    st[i] = 1 if good else 2",
                 "else:", "    nal += 1"]
    else:  # branch-free selects: the loop over the tile's starts vectorizes
        step += ["fin = (ok > 0) & ((not good) | conv)", "keep = ok > 0"]
        step += [f"xa_{j}[i] = _sel(keep, x_{j}, o_{j})" for j in range(n)]
        step += [f"ga_{j}[i] = _sel(keep, g_{j}, ga_{j}[i])" for j in range(n)]
        step += ["fa[i] = _sel(keep, f, fa[i])", "nt[i] = _sel(fin, t, nt[i])", "a2 = _sel(fin, 0, ok)", "al[i] = a2",
                 "nal += a2", "st[i] = _sel(fin, _sel(good, 1, 2), st[i])"]
    if spec.path:
        step += [f"path[t][lo + i][{j}] = xa_{j}[i]" for j in range(n)] + ["losses[t][lo + i] = fa[i]"]
    body += _indent(step, 2)
    out = [f"out_x[lo + i][{j}] = xa_{j}[i]" for j in range(n)] + [f"out_g[lo + i][{j}] = ga_{j}[i]" for j in range(n)]
    out += ["out_f[lo + i] = fa[i]", "out_nit[lo + i] = nt[i]", "out_code[lo + i] = st[i]"]
    body += ["for i in range(L):"] + _indent(out, 1)
    return ["for k in range(k0, k1):"] + _indent(body, 1)


def _check_rows(n: int) -> list[str]:
    """good and conv from f, xv and gv (one start), as ``_check``."""
    return ["chk = f - f", "inb = True", "ss = 0.0", "az = True", f"for j in range({n}):",
            "    xj = xv[j]", "    gj = gv[j]", "    chk = chk + (gj - gj) + (xj - xj)", "    inb = inb & (abs(xj) <= D)",
            "    ss = ss + gj * gj", "    az = az & (gj == 0.0)", "good = inb & (chk == 0.0)",
            "conv = (ss <= tol2) | (zmode & az)"]


def _rows(spec: Spec) -> list[str]:
    n, ns = spec.parts.n, spec.n_state
    body = [f"xv = {_alloc(spec, size=str(n))}", f"gv = {_alloc(spec, size=str(n))}",
            f"sv = {_alloc(spec, size=str(max(1, ns * n)))}"]
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
    loop = _coefs(spec.n_coef)
    if spec.newton:
        loop += _newton_lines(spec)
    else:
        s = "(" + "".join(f"sv[{q * n} + j], " for q in range(ns)) + ")"
        loop += [f"for j in range({n}):", f"    y, s = update(xv[j], gv[j], {s}, c)"]
        loop += ["    xv[j] = DT(y)" if spec.dtype == "float32" else "    xv[j] = y"]
        loop += [f"    sv[{q * n} + j] = s[{q}]" for q in range(ns)]
        loop += [f"x_{j} = xv[{j}]" for j in range(n)] + _fg(spec) + [f"gv[{j}] = g_{j}" for j in range(n)]
    if spec.path:
        loop += [f"for j in range({n}):", "    path[t][i][j] = xv[j]", "losses[t][i] = f"]
    loop += _check_rows(n) + ["if (not good) | conv:", "    nt = t", "    done = _sel(good, 1, 2)", "    break"]
    one += ["if done == 0:", "    for t in range(1, steps + 1):"] + _indent(loop, 2)
    one += [f"for j in range({n}):", "    out_x[i][j] = xv[j]", "    out_g[i][j] = gv[j]",
            "out_f[i] = f", "out_nit[i] = nt", "out_code[i] = done"]
    return body + _indent(one, 1)


def tile_size(spec: Spec) -> int:
    """Starts per tile: "tiles" fill about 32 KiB (L1) with the tile's arrays, 64..1024 starts; "rows" 64."""
    if layout(spec) == "rows":
        return 64
    per_start = 8 * (spec.parts.n * (2 + spec.n_state) + 3)
    return int(np.clip(32768 // per_start // 64 * 64, 64, 1024))
