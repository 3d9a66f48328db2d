"""Every critical point of f, found and classified exactly where possible, honestly everywhere.

``critical_points(problem)`` solves ∇f = 0 by three routes, in order, each in a worker process that is
killed when its time budget runs out (``symgd.budget``):

1. ``polynomial``: exact and complete real solutions of polynomial gradients (``CRootOf`` where radicals
   do not exist; positive-dimensional sets as families);
2. ``transcendental``: exact routes for non-polynomial gradients (``solveset``, ``LambertW``, substitution
   of repeated subterms such as exp(x + y); periodic solutions as families with integer parameters);
3. ``numeric``: certified interval-Newton search in a box (default [-10, 10]^n; then ``complete`` is False,
   since outside the box was not searched), points polished to 50 digits, ``exact`` False.

Then points where f or its gradient is undefined or not real are dropped (with a note), and each point
is classified (``symgd.critical.classify``): minimum, maximum, saddle or degenerate, with a reason.

>>> import sympy as sp
>>> import symgd as sg
>>> x = sp.Symbol("x", real=True)
>>> cps = critical_points(sg.Problem(x**2 - 10*x + 1))
>>> cps
CriticalPoints: 1 point; complete, exact (method: ...)
  minimum  x = 5  f = -24
>>> cps[0].reason
"f''(5) = 2 > 0"
"""

from __future__ import annotations

import math
import time

import sympy as sp
from sympy.core.sympify import _sympify  # strict: refuses strings, never parses text

from symgd.budget import DEFAULT_MEMORY_GIB, run_with_budget
from symgd.critical._domain import describe_point, undefined_reason
from symgd.critical._result import CriticalPoint, CriticalPoints, Kind
from symgd.critical._signs import interval, reduce_single_root, tidy
from symgd.critical._types import Family, RawSolution
from symgd.critical.classify import Classification, classify, classify_family
from symgd.errors import BudgetError, InputError
from symgd.problem import Problem

__all__ = ["CriticalPoint", "CriticalPoints", "Family", "Kind", "RawSolution", "critical_points"]

DEFAULT_BOX = (-10.0, 10.0)
ROUTES = ("polynomial", "transcendental", "numeric")


def _route(name, eqs, xs, box, deadline):
    """Run one solver route (inside the worker process); import lazily so a missing route is a note."""
    if name == "polynomial":
        from symgd.critical.polynomial import solve_polynomial

        return solve_polynomial(eqs, xs, deadline=deadline)
    if name == "transcendental":
        from symgd.critical.transcendental import solve_exact

        return solve_exact(eqs, xs, deadline=deadline, box=box)
    from symgd.critical.numeric import solve_box

    return solve_box(eqs, xs, box, deadline=deadline)


def _check_memory(memory) -> float | None:
    if memory is not None and (isinstance(memory, bool) or not isinstance(memory, (int, float))
                               or not 0 < memory < math.inf):
        raise InputError(f"memory must be a positive number of GiB or None (no cap), got {memory!r}")
    return None if memory is None else float(memory)


def _check_timeout(timeout) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0 \
            or not math.isfinite(timeout):
        raise InputError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return float(timeout)


def _normalize_box(box, xs) -> dict | None:
    """{Symbol or name: (lo, hi)} -> {Symbol: (float, float)} for every variable (defaults filled in)."""
    if box is None:
        return None
    if not isinstance(box, dict):
        raise InputError(f"box must be a dict {{variable: (lo, hi)}}, got {type(box).__name__}")
    by_name = {v.name: v for v in xs}
    out = {}
    for key, rng in box.items():
        name = key.name if isinstance(key, sp.Symbol) else key
        if name not in by_name:
            raise InputError(f"box names {key!r}, which is not a variable ({', '.join(by_name)})")
        try:
            lo, hi = (float(sp.N(b)) for b in rng)
        except (TypeError, ValueError):
            raise InputError(f"box for {name} must be a pair of numbers (lo, hi), got {rng!r}") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise InputError(f"box for {name} needs finite lo < hi, got ({lo:g}, {hi:g})")
        out[by_name[name]] = (lo, hi)
    return {v: out.get(v, DEFAULT_BOX) for v in xs}


def _box_text(box) -> str:
    return ", ".join(f"{v} in [{lo:g}, {hi:g}]" for v, (lo, hi) in box.items())


def _zero_set_core(e):
    """``e`` without rational factors and with powers ``b**k`` (k a positive integer) replaced by ``b``:
    the same zero set, everywhere (also where e is undefined), found without expanding anything.

    ``1000*(x + 1)**999`` becomes ``x + 1``: a degree-1 equation instead of a degree-999 polynomial whose
    999-fold root no interval method can certify.
    """
    if e.is_Pow and e.exp.is_Integer and e.exp > 0:
        return _zero_set_core(e.base)
    if e.is_Mul:
        return sp.Mul(*[_zero_set_core(a) for a in e.args if not (a.is_Rational and a != 0)])
    return e


def _over_budget(name, exc, timeout, skipped, notes) -> None:
    """Record a route killed by its budget: over time, or out of memory (the BudgetError says which)."""
    if "memory cap" in str(exc):
        skipped.append(f"{name} route out of memory")
        cap = str(exc).split("ran out of ", 1)[-1]
        notes.append(f"the {name} route ran out of {cap}; fell back to the next route")
    else:
        skipped.append(f"{name} route over budget")
        notes.append(f"the {name} route gave up after {timeout:g} s (its time budget); fell back to the next route")


def _global(eqs, xs, search_box, timeout, memory) -> bool:
    """Interval proof that no root lies outside the default box (False when it fails or runs out of budget)."""
    from symgd.critical.numeric import exclude_outside

    try:
        return run_with_budget(exclude_outside, eqs, xs, search_box, deadline=time.monotonic() + timeout,
                               seconds=1.25 * timeout + 0.5, memory=memory)
    except BudgetError:
        return False


def _solve(eqs, xs, box, timeout, memory):
    """Try the routes in order; return (candidates, skipped, notes)."""
    candidates, skipped, notes = [], [], []
    eqs = [_zero_set_core(e) for e in eqs]
    for name in ROUTES:
        search_box = box
        if name == "numeric" and box is None:
            search_box = {v: DEFAULT_BOX for v in xs}
        seconds = timeout if name != "numeric" else 1.25 * timeout + 0.5  # numeric stops itself at the deadline
        try:
            raw = run_with_budget(_route, name, eqs, xs, search_box, time.monotonic() + timeout, seconds=seconds,
                                  memory=memory)
        except BudgetError as exc:
            _over_budget(name, exc, timeout, skipped, notes)
            continue
        except ImportError as exc:
            skipped.append(f"{name} route unavailable")
            notes.append(f"the {name} route is not available ({exc})")
            continue
        except Exception as exc:  # noqa: BLE001 - a failing route must not hide the others' answers
            skipped.append(f"{name} route failed")
            notes.append(f"the {name} route failed ({type(exc).__name__}: {exc}); fell back to the next route")
            continue
        if raw is None:
            continue
        if name == "numeric" and box is None:
            if raw.complete and _global(eqs, xs, search_box, timeout, memory):
                notes.append(f"no critical point outside {_box_text(search_box)} (interval proof): the search is global")
            else:
                raw.complete = False
                notes.append(f"numeric search only in the default box {_box_text(search_box)}; "
                             "points outside it were not searched")
        elif name == "numeric" and raw.complete:
            notes.append(f"complete within the box {_box_text(search_box)}")
        candidates.append(raw)
        if raw.complete:
            break
    return candidates, skipped, notes


def _close(p, q) -> bool:
    return all(abs(complex(sp.N(p[v] - q[v], 30))) <= 1e-9 * (1 + abs(complex(sp.N(p[v], 20)))) for v in p)


def _has_float(point) -> bool:
    return any(_sympify(c).has(sp.Float) for c in point.values())


def _merge(candidates):
    """Points [(point, method, exact)], families, complete, method from the routes' answers.

    Exact points first; a numeric point within 1e-9 of one already kept is a duplicate.
    """
    if not candidates:
        return [], [], False, "none"
    points, families = [], []
    for raw in sorted(candidates, key=lambda r: not r.exact):
        for p in raw.points:
            if not any(_close(p, q) for q, _, _ in points):
                points.append((p, raw.method, raw.exact and not _has_float(p)))
        families += [f for f in raw.families if f.description not in {g.description for g in families}]
    method = " + ".join(dict.fromkeys(r.method for r in candidates))
    return points, families, candidates[-1].complete, method


def _in_box(point, box) -> bool:
    for v, (lo, hi) in box.items():
        c = complex(sp.N(point[v], 20))
        if not lo - 1e-12 <= c.real <= hi + 1e-12:
            return False
    return True


def _value(f, point, exact: bool):
    """f(p): exact (reduced modulo a single CRootOf's polynomial when possible) or a 50-digit Float."""
    value = tidy(f.xreplace(point))
    if not exact:
        return sp.N(value, 50)
    if value.has(sp.CRootOf):
        reduced = reduce_single_root(value)
        return reduced if reduced is not None else value
    return value


def _residual_ok(grad, point, exact: bool) -> bool:
    """A guard against a route returning a non-solution: for exact points, a rigorous enclosure of
    every gradient component contains 0 (30 digits; CRootOf intervals refined and cached for the
    classification); for numeric points, |component| <= 1e-12 relative to the size of its terms."""
    for g in grad:
        r = g.xreplace(point)
        if r == 0:
            continue
        box = interval(r, 30) if exact else None
        if box is not None:
            if not box.a <= 0 <= box.b:
                return False
            continue
        terms = r.args if r.is_Add else (r,)
        scale = 1 + sum(abs(complex(sp.N(t, 15))) for t in terms)
        if not abs(complex(sp.N(r, 40))) <= (1e-25 if exact else 1e-12) * scale:
            return False
    return True


def _numeric_domain(f, grad, point) -> str | None:
    """Numeric fallback of the domain check: f and ∇f finite and real at 30 digits."""
    for e in (f, *grad):
        v = complex(sp.N(e.xreplace(point), 30))
        if not (math.isfinite(v.real) and abs(v.imag) <= 1e-20 * (1 + abs(v.real))):
            return f"{sp.sstr(e)} is not a finite real number there (numeric check)"
    return None


def _analyze(f, xs, grad, H, points, families, numeric_only=False):
    """Domain check, residual check, value and classification of every point (runs under a budget)."""
    kept, notes = [], []
    for point, method, exact in points:
        point = {v: _sympify(point[v]) for v in xs}
        why = _numeric_domain(f, grad, point) if numeric_only else undefined_reason([f, *grad], point)
        if why:
            notes.append(f"dropped {describe_point(point)}: {why}")
            continue
        if not _residual_ok(grad, point, exact):
            notes.append(f"dropped {describe_point(point)}: the gradient does not vanish there (route error)")
            continue
        try:
            c = classify(f, xs, H, point, exact_point=exact and not numeric_only)
        except Exception as exc:  # noqa: BLE001 - an unclassifiable point is still a critical point
            c = Classification(Kind.DEGENERATE, False, f"not classified ({type(exc).__name__}: {exc})",
                               (math.nan,) * len(xs))
        value = _value(f, point, exact)
        kept.append(CriticalPoint(point, value, c.kind, exact and c.exact, c.eigenvalues, method, c.reason))
    fams = []
    for fam in families:
        kind = fam.kind
        if not numeric_only:
            try:
                kind, note = classify_family(f, xs, H, fam)
            except Exception as exc:  # noqa: BLE001 - keep the route's kind, say why
                note = f"family {fam.description}: not classified ({type(exc).__name__}: {exc})"
            if note:
                notes.append(note)
        fams.append(Family(fam.description, fam.parametrization, fam.parameters, kind))
    return kept, fams, notes


def _finish(f, xs, grad, H, candidates, box, numeric_only=False):
    """Merge the routes' answers, keep those in ``box``, check and classify them, sorted (runs under a budget;
    the sort computes ``point_float`` here, so the parent gets it with the pickled points)."""
    points, families, complete, method = _merge(candidates)
    notes = []
    if box is not None:
        inside = [p for p in points if _in_box(p[0], box)]
        if len(inside) < len(points):
            notes.append(f"{len(points) - len(inside)} critical point(s) outside the box were left out")
        points = inside
    kept, families, more = _analyze(f, xs, grad, H, points, families, numeric_only=numeric_only)
    kept.sort(key=lambda p: tuple(p.point_float[v] for v in xs))
    return kept, families, complete, method, notes + more


def _finish_under_budget(args, timeout, memory):
    """``_finish`` exactly, else numerically, else a "gave up" answer without points (complete False)."""
    try:
        return run_with_budget(_finish, *args, seconds=timeout, memory=memory)
    except BudgetError as exc:
        why = f"gave up after {timeout:g} s" if "memory cap" not in str(exc) else str(exc).split(": ", 1)[-1]
        first = f"exact classification {why}: kinds decided numerically"
    try:
        kept, families, complete, method, notes = run_with_budget(_finish, *args, numeric_only=True,
                                                                  seconds=timeout, memory=memory)
        return kept, families, complete, method, [first, *notes]
    except BudgetError:
        *_, candidates, _ = args
        found = sum(len(r.points) for r in candidates)
        return [], [], False, " + ".join(dict.fromkeys(r.method for r in candidates)) or "none", [
            first, f"gave up after {timeout:g} s checking and classifying the {found} point(s) the routes found "
            "(numerically too): none is listed"]


def critical_points(problem, *, box=None, timeout: float = 5.0,
                    memory: float | None = DEFAULT_MEMORY_GIB) -> CriticalPoints:
    """Every critical point of ``problem`` (∇f = 0), classified; exact where an exact answer exists.

    Parameters
    ----------
    problem : Problem or str or sympy.Expr
        The objective.
    box : dict, optional
        ``{Symbol or name: (lo, hi)}``: search (and report) only inside this box; needed to enumerate
        periodic solutions. Variables not named get [-10, 10].
    timeout : float
        Seconds allowed for *each* step (each solver route, then the classification); a step over
        budget is killed and the next route is tried. The method and notes say so.
    memory : float or None
        GiB each step may allocate (``symgd.budget.run_with_budget``); a step that runs out is killed
        like one over time. None: no cap.

    Returns
    -------
    CriticalPoints
        ``complete`` is True only when it is proven that no critical point is missing (inside ``box``
        when one is given).
    """
    if not isinstance(problem, Problem):
        problem = Problem(problem)
    timeout = _check_timeout(timeout)
    memory = _check_memory(memory)
    f, xs = problem.expr, problem.variables
    box = _normalize_box(box, xs)
    if not xs:
        return CriticalPoints((), (), True, "none", ("f has no variables: there is nothing to solve",))
    params = sorted(str(s) for s in f.free_symbols - set(xs))
    if params:
        return CriticalPoints((), (), False, "none", (f"f depends on the parameters {', '.join(params)}: give "
                                                      "them numeric values to find critical points",))
    grad = list(problem.gradient)
    candidates, skipped, notes = _solve(grad, xs, box, timeout, memory)
    notes += [n for r in candidates for n in r.notes]
    args = (f, xs, grad, problem.hessian, candidates, box)
    kept, families, complete, method, more = _finish_under_budget(args, timeout, memory)
    method += f" (after: {'; '.join(skipped)})" if skipped else ""
    return CriticalPoints(tuple(kept), tuple(families), complete, method, tuple(notes + more))
