"""Activation functions as SymPy functions: exact derivatives, stable NumPy code, LaTeX."""

from __future__ import annotations

import sympy as sp


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


