r"""Model expressions for learning from data: losses, small neural networks, and their gradient program.

Everything here builds SymPy expressions (layer 3: no data, no NumPy evaluation; ``symgd.fit`` compiles).

- Per-sample losses :math:`\ell(\hat y, y)`: ``mse`` :math:`(\hat y - y)^2`; ``bce_logit`` for a model
  whose output is a logit z, :math:`\operatorname{softplus}(z) - y z` (= cross-entropy of
  :math:`\sigma(z)`, never forming :math:`\log \sigma`); ``bce_prob`` for a model whose output is a
  probability p, :math:`-(y \log p + (1 - y) \log(1 - p))`, rewritten to the logit form when p is
  visibly :math:`\sigma(z)`; or any expression the user types in ``yhat`` and ``y``.
- ``mlp(...)``: a fully connected network as one symbolic per-sample expression.
- ``gradient_program(expr, wrt)``: the gradient by reverse accumulation over the expression DAG (symbolic
  backpropagation), with shared subexpressions, in time linear in the DAG: ``sympy.diff`` per parameter
  took 60 s on a 2-input [20, 20] network, this takes well under a second.

>>> import sympy as sp
>>> z, y = sp.symbols("z y", real=True)
>>> bce_prob(sigmoid(z), y)
-y*z + softplus(z)
>>> [relu(-2), relu(3), unit_step(0), sigmoid(0), softplus(0)]
[0, 3, 0, 1/2, log(2)]
>>> sp.diff(relu(z), z), sp.diff(softplus(z), z)
(unit_step(z), sigmoid(z))
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import sympy as sp
from sympy.core.function import Application

from symgd.errors import InputError
from symgd.parse import parse, validate_name

__all__ = ["LOSSES", "MLP", "Program", "as_logit", "bce_logit", "bce_prob", "dag_size", "gradient_program", "mlp", "mse",
           "per_sample_loss", "relu", "sigmoid", "softplus", "unit_step"]


# ---------------------------------------------------------------------------------------------
# activation functions: SymPy functions with exact derivatives and stable NumPy code


def _np(printer, name: str) -> str:
    return printer._module_format(f"numpy.{name}")


class unit_step(sp.Function):  # noqa: N801 (SymPy's convention: functions are lowercase classes)
    r"""Heaviside step with :math:`H(0) = 0`: the derivative of ``relu``, and exactly 0 at 0.

    Its derivative is taken as 0 (it is 0 everywhere except at 0, where it does not exist), so a
    ReLU network's Hessian has no Dirac terms. NumPy: ``heaviside(z, 0.0)``.
    """

    is_extended_real = True

    @classmethod
    def eval(cls, z):
        if z.is_Number:
            return sp.S.One if z > 0 else sp.S.Zero

    def fdiff(self, argindex=1):
        return sp.S.Zero

    def _numpycode(self, printer):
        return f"{_np(printer, 'heaviside')}({printer._print(self.args[0])}, 0.0)"

    def _eval_rewrite_as_Heaviside(self, z, **kwargs):
        return sp.Heaviside(z, 0)

    def _eval_evalf(self, prec):
        return sp.Heaviside(self.args[0], 0)._eval_evalf(prec)

    def _latex(self, printer):
        return rf"H\left({printer._print(self.args[0])}\right)"


class relu(sp.Function):  # noqa: N801
    r"""Rectified linear unit :math:`\max(0, z)`; its derivative is ``unit_step(z)``, 0 at z = 0.

    ``sympy.Max(0, z)`` differentiates to ``Heaviside(z)``, which NumPy code evaluates to 1/2 at 0;
    this class states the convention instead (as torch's ``relu`` backward: 0 at 0). NumPy: ``maximum(z, 0.0)``.
    """

    @classmethod
    def eval(cls, z):
        if z.is_Number:
            return z if z > 0 else sp.S.Zero

    def fdiff(self, argindex=1):
        return unit_step(self.args[0])

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _eval_is_extended_nonnegative(self):
        return self.args[0].is_extended_real

    def _numpycode(self, printer):
        return f"{_np(printer, 'maximum')}({printer._print(self.args[0])}, 0.0)"

    def _eval_rewrite_as_Max(self, z, **kwargs):
        return sp.Max(0, z)

    def _eval_evalf(self, prec):
        return sp.Max(0, self.args[0])._eval_evalf(prec)

    def _latex(self, printer):
        return rf"\operatorname{{ReLU}}\left({printer._print(self.args[0])}\right)"


class sigmoid(sp.Function):  # noqa: N801
    r"""Logistic function :math:`\sigma(z) = 1/(1 + e^{-z})`, :math:`\sigma' = \sigma (1 - \sigma)`.

    NumPy: ``exp(-logaddexp(0, -z))``, accurate in both tails and never overflowing.
    """

    @classmethod
    def eval(cls, z):
        if z.is_zero:
            return sp.S.Half

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _eval_is_positive(self):
        return self.args[0].is_extended_real

    def _numpycode(self, printer):
        return f"{_np(printer, 'exp')}(-{_np(printer, 'logaddexp')}(0.0, -({printer._print(self.args[0])})))"

    def _eval_rewrite_as_exp(self, z, **kwargs):
        return 1 / (1 + sp.exp(-z))

    def _eval_evalf(self, prec):
        return (1 / (1 + sp.exp(-self.args[0])))._eval_evalf(prec)

    def _latex(self, printer):
        return rf"\sigma\left({printer._print(self.args[0])}\right)"


class softplus(sp.Function):  # noqa: N801
    r"""Softplus :math:`\log(1 + e^{z})`, derivative ``sigmoid(z)``. NumPy: ``logaddexp(0, z)`` (stable)."""

    @classmethod
    def eval(cls, z):
        if z.is_zero:
            return sp.log(2)

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _eval_is_positive(self):
        return self.args[0].is_extended_real

    def _numpycode(self, printer):
        return f"{_np(printer, 'logaddexp')}(0.0, {printer._print(self.args[0])})"

    def _eval_rewrite_as_exp(self, z, **kwargs):
        return sp.log(1 + sp.exp(z))

    def _eval_evalf(self, prec):
        return sp.log(1 + sp.exp(self.args[0]))._eval_evalf(prec)

    def _latex(self, printer):
        return rf"\operatorname{{softplus}}\left({printer._print(self.args[0])}\right)"


# ---------------------------------------------------------------------------------------------
# losses


def as_logit(p: sp.Expr) -> sp.Expr | None:
    """z if ``p`` is visibly the logistic function of z (``sigmoid(z)`` or ``1/(1 + exp(-z))``), else None.

    >>> z = sp.Symbol("z")
    >>> as_logit(1 / (1 + sp.exp(-z))), as_logit(sigmoid(2 * z)), as_logit(z)
    (z, 2*z, None)
    """
    if isinstance(p, sigmoid):
        return p.args[0]
    if p.is_Pow and p.exp == -1 and p.base.is_Add and len(p.base.args) == 2 and sp.S.One in p.base.args:
        other = p.base.args[0] if p.base.args[1] == 1 else p.base.args[1]
        if isinstance(other, sp.exp):
            return -other.args[0]
    return None


def mse(yhat: sp.Expr, y: sp.Expr) -> sp.Expr:
    r"""Squared error :math:`(\hat y - y)^2` (its mean over samples is the MSE)."""
    return (yhat - y) ** 2


def bce_logit(z: sp.Expr, y: sp.Expr) -> sp.Expr:
    r"""Cross-entropy of :math:`p = \sigma(z)` from the logit z: :math:`\operatorname{softplus}(z) - y z`.

    Equal to :math:`-(y \log \sigma(z) + (1 - y) \log(1 - \sigma(z)))`; its gradient in z is
    :math:`\sigma(z) - y`.
    """
    return softplus(z) - y * z


def bce_prob(p: sp.Expr, y: sp.Expr) -> sp.Expr:
    r"""Cross-entropy :math:`-(y \log p + (1 - y) \log(1 - p))` of a probability p.

    When p is visibly :math:`\sigma(z)` this is ``bce_logit(z, y)`` (the same function, computed stably).
    """
    z = as_logit(p)
    if z is not None:
        return bce_logit(z, y)
    return -(y * sp.log(p) + (1 - y) * sp.log(1 - p))


def _bce(model: sp.Expr, y: sp.Expr) -> sp.Expr:
    z = as_logit(model)
    if z is None:
        raise InputError("loss 'bce' needs to know what the model gives: use 'bce_logit' (the model is a logit z, "
                         "p = sigmoid(z)) or 'bce_prob' (the model is a probability in (0, 1))")
    return bce_logit(z, y)


LOSSES = {"mse": mse, "bce": _bce, "bce_logit": bce_logit, "bce_prob": bce_prob}


def per_sample_loss(model: sp.Expr, y: sp.Symbol, loss: str = "mse") -> sp.Expr:
    """The per-sample loss ℓ of ``model`` against the target symbol ``y``.

    ``loss`` is a name of ``LOSSES`` ("bce" means "bce_prob" and needs a model of the form sigmoid(z)),
    or an expression typed in ``yhat`` (the model's output) and ``y`` (the target).

    >>> x, a, t = sp.symbols("x a t", real=True)
    >>> per_sample_loss(a * x, t, "abs(yhat - y)")
    Abs(a*x - t)
    """
    if not isinstance(loss, str):
        raise InputError(f"loss must be a name ({', '.join(LOSSES)}) or an expression in yhat and y, got {loss!r}")
    key = loss.strip()
    if key.lower() in LOSSES:
        return LOSSES[key.lower()](model, y)
    expr, symbols = parse(key)
    names = {s.name: s for s in symbols}
    extra = sorted(set(names) - {"yhat", "y"})
    if extra:
        hint = difflib.get_close_matches(key.lower(), list(LOSSES), n=1)
        more = f"; did you mean {hint[0]!r}?" if hint else f"; known losses: {', '.join(LOSSES)}"
        raise InputError(f"a typed loss may use only yhat and y, got {', '.join(extra)}{more}")
    if "yhat" not in names:
        raise InputError(f"the loss {key!r} does not use yhat (the model's output)")
    return expr.xreplace({names["yhat"]: model, **({names["y"]: y} if "y" in names else {})})


# ---------------------------------------------------------------------------------------------
# multilayer perceptrons


class MLP(NamedTuple):
    """``mlp``'s result: unpack as ``expr, params, init = mlp(...)``."""

    expr: sp.Expr  # per-sample output, in the inputs and params
    params: tuple  # Symbols w{l}_{j}_{i}, b{l}_{j}, layer by layer
    init: np.ndarray  # (n,) seeded initial values, in params order


ACTIVATIONS = {"relu": relu, "sigmoid": sigmoid, "tanh": sp.tanh}
OUTPUTS = {"sigmoid": sigmoid, "linear": lambda z: z}


def mlp(inputs, hidden: Sequence[int] = (10, 10), activation: str = "relu", output: str = "sigmoid",
        seed: int = 0) -> MLP:
    r"""A fully connected network as one symbolic per-sample expression.

    .. math::

        h^{(0)} = x, \quad h^{(l)}_j = a\Big(\sum_i w^{(l)}_{j,i} h^{(l-1)}_i + b^{(l)}_j\Big), \quad
        \hat y = o\Big(\sum_i w^{(L+1)}_{0,i} h^{(L)}_i + b^{(L+1)}_0\Big)

    Parameters
    ----------
    inputs : sequence of str, or a comma-separated str
        Names of the input data columns, e.g. ``["x1", "x2"]``.
    hidden : sequence of int
        Units per hidden layer (``[]``: no hidden layer, a generalized linear model).
    activation : {"relu", "sigmoid", "tanh"}
        Hidden activation a. ReLU's derivative is 0 at 0 (``unit_step``).
    output : {"sigmoid", "linear"}
        Output o: a probability (use ``loss="bce"``) or a real value (``loss="mse"``).
    seed : int
        Seed of ``numpy.random.default_rng`` for the initial weights.

    Returns
    -------
    MLP
        ``(expr, params, init)``; weights are named ``w{l}_{j}_{i}`` (layer l = 1..L+1, unit j, input i) and
        biases ``b{l}_{j}``, ordered layer by layer, weights row by row, then biases.

    Initialization: weights normal with mean 0 and sd :math:`\sqrt{2/n_{in}}` (He et al. 2015) in
    ReLU layers, :math:`\sqrt{2/(n_{in} + n_{out})}` (Glorot & Bengio 2010, normal form) in sigmoid and
    tanh layers and in the output layer; biases 0.

    Examples
    --------
    >>> expr, params, init = mlp(["x"], hidden=[2], output="linear")
    >>> expr
    b2_0 + w2_0_0*relu(b1_0 + w1_0_0*x) + w2_0_1*relu(b1_1 + w1_1_0*x)
    >>> [p.name for p in params]
    ['w1_0_0', 'w1_1_0', 'b1_0', 'b1_1', 'w2_0_0', 'w2_0_1', 'b2_0']
    >>> init.shape
    (7,)
    """
    names = [v.strip() for v in inputs.split(",")] if isinstance(inputs, str) else list(inputs)
    if not names:
        raise InputError("mlp needs at least one input name")
    xs = [sp.Symbol(validate_name(str(v)), real=True) for v in names]
    sizes = [len(xs), *_units(hidden), 1]
    act = _choice("activation", activation, ACTIVATIONS)
    out = _choice("output", output, OUTPUTS)
    rng = np.random.default_rng(seed)
    h, params, init = xs, [], []
    for layer in range(1, len(sizes)):
        n_in, n_out, last = sizes[layer - 1], sizes[layer], layer == len(sizes) - 1
        sd = np.sqrt(2.0 / n_in) if (activation == "relu" and not last) else np.sqrt(2.0 / (n_in + n_out))
        W = [[sp.Symbol(f"w{layer}_{j}_{i}", real=True) for i in range(n_in)] for j in range(n_out)]
        b = [sp.Symbol(f"b{layer}_{j}", real=True) for j in range(n_out)]
        params += [w for row in W for w in row] + b
        init += list(rng.normal(0.0, sd, n_out * n_in)) + [0.0] * n_out
        z = [sp.Add(*(w * hi for w, hi in zip(W[j], h)), b[j]) for j in range(n_out)]
        h = [(out if last else act)(zj) for zj in z]
    clash = sorted({x.name for x in xs} & {p.name for p in params})
    if clash:
        raise InputError(f"input name {clash[0]} is also a weight's name; rename the input")
    return MLP(h[0], tuple(params), np.array(init, dtype=float))


def _units(hidden) -> list[int]:
    units = [hidden] if isinstance(hidden, (int, np.integer)) else list(hidden)
    for u in units:
        if isinstance(u, bool) or not isinstance(u, (int, np.integer)) or u < 1:
            raise InputError(f"hidden layer sizes must be positive integers, got {hidden!r}")
    return [int(u) for u in units]


def _choice(what: str, value, options: dict):
    if value not in options:
        raise InputError(f"{what} must be one of {', '.join(options)}, got {value!r}")
    return options[value]


# ---------------------------------------------------------------------------------------------
# the gradient program: symbolic reverse accumulation + common subexpressions


class Program(NamedTuple):
    """Straight-line code: ``assignments`` ``[(Dummy, expr), ...]`` in evaluation order, then ``outputs``.

    The pair is what ``sympy.lambdify(..., cse=callable)`` expects from its cse function.
    """

    assignments: list
    outputs: list

    def expand(self) -> list:
        """The outputs as plain expressions (every temporary substituted: trees can get large)."""
        full = {}
        for s, e in self.assignments:
            full[s] = e.xreplace(full)
        return [o.xreplace(full) for o in self.outputs]


def dag_size(expr: sp.Basic) -> int:
    """Number of distinct subexpressions of ``expr`` (its size as a DAG; ``count_ops`` walks the tree).

    >>> x = sp.Symbol("x")
    >>> dag_size(sp.sin(x) + sp.sin(x) ** 2)
    5
    """
    return len(_postorder([expr]))


def _postorder(roots) -> list:
    """Every distinct node under ``roots``, children before parents (iterative: deep trees are fine)."""
    order, seen = [], set()
    stack = [(r, False) for r in reversed(roots)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((a, False) for a in reversed(node.args) if a not in seen)
    return order


def _local(node: sp.Basic, k: int) -> sp.Expr | None:
    """∂ node / ∂ (its k-th argument), or None when only a whole-node derivative will do."""
    if node.is_Add:
        return sp.S.One
    if node.is_Mul:
        return sp.Mul(*(node.args[:k] + node.args[k + 1:]))
    if node.is_Pow:
        b, e = node.args
        return e * b ** (e - 1) if k == 0 else node * sp.log(b)
    if isinstance(node, Application):
        try:
            return node.fdiff(k + 1)
        except Exception:  # noqa: BLE001 - SymPy raises several types for "no partial derivative"
            return None
    return None


def gradient_program(expr: sp.Expr, wrt: Sequence[sp.Symbol]) -> Program:
    r"""``[expr, ∂expr/∂wrt_1, ...]`` as a ``Program``, by reverse accumulation over the expression DAG.

    Each node's adjoint :math:`\bar v = \sum_{\text{parents } u} \bar u \, \partial u / \partial v` is one
    assignment; then every subexpression reached twice becomes a temporary. Nodes whose arguments are not
    all expressions (``Piecewise``) or without a partial derivative are differentiated whole per parameter.

    >>> a, b, x = sp.symbols("a b x")
    >>> prog = gradient_program(sp.exp(-a * x) + b * x, [a, b])
    >>> prog.expand()
    [b*x + exp(-a*x), -x*exp(-a*x), x]
    """
    wrt = list(wrt)
    targets = set(wrt)
    order = _postorder([expr])
    dep = {}
    for node in order:
        dep[node] = node in targets if not node.args else any(dep[a] for a in node.args)
    adjoint, assignments = {expr: [sp.S.One]}, []
    for node in reversed(order):  # parents before children
        if node in targets or node not in adjoint or not dep[node]:
            continue
        bar = sp.Add(*adjoint.pop(node))
        if not bar.is_Atom:
            s = sp.Dummy("d")
            assignments.append((s, bar))
            bar = s
        locals_ = [_local(node, k) if dep[a] else sp.S.Zero for k, a in enumerate(node.args)]
        if any(v is None for v in locals_) or not all(isinstance(a, sp.Expr) for a in node.args):
            for p in wrt:
                if p in node.free_symbols:
                    adjoint.setdefault(p, []).append(bar * sp.diff(node, p))
            continue
        for a, v in zip(node.args, locals_):
            if dep[a]:
                adjoint.setdefault(a, []).append(bar * v)
    grads = [sp.Add(*adjoint.get(p, [])) for p in wrt]
    return share_subexpressions(Program(assignments, [expr, *grads]))


def share_subexpressions(program: Program) -> Program:
    """Make every non-atomic subexpression used twice (anywhere in ``program``) a temporary, in a valid order."""
    roots = [e for _, e in program.assignments] + list(program.outputs)
    uses: dict = {}
    for r in roots:
        uses[r] = uses.get(r, 0) + 1
    for node in _postorder(roots):
        for a in node.args:
            uses[a] = uses.get(a, 0) + 1
    done, out = {}, []

    def rebuild(root):
        for node in _postorder([root]):
            if node in done:
                continue
            if not node.args:
                done[node] = node
                continue
            args = tuple(done[a] for a in node.args)
            new = node if args == node.args else node.func(*args)
            if uses.get(node, 0) > 1 and isinstance(node, sp.Expr) and not new.is_Atom:
                s = sp.Dummy("c")
                out.append((s, new))
                new = s
            done[node] = new
        return done[root]

    for s, e in program.assignments:
        out.append((s, rebuild(e)))
    return Program(out, [rebuild(o) for o in program.outputs])
