"""The "tiles" layout (elementwise updates, n <= ``_generate.TILED_MAX``): a tile's starts, one array per coordinate.

A tile's starts live in per-coordinate arrays (``xa_j[i]``, ``ga_j[i]``, ``sa_q_j[i]``) and the innermost
loop walks the tile's starts, so numba vectorizes across starts; the update is unrolled per coordinate;
a finished start is computed and dropped (branch-free selects), and a tile stops when all its starts are
done. CPython skips finished starts instead.

Measured (``benchmarks/bench_layouts.py``, as the table in ``_layout_grid``): n = 2: "tiles" 7.6e8 GD,
3.2e8 Adam against the grid's 6.8e8, 2.6e8; n = 3: "tiles" 5.1e8 GD, 4.3e7 Adam (not vectorized), grid
4.1e8, 1.7e8: so TILED_MAX = 2. float32 (one thread): Rosenbrock 2-D GD 1.35e9 against 7.7e8 in float64,
Adam 4.4e8 against 2.9e8.
"""

from __future__ import annotations

from symgd.fused import _generate as gen
from symgd.fused._generate import Spec


def kernel_body(spec: Spec) -> list[str]:
    """The kernel's body: for each tile k0 .. k1-1, load its starts (the first call: from X, with f, ∇f and the
    step-0 tests; a later call: as the call before left them), run the steps, store the starts back."""
    n, ns = spec.parts.n, spec.n_state
    body = ["lo = k * tile", "L = min(B, lo + tile) - lo"]
    arrays = [f"xa_{j}" for j in range(n)] + [f"ga_{j}" for j in range(n)] + ["fa"]
    arrays += [f"sa_{q}_{j}" for q in range(ns) for j in range(n)]
    body += [f"{a} = {gen.alloc(spec)}" for a in arrays]
    body += [f"al = {gen.alloc(spec, True)}", f"nt = {gen.alloc(spec, True)}", f"st = {gen.alloc(spec, True)}"]
    body += ["nal = 0", "for i in range(L):"]
    load = [f"sa_{q}_{j}[i] = S[{q}][lo + i][{j}]" for q in range(ns) for j in range(n)]
    first = [f"x_{j} = X[lo + i][{j}]" for j in range(n)]
    first += gen.f_and_grad(spec) + gen.check(n) + ["fin = (not good) | conv"]
    first += [f"xa_{j}[i] = x_{j}" for j in range(n)] + [f"ga_{j}[i] = g_{j}" for j in range(n)]
    first += _first_flags()
    if spec.path:
        first += [f"path[0][lo + i][{j}] = x_{j}" for j in range(n)] + ["losses[0][lo + i] = f"]
    later = [f"xa_{j}[i] = {gen.read(spec, f'out_x[lo + i][{j}]')}" for j in range(n)]
    later += [f"ga_{j}[i] = {gen.read(spec, f'out_g[lo + i][{j}]')}" for j in range(n)]
    later += [f"fa[i] = {gen.read(spec, 'out_f[lo + i]')}"] + gen.resume_flags(gen.read(spec, "out_code[lo + i]", True))
    load += ["if t0 == 0:", *gen.indent(first, 1), "else:", *gen.indent(later + ["nal += al[i]"], 1)]
    body += gen.indent(load, 1)
    body += ["for t in range(1, steps + 1):", "    if nal == 0:", "        break"]
    body += gen.indent(gen.coef_lines(spec.n_coef), 1) + ["    nal = 0", "    for i in range(L):"]
    step = ["ok = al[i]"]
    if spec.backend == "python":
        step += ["if ok == 0:", "    continue"]  # numba computes finished starts too and drops the result
    step += [f"o_{j} = xa_{j}[i]" for j in range(n)] + _update_lines(spec) + gen.check(n)
    step += _keep(spec, [(f"xa_{j}[i]", f"x_{j}", f"o_{j}") for j in range(n)]
                  + [(f"ga_{j}[i]", f"g_{j}", f"ga_{j}[i]") for j in range(n)])
    if spec.path:
        step += [f"path[t][lo + i][{j}] = xa_{j}[i]" for j in range(n)] + ["losses[t][lo + i] = fa[i]"]
    body += gen.indent(step, 2) + gen.indent(_count(spec), 1)
    out = [f"out_x[lo + i][{j}] = xa_{j}[i]" for j in range(n)] + [f"out_g[lo + i][{j}] = ga_{j}[i]" for j in range(n)]
    out += [f"S[{q}][lo + i][{j}] = sa_{q}_{j}[i]" for q in range(ns) for j in range(n)]
    body += ["for i in range(L):"] + gen.indent(out + gen.out_flags(spec), 1)
    return ["for k in range(k0, k1):"] + gen.indent(body, 1)


def _update_lines(spec: Spec) -> list[str]:
    """One step of start i: from o_j (its x) and ga_j (its ∇f) to the new x_j, f, g_j; the state stored."""
    n, ns = spec.parts.n, spec.n_state
    lines, g = [], "ga_{j}[i]"
    if spec.point is not None:
        lines += [f"z_{j} = point(o_{j}, {gen.state_tuple(spec, lambda q: f'sa_{q}_{j}[i]')}, c)" for j in range(n)]
        lines += gen.rounded(spec, [f"z_{j}" for j in range(n)]) + gen.lookahead(spec)
        g = "q_{j}"
    if spec.rows:
        lines += [gen.row_read(spec, "lo + i")] + [f"acc_{q} = 0.0" for q in range(spec.sums)]
    for j in range(n):
        state = gen.state_tuple(spec, lambda q: f'sa_{q}_{j}[i]')
        if spec.rows:
            lines.append(f"x_{j}, s_{j}, d_{j} = update(o_{j}, {g.format(j=j)}, {state}, r, c)")
            lines += [f"acc_{q} = acc_{q} + d_{j}[{q}]" for q in range(spec.sums)]
        else:
            lines.append(f"x_{j}, s_{j} = update(o_{j}, {g.format(j=j)}, {state}, c)")
    if spec.rows:
        lines += gen.row_finish(spec, "lo + i", [f"acc_{q}" for q in range(spec.sums)])
    lines += gen.rounded(spec, [f"x_{j}" for j in range(n)]) + gen.f_and_grad(spec)
    lines += [f"sa_{q}_{j}[i] = s_{j}[{q}]" for j in range(n) for q in range(ns)]
    return lines


def _first_flags() -> list[str]:
    """Step 0 of start i: its f and flags (done at once when the start point fails the tests)."""
    return ["fa[i] = f", "nt[i] = _sel(fin, 0, steps)", "al[i] = _sel(fin, 0, 1)", "nal += al[i]",
            "st[i] = _sel(fin, _sel(good, 1, 2), 0)"]


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

