"""The parser's limits: each refuses an input with a one-line ``ParseError`` before SymPy works on it.

They are explained in ``symgd.parse``'s docstring; tests patch them in the module that reads them.
"""

MAX_LENGTH = 2000  # characters, checked before any other work
MAX_PAREN_DEPTH = 64
MAX_NAME_LENGTH = 32
MAX_EXPONENT = 1000  # |numeric exponent| when the base is a variable or a number
MAX_COMPOUND_EXPONENT = 100  # ... when it is anything else: (x + y + 1)^1000 has 501501 terms
MAX_TREE_DEPTH = 64  # SymPy's constructors re-inspect their whole argument: cubic in the depth for abs
MAX_NODES = 5000
MAX_EXPANDED_TERMS = 64  # constants, and the argument of sinh, cosh, tanh, abs
MAX_CONSTANT_DEPTH = 4  # functions nested inside a constant: SymPy's evalf is exponential in it
MAX_DIGITS = 400  # significant digits of a number typed
BIG = 10**300  # constants are 0 or within [1e-300, 1e300] in magnitude (float64's range)
