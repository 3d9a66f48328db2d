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


from symgd.models._functions import relu, sigmoid, softplus, unit_step
from symgd.models._losses import LOSSES, as_logit, bce_logit, bce_prob, mse, per_sample_loss
from symgd.models._mlp import ACTIVATIONS, MLP, OUTPUTS, mlp
from symgd.models._program import Program, dag_size, gradient_program, share_subexpressions

__all__ = ["ACTIVATIONS", "LOSSES", "MLP", "OUTPUTS", "Program", "as_logit", "bce_logit", "bce_prob", "dag_size",
           "gradient_program", "mlp", "mse", "per_sample_loss", "relu", "share_subexpressions", "sigmoid",
           "softplus", "unit_step"]
