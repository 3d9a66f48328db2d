"""The recursive decomposition behind ``solve_polynomial``: blocks, eliminations, families, RUR.

A :class:`Solver` works on ring elements of ``QQ[variables]``. Each step returns a :class:`_Group`:
real points (``AlgPoints``, exact), families (``_Fam``), whether that is *all* real solutions, and the
systems whose zero sets it covers (used to drop points and families another branch already reports).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.orderings import grevlex
from sympy.polys.rings import ring

from symgd.critical._poly_linalg import check_deadline
from symgd.critical._poly_real import AlgPoints, from_rur, real_root_points
from symgd.critical._poly_rur import T, NotZeroDimensional, groebner_basis, univariate_representation
from symgd.critical._poly_sets import nonnegative_proof, sample_signs
from symgd.critical._types import Family

__all__ = ["Solver"]

MAX_DEPTH = 10


@dataclass
class _Fam:
    """A family: ``param`` {var: Expr in ``params``} (params are variables), plus ``implicit`` conditions."""

    param: dict
    params: tuple
    implicit: list = field(default_factory=list)

    def family(self, gens: tuple) -> Family:
        """The public :class:`Family`: fixed coordinates first, then the free ones, then conditions."""
        fixed = [f"{v} = {sp.sstr(self.param[v])}" for v in gens
                 if v in self.param and not (self.param[v] == v and v in self.params)]
        free = [f"{v} any real" for v in gens if v in self.params]
        return Family(", ".join(fixed + free + self.implicit), dict(self.param), tuple(self.params))


@dataclass
class _Group:
    """Real solutions (AlgPoints, _Fam) of a system; when ``complete``, every real point of the union of
    the zero sets of ``equations`` (a list of alternative systems, each a list of ring elements)."""

    points: list
    fams: list
    complete: bool
    equations: list


def _total_degree(p) -> int:
    return max((sum(m) for m in p.monoms()), default=0)


def _is_zero(e) -> bool:
    """Proven zero (rational arithmetic, or a minimal polynomial for algebraic constants)."""
    e = sp.expand(e)
    if e.is_Rational or e == 0:
        return e == 0
    try:
        return sp.minimal_polynomial(e, T) == T
    except (NotImplementedError, sp.PolynomialError, ValueError):
        return False


class _Component:
    """Ring element over the solved variables -> its minimal polynomial on one RUR component."""

    def __init__(self, rur, Rb, index: list, f=None):
        self.rur, self.Rb, self.index, self.f = rur, Rb, index, f

    def __call__(self, p) -> sp.Poly:
        local = self.Rb.from_dict({tuple(m[i] for i in self.index): c for m, c in p.terms()})
        return self.rur.component_minpoly(self.f, local)

    def at(self, f) -> _Component:
        return _Component(self.rur, self.Rb, self.index, f)


class Solver:
    """The recursive decomposition; collects ``tags`` (route names), ``notes`` and ``complete``."""

    def __init__(self, R, deadline: float):
        self.R, self.gens, self.deadline = R, tuple(R.symbols), deadline
        self.complete, self.notes, self.tags = True, [], {}

    # -- helpers ---------------------------------------------------------------------------------
    def _tag(self, name: str) -> None:
        self.tags[name] = None

    def _note(self, text: str) -> None:
        self.complete = False
        if text not in self.notes:
            self.notes.append(text)

    def _var(self, v):
        return self.R.gens[self.gens.index(v)]

    def _clean(self, polys: list) -> list | None:
        """Nonzero, monic, distinct polynomials; None when one is a nonzero constant (no solution)."""
        out = []
        for p in polys:
            if not p:
                continue
            if p.is_ground:
                return None
            p = p.monic()
            if p not in out:
                out.append(p)
        return out

    def _uses(self, p, v) -> bool:
        return p.degree(self._var(v)) > 0

    # -- top level: separable blocks -------------------------------------------------------------
    def top(self, polys: list, *, hidden: tuple = ()) -> tuple[list, list]:
        """All real solutions: (points as dicts of exact numbers, families as :class:`Family`).

        ``hidden`` is ``(symbol, value)`` for an auxiliary variable (an algebraic coefficient made a
        variable): only solutions with ``symbol == value`` are kept, and the symbol is dropped.
        """
        polys = self._clean(polys)
        if polys is None:
            return [], []
        blocks = self._blocks(polys)
        if len(blocks) <= 1:
            points, fams = self._finalize(self._block(polys, self.gens, 0), self.gens)
        else:
            self._tag("separable")
            used = {v for _, vs in blocks for v in vs}
            free = tuple(v for v in self.gens if v not in used)
            parts = [self._finalize(self._block(ps, vs, 0), vs) for ps, vs in blocks]
            if free:
                parts.append(([], [_Fam({v: v for v in free}, free)]))
            points, fams = self._product(parts)
        gens = self.gens
        if hidden:
            points, fams = self._fix(points, fams, *hidden)
            gens = tuple(v for v in gens if v != hidden[0])
        out = {}
        for f in fams:
            fam = f.family(gens)
            out.setdefault(fam.description, fam)
        return points, [out[k] for k in sorted(out)]

    def _fix(self, points: list, fams: list, sym, value) -> tuple[list, list]:
        def equal(c) -> bool:
            return c.is_number and abs(sp.N(c - value, 50)) < sp.Float(10) ** -30

        points = [{v: c for v, c in p.items() if v != sym} for p in points if equal(p[sym])]
        kept = []
        for f in fams:
            if sym not in f.param:
                self._note("a family depends on an algebraic coefficient implicitly; it was left out")
            elif equal(f.param[sym]):
                kept.append(_Fam({v: e for v, e in f.param.items() if v != sym}, f.params, f.implicit))
        return points, kept

    def _blocks(self, polys: list) -> list:
        """Connected components of the 'shares a variable' relation: [(polys, variables)]."""
        comps: list = []
        for p in polys:
            vs = {v for v in self.gens if self._uses(p, v)}
            hit = [c for c in comps if c[1] & vs]
            merged = ([p] + [q for c in hit for q in c[0]], vs.union(*(c[1] for c in hit)))
            comps = [c for c in comps if c not in hit] + [merged]
        return [(ps, tuple(v for v in self.gens if v in vs)) for ps, vs in comps]

    def _product(self, parts: list) -> tuple[list, list]:
        points, fams = [], []
        options = [[("p", p) for p in pts] + [("f", f) for f in fs] for pts, fs in parts]
        for combo in itertools.product(*options):
            check_deadline(self.deadline)
            if all(kind == "p" for kind, _ in combo):
                points.append({k: v for _, p in combo for k, v in p.items()})
                continue
            param, params, implicit = {}, (), []
            for kind, c in combo:
                if kind == "p":
                    param.update(c)
                else:
                    param.update(c.param)
                    params += c.params
                    implicit += c.implicit
            fams.append(_Fam(param, params, implicit))
        return points, fams

    def _finalize(self, group: _Group, vs: tuple) -> tuple[list, list]:
        """Exact, de-duplicated points and the families of a block."""
        if not group.complete:
            self.complete = False
        seen, points = set(), []
        for ap in group.points:
            for p in ap.exact(deadline=self.deadline):
                key = tuple(p[v] for v in vs)
                if key not in seen:
                    seen.add(key)
                    points.append({v: p[v] for v in vs})
        return points, group.fams

    # -- one connected system --------------------------------------------------------------------
    def _block(self, polys: list, vs: tuple, depth: int) -> _Group:
        """Real solutions of ``polys`` in the variables ``vs`` (the other generators do not occur)."""
        check_deadline(self.deadline)
        equations = list(polys)
        if depth > MAX_DEPTH:
            self._note("the decomposition into components went too deep; some solutions may be missing")
            return _Group([], [], False, equations)
        polys = self._clean(polys)
        if polys is None:
            return _Group([], [], True, [equations])
        subs, polys, remaining = self._linear(polys, vs)
        if polys is None:
            return _Group([], [], True, [equations])
        bound = tuple(v for v in remaining if any(self._uses(p, v) for p in polys))
        free = tuple(v for v in remaining if v not in bound)
        core = self._core(polys, bound, depth)
        group = self._extend(core, subs, free)
        group.equations = [equations]
        return group

    def _linear(self, polys: list, vs: tuple) -> tuple[list, list, tuple]:
        """Eliminate variables that occur linearly with a constant coefficient: [(v, expression)]."""
        subs, remaining = [], list(vs)
        while True:
            best = None
            for p in polys:
                for v in remaining:
                    x = self._var(v)
                    if p.degree(x) == 1 and p.coeff_wrt(x, 1).is_ground:
                        lc = p.coeff_wrt(x, 1).LC
                        s = (p - x * lc).quo_ground(-lc)
                        key = (_total_degree(s), len(s), self.gens.index(v))
                        if best is None or key < best[0]:
                            best = (key, p, v, s)
            if best is None:
                return subs, polys, tuple(remaining)
            self._tag("linear")
            _, p, v, s = best
            x = self._var(v)
            polys = self._clean([q.compose(x, s) for q in polys if q != p])
            subs.append((v, s))
            remaining.remove(v)
            if polys is None:  # inconsistent: no solution
                return subs, None, tuple(remaining)

    def _extend(self, core: _Group, subs: list, free: tuple) -> _Group:
        """Back-substitute eliminated variables; free variables turn points into families."""
        points, fams = [], []
        for ap in core.points:
            if not free:
                for v, s in reversed(subs):
                    ap = ap.with_coordinate(v, s, self.gens)
                points.append(ap)
                continue
            for p in ap.exact(deadline=self.deadline):
                fams.append(self._with_subs(_Fam(dict(p), ()), subs, free))
        fams += [self._with_subs(f, subs, free) for f in core.fams]
        return _Group(points, fams, core.complete, [])

    def _with_subs(self, fam: _Fam, subs: list, free: tuple) -> _Fam:
        param = {**fam.param, **{v: v for v in free}}
        implicit = list(fam.implicit)
        for v, s in reversed(subs):
            e = s.as_expr()
            if e.free_symbols <= set(param):
                param[v] = sp.expand(e.xreplace(param))
            else:
                implicit.append(f"{v} = {sp.sstr(e)}")
        return _Fam(param, fam.params + free, implicit)

    # -- the system after eliminations -----------------------------------------------------------
    def _core(self, polys: list, bound: tuple, depth: int) -> _Group:
        if not polys:
            return _Group([AlgPoints(sp.Poly(T, T, domain=QQ), {})], [], True, [])
        if len(bound) == 1:
            self._tag("univariate")
            g = functools.reduce(lambda a, b: a.gcd(b), polys)
            return _Group(real_root_points(sp.Poly(g.as_expr(), bound[0]), bound[0]), [], True, [])
        g = functools.reduce(lambda a, b: a.gcd(b), polys)
        if not g.is_ground:
            if len(polys) == 1:
                return self._hypersurface(g, bound, depth)
            return self._common_factor(polys, g, bound, depth)
        Rb = ring(bound, QQ, grevlex)[0]
        index = [self.gens.index(v) for v in bound]
        local = [Rb.from_dict({tuple(m[i] for i in index): c for m, c in p.terms()}) for p in polys]
        try:
            rur = univariate_representation(local, Rb, deadline=self.deadline)
        except NotZeroDimensional:
            return self._positive_dimensional(polys, bound, depth)
        self._tag("groebner-rur")
        if rur is None:
            return _Group([], [], True, [])
        exprs = {v: self._var(v) for v in bound}
        return _Group(from_rur(rur, bound, exprs, _Component(rur, Rb, index).at), [], True, [])

    def _merge(self, first: _Group, second: _Group) -> _Group:
        """Union; points and families of ``second`` already covered by complete ``first`` are dropped."""
        points, fams = list(first.points), list(first.fams)
        if first.complete:
            points += [ap for ap in second.points
                       if not any(ap.vanish(eqs, self.gens) for eqs in first.equations)]
            fams += [f for f in second.fams if not any(self._inside(f, eqs) for eqs in first.equations)]
        else:
            points += second.points
            fams += second.fams
        return _Group(points, fams, first.complete and second.complete, first.equations + second.equations)

    def _inside(self, fam: _Fam, equations: list) -> bool:
        """The (fully parametrized) family lies in the zero set of ``equations``."""
        needed = {v for v in self.gens if any(self._uses(p, v) for p in equations)}
        if fam.implicit or not needed <= set(fam.param):
            return False
        return all(_is_zero(p.as_expr().xreplace(fam.param)) for p in equations)

    def _common_factor(self, polys: list, g, bound: tuple, depth: int) -> _Group:
        """V(polys) = V(g) ∪ V(polys / g): hypersurface families, then the rest."""
        self._tag("families")
        group = _Group([], [], True, [])
        for phi, _ in g.factor_list()[1]:
            part = self._block([phi], bound, depth + 1)
            group = _Group(group.points + part.points, group.fams + part.fams,
                           group.complete and part.complete, group.equations + [[phi]])
        rest = self._block([p.exquo(g) for p in polys], bound, depth + 1)
        return self._merge(group, rest)

    def _hypersurface(self, phi, bound: tuple, depth: int) -> _Group:
        """Real points of phi = 0 (irreducible factors are handled one by one)."""
        factors = phi.factor_list()[1]
        if len(factors) > 1 or factors[0][1] > 1:
            return self._common_factor([phi], phi, bound, depth) if len(factors) > 1 else \
                self._block([factors[0][0]], bound, depth + 1)
        self._tag("families")
        linear = [(phi.coeff_wrt(self._var(v), 1), v) for v in bound if phi.degree(self._var(v)) == 1]
        if linear:
            a, v = min(linear, key=lambda av: (_total_degree(av[0]), len(av[0])))
            x = self._var(v)
            b = phi - a * x
            others = tuple(w for w in bound if w != v)
            fam = _Fam({v: sp.factor(-b.as_expr() / a.as_expr()), **{w: w for w in others}}, others,
                       [f"{sp.sstr(a.as_expr())} != 0"])
            rest = self._block([a, b], bound, depth + 1)
            return _Group(rest.points, [fam] + rest.fams, rest.complete, [[phi]])
        syms = bound
        expr = phi.as_expr()
        signs = sample_signs(expr, syms)
        if len(signs) == 2:
            return _Group([], [_Fam({}, (), [f"{sp.sstr(expr)} = 0"])], True, [[phi]])
        grad = [phi.diff(self._var(v)) for v in bound]
        sub = self._block([phi, *grad], bound, depth + 1)
        if not nonnegative_proof(expr * (signs.pop() if signs else 1), syms):
            self._note(f"could not decide whether {sp.sstr(expr)} = 0 has real solutions where its gradient "
                       "does not vanish")
        return _Group(sub.points, sub.fams, sub.complete, [[phi]])

    def _positive_dimensional(self, polys: list, bound: tuple, depth: int) -> _Group:
        """Split along the factors of a Groebner basis element, or give up honestly."""
        Rb = ring(bound, QQ, grevlex)[0]
        index = [self.gens.index(v) for v in bound]
        G = groebner_basis([Rb.from_dict({tuple(m[i] for i in index): c for m, c in p.terms()})
                            for p in polys], Rb)
        back = []
        for g in G:
            d = {}
            for m, c in g.terms():
                full = [0] * len(self.gens)
                for i, e in zip(index, m):
                    full[i] = e
                d[tuple(full)] = c
            back.append(self.R.from_dict(d))
        back.sort(key=lambda p: (_total_degree(p), len(p)))
        if set(back) != set(polys) and any(p.degree(self._var(v)) == 1 and p.coeff_wrt(self._var(v), 1).is_ground
                                           for p in back for v in bound):
            return self._block(back, bound, depth + 1)
        for i, g in enumerate(back):
            factors = g.factor_list()[1]
            if len(factors) > 1 or factors[0][1] > 1:
                self._tag("families")
                others = back[:i] + back[i + 1:]
                group = None
                for phi, _ in factors:
                    part = self._block(others + [phi], bound, depth + 1)
                    group = part if group is None else self._merge(group, part)
                return group
        self._note("a positive-dimensional set of solutions could not be decomposed: "
                   + ", ".join(f"{sp.sstr(p.as_expr())} = 0" for p in back))
        return _Group([], [], False, [polys])
