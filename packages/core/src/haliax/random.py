"""Random samplers shaped by named axes; bit-identical to `jax.random` for the same key and shape."""

from ._src.ops.random import ball as ball
from ._src.ops.random import bernoulli as bernoulli
from ._src.ops.random import beta as beta
from ._src.ops.random import categorical as categorical
from ._src.ops.random import cauchy as cauchy
from ._src.ops.random import choice as choice
from ._src.ops.random import exponential as exponential
from ._src.ops.random import gamma as gamma
from ._src.ops.random import gumbel as gumbel
from ._src.ops.random import laplace as laplace
from ._src.ops.random import loggamma as loggamma
from ._src.ops.random import logistic as logistic
from ._src.ops.random import normal as normal
from ._src.ops.random import pareto as pareto
from ._src.ops.random import permutation as permutation
from ._src.ops.random import poisson as poisson
from ._src.ops.random import rademacher as rademacher
from ._src.ops.random import randint as randint
from ._src.ops.random import t as t
from ._src.ops.random import truncated_normal as truncated_normal
from ._src.ops.random import uniform as uniform
from ._src.ops.random import weibull_min as weibull_min
