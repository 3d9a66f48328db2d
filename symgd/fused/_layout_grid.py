"""The "grid" layout (elementwise updates, n > ``_generate.TILED_MAX``): a tile's starts in (coordinate, start) arrays.

A tile's starts live in ``xa[j, i]``, ``ga[j, i]``, ``sa[q, j, i]`` whose last axis has the constant length
``TW`` (rows a known distance apart: without it LLVM cannot prove that ``xa[0, i]`` and ``xa[1, i']`` differ,
and vectorizes nothing). Per step: a loop over coordinates (``nj``, not unrolled) around a loop over the
tile's starts applying the update to running starts; one loop over the starts with the printed f and ∇f;
the tests (unrolled into that loop up to ``INLINE_TESTS_MAX`` variables, else loops over coordinates
summing into per-start arrays); then the flags. Step 0 (in a run's first call) is the same loop without
the update, so f and ∇f are printed once: the source is the printed gradient plus O(1) lines (O(n) below
``INLINE_TESTS_MAX``).

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
Adam against the grid's 2.3e8, 1.9e8, 8.8e7 there (``_layout_tiles`` has n = 2 and 3 against "tiles").
Tile size (GRID_BYTES 8 to 256 KiB): flat within noise up to 32 KiB, 20-35 % slower for GD at 128 KiB.
float32 (one thread): Styblinski-Tang 10-D GD 1.35e8 / 1.26e8 and Adam 8e7 / 4.8e7 over 600 steps (but
1.3e7 over 2000 steps from U(-5, 5): not understood; m, v and g stay normal floats).
"""

from __future__ import annotations

from symgd.fused import _generate as gen
from symgd.fused._generate import Spec

INLINE_TESTS_MAX = 16  # up to this n the tests are unrolled into the loop of f and ∇f


def kernel_body(spec: Spec) -> list[str]:
    """Tiles of starts in (coordinate, start) arrays. Per step: a loop over coordinates around the update (not
    unrolled: ``nj`` is no constant to LLVM) that moves only running starts, one loop over the tile's starts
    with the printed f and ∇f, the tests as loops over coordinates into per-start sums, then the flags. A
    finished start stays where it is, so f and ∇f evaluated there again are its own. Step 0 (the first call
    only) is the same without the update: f and ∇f are printed once."""
    n, ns = spec.parts.n, spec.n_state
    at = lambda name, *ix: gen.at(spec, name, *ix)  # noqa: E731
    body = ["lo = k * tile", "L = min(B, lo + tile) - lo", "nj = len(X[lo])"]
    body += [f"{a} = {_alloc_grid(spec, n)}" for a in ("xa", "ga")]
    body += [f"sa = {_alloc_grid(spec, ns, n)}"] if ns else []
    body += [f"za = {_alloc_grid(spec, n)}", f"qa = {_alloc_grid(spec, n)}"] if spec.point is not None else []
    body += [f"ac = {_alloc_grid(spec, max(1, spec.sums))}"] if spec.rows else []
    body += [f"{a} = {gen.alloc(spec)}" for a in ("fa", "ck", "ss", "am")]
    body += [f"{a} = {gen.alloc(spec, True)}" for a in ("al", "nt", "st")]
    body += _load(spec, at)
    body += ["for t in range(t1, steps + 1):", "    if nal == 0:", "        break", "    t32 = np.int32(t)"]
    skip = ["if al[i] == 0:", "    continue"] if spec.backend == "python" else []  # CPython: only running starts
    state = gen.state_tuple(spec, lambda q: at("sa", q, "j", "i"))
    loop, g = gen.coef_lines(spec.n_coef)[1:], at("ga", "j", "i")  # (t32 is set above)
    if spec.point is not None:
        loop += ["for j in range(nj):", "    for i in range(L):"]
        loop += gen.indent(skip + [f"{at('za', 'j', 'i')} = point({at('xa', 'j', 'i')}, {state}, c)"], 2)
        look = [f"z_{j} = {at('za', j, 'i')}" for j in range(n)] + gen.lookahead(spec)
        loop += ["for i in range(L):"] + gen.indent(skip + look + [f"{at('qa', j, 'i')} = q_{j}" for j in range(n)], 1)
        g = at("qa", "j", "i")
    if spec.rows:
        loop += ["for i in range(L):"] + gen.indent([f"{at('ac', q, 'i')} = 0.0" for q in range(spec.sums)], 1)
        upd = [gen.row_read(spec, "lo + i"), f"y, s, d = update({at('xa', 'j', 'i')}, {g}, {state}, r, c)"]
    else:
        upd = [f"y, s = update({at('xa', 'j', 'i')}, {g}, {state}, c)"]
    upd += [f"{at('xa', 'j', 'i')} = y"] if skip else [f"{at('xa', 'j', 'i')} = _sel(al[i] > 0, y, {at('xa', 'j', 'i')})"]
    upd += [f"{at('sa', q, 'j', 'i')} = s[{q}]" for q in range(ns)]
    upd += [f"{at('ac', q, 'i')} = {at('ac', q, 'i')} + d[{q}]" for q in range(spec.sums)] if spec.rows else []
    loop += ["for j in range(nj):", "    for i in range(L):"] + gen.indent(skip + upd, 2)
    if spec.rows:
        fin = [gen.row_read(spec, "lo + i")] + gen.row_finish(spec, "lo + i", [at("ac", q, "i") for q in range(spec.sums)])
        loop += ["for i in range(L):"] + gen.indent(skip + fin, 1)
    body += ["    if t > 0:"] + gen.indent(loop, 2) + gen.indent(_grid_tests(spec, skip), 1)
    out = ["for j in range(nj):", f"    {at('out_x', 'lo + i', 'j')} = {at('xa', 'j', 'i')}",
           f"    {at('out_g', 'lo + i', 'j')} = {at('ga', 'j', 'i')}"]
    out += [f"    {at('S', q, 'lo + i', 'j')} = {at('sa', q, 'j', 'i')}" for q in range(ns)]
    body += ["for i in range(L):"] + gen.indent(out + gen.out_flags(spec), 1)
    guard = [f"TW = {gen.tile_size(spec)}", "if tile > TW:"]
    guard += ["    raise ValueError('tile is larger than the kernel\\'s tiles')"]
    guard += ["t1 = _sel(t0 == 0, 0, 1)"]  # a later call starts at step 1: step 0's f, ∇f and tests are done
    return guard + ["for k in range(k0, k1):"] + gen.indent(body, 1)


def _load(spec: Spec, at) -> list[str]:
    """A tile's starts into its arrays: the first call from X (all running), a later call as the call before
    left them (x, ∇f, f and status from the outputs); the state from S. Then ``nal``, the running starts."""
    ns = spec.n_state
    load = ["for j in range(nj):"] + [f"    {at('sa', q, 'j', 'i')} = {at('S', q, 'lo + i', 'j')}" for q in range(ns)]
    load = load if ns else []
    first = ["for j in range(nj):", f"    {at('xa', 'j', 'i')} = {at('X', 'lo + i', 'j')}"]
    first += ["al[i] = 1", "nt[i] = steps", "st[i] = 0"]
    later = ["for j in range(nj):", f"    {at('xa', 'j', 'i')} = {gen.read(spec, at('out_x', 'lo + i', 'j'))}",
             f"    {at('ga', 'j', 'i')} = {gen.read(spec, at('out_g', 'lo + i', 'j'))}"]
    later += [f"fa[i] = {gen.read(spec, 'out_f[lo + i]')}"] + gen.resume_flags(gen.read(spec, "out_code[lo + i]", True))
    load += ["if t0 == 0:", *gen.indent(first, 1), "else:", *gen.indent(later, 1), "nal += al[i]"]
    return ["nal = 0", "for i in range(L):"] + gen.indent(load, 1)


def _grid_tests(spec: Spec, skip: list[str]) -> list[str]:
    """f and ∇f at xa (into fa, ga), then the runner's tests as ``_generate.check``'s, summed over coordinates per start:
    ck is 0 while x is in bounds and x, f, ∇f are finite (nan otherwise), ss is Σ g_j², am is Σ |g_j|
    (0 exactly when every g_j is 0); then the flags of the starts that ran this step."""
    n, at = spec.parts.n, lambda name, *ix: gen.at(spec, name, *ix)  # noqa: E731
    fg = [f"x_{j} = {at('xa', j, 'i')}" for j in range(n)] + gen.f_and_grad(spec)
    fg += [f"{at('ga', j, 'i')} = g_{j}" for j in range(n)]
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
        lines = ["nal = 0", "for i in range(L):"] + gen.indent(skip + fg[:-3] + sums + flags + ["nal += al[i]"], 1)
        return lines + _grid_path(spec, "t")
    lines = ["for i in range(L):"] + gen.indent(skip + fg, 1)
    lines += ["for j in range(nj):", "    for i in range(L):"] + gen.indent(skip + test, 2)
    lines += ["nal = 0", "for i in range(L):"] + gen.indent(skip + flags + ["nal += al[i]"], 1)
    return lines + _grid_path(spec, "t")


def _grid_path(spec: Spec, t: str) -> list[str]:
    if not spec.path:
        return []
    n, at = spec.parts.n, lambda name, *ix: gen.at(spec, name, *ix)  # noqa: E731
    return ["for i in range(L):", "    for j in range(nj):",
            f"        {at('path', t, 'lo + i', 'j')} = {at('xa', 'j', 'i')}", f"    {at('losses', t, 'lo + i')} = fa[i]"]


def _alloc_grid(spec: Spec, *dims: int) -> str:
    """A (dims..., TW) float array: nested lists for CPython, one C array for numba. The last axis is the
    constant TW (not L): rows a known distance apart are what lets LLVM vectorize the loops over starts."""
    if spec.backend == "numba":
        return f"np.empty(({''.join(f'{d}, ' for d in dims)}TW), DT)"
    out = "[0.0] * TW"
    for d in reversed(dims):
        out = f"[{out} for _ in range({d})]"
    return out

