"""The "rows" layout (Newton, and n > ``_generate.GRID_MAX``): one start at a time through all its steps.

A start's coordinates live in small arrays (``xv``, ``gv``, ``sv``), the update and the tests are loops over
coordinates, and a start stops when it finishes. Newton's form replaces the update by the Hessian
(printed the same way), a per-start solve (``symgd.optimizers._linalg.newton_direction``) and, for
damping "armijo", backtracking on the printed f. ``_layout_grid`` has the measured table of "rows"
against "grid" for elementwise updates: "grid" won for every n up to 200, hence ``GRID_MAX = 10**9``.
"""

from __future__ import annotations

from symgd.fused import _generate as gen
from symgd.fused._generate import Spec
from symgd.optimizers._linalg import ARMIJO_C, MAX_HALVINGS


def kernel_body(spec: Spec) -> list[str]:
    """The kernel's body: for each start of tiles k0 .. k1-1, the first call's step 0 (f, ∇f, the tests) or, in a
    later call, the start as the call before left it (skipped if it has finished); then its steps."""
    n, ns = spec.parts.n, spec.n_state
    body = [f"xv = {gen.alloc(spec, size=str(n))}", f"gv = {gen.alloc(spec, size=str(n))}",
            f"sv = {gen.alloc(spec, size=str(max(1, ns * n)))}"]
    body += [f"zv = {gen.alloc(spec, size=str(n))}"] if spec.point is not None else []
    if spec.newton:
        body += [f"hb = {gen.alloc(spec, size=str(n * n))}", f"db = {gen.alloc(spec, size=str(n))}",
                 f"wb = {gen.alloc(spec, size=str(3 * n * n + 2 * n))}"]
    body += ["for i in range(k0 * tile, min(B, k1 * tile)):"]
    first = [f"for j in range({n}):", "    xv[j] = X[i][j]"]
    first += [f"    sv[{q * n} + j] = S[{q}][i][j]" for q in range(ns)]
    first += [f"x_{j} = xv[{j}]" for j in range(n)] + gen.f_and_grad(spec) + [f"gv[{j}] = g_{j}" for j in range(n)]
    if spec.path:
        first += [f"for j in range({n}):", "    path[0][i][j] = xv[j]", "losses[0][i] = f"]
    first += _check_rows(n) + ["nt = steps", "done = 0", "if (not good) | conv:", "    nt = 0",
                               "    done = _sel(good, 1, 2)"]
    later = [f"done = {gen.read(spec, 'out_code[i]', True)}", "if done != 0:", "    continue"]  # finished before
    later += [f"for j in range({n}):", f"    xv[j] = {gen.read(spec, 'out_x[i][j]')}",
              f"    gv[j] = {gen.read(spec, 'out_g[i][j]')}"] + [f"    sv[{q * n} + j] = S[{q}][i][j]" for q in range(ns)]
    later += [f"f = {gen.read(spec, 'out_f[i]')}", "nt = steps"]
    one = ["if t0 == 0:", *gen.indent(first, 1), "else:", *gen.indent(later, 1)]
    loop = gen.coef_lines(spec.n_coef) + (_newton_lines(spec) if spec.newton else _rows_update(spec))
    if spec.path:
        loop += [f"for j in range({n}):", "    path[t][i][j] = xv[j]", "losses[t][i] = f"]
    loop += _check_rows(n) + ["if (not good) | conv:", "    nt = t", "    done = _sel(good, 1, 2)", "    break"]
    one += ["if done == 0:", "    for t in range(1, steps + 1):"] + gen.indent(loop, 2)
    one += [f"for j in range({n}):", "    out_x[i][j] = xv[j]", "    out_g[i][j] = gv[j]"]
    one += [f"    S[{q}][i][j] = sv[{q * n} + j]" for q in range(ns)]
    one += ["out_f[i] = f", "out_nit[i] = t0 + nt", "out_code[i] = done"]
    return body + gen.indent(one, 1)


def _check_rows(n: int) -> list[str]:
    """good and conv from f, xv and gv (one start), as ``_generate.check``."""
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
        lines += [f"z_{j} = zv[{j}]" for j in range(n)] + gen.lookahead(spec) + [f"zv[{j}] = q_{j}" for j in range(n)]
        g = "zv[j]"
    if spec.rows:
        lines += [gen.row_read(spec, "i")] + [f"acc_{q} = 0.0" for q in range(spec.sums)]
        lines += [f"for j in range({n}):", f"    y, s, d = update(xv[j], {g}, {s}, r, c)"]
        lines += [f"    acc_{q} = acc_{q} + d[{q}]" for q in range(spec.sums)]
    else:
        lines += [f"for j in range({n}):", f"    y, s = update(xv[j], {g}, {s}, c)"]
    lines += ["    xv[j] = DT(y)" if spec.dtype == "float32" else "    xv[j] = y"]
    lines += [f"    sv[{q * n} + j] = s[{q}]" for q in range(ns)]
    if spec.rows:
        lines += gen.row_finish(spec, "i", [f"acc_{q}" for q in range(spec.sums)])
    return lines + [f"x_{j} = xv[{j}]" for j in range(n)] + gen.f_and_grad(spec) + [f"gv[{j}] = g_{j}" for j in range(n)]


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
        lines += gen.indent(body, 2)
        lines += [f"x_{j} = o_{j} + a * d_{j}" for j in range(n)]
    lines += gen.rounded(spec, [f"x_{j}" for j in range(n)]) + gen.f_and_grad(spec)
    return lines + [f"xv[{j}] = x_{j}" for j in range(n)] + [f"gv[{j}] = g_{j}" for j in range(n)]


