"""Random samplers shaped by named axes; bit-identical to `jax.random` for the same key and shape."""

from ._src.random import ball as ball
from ._src.random import bernoulli as bernoulli
from ._src.random import beta as beta
from ._src.random import categorical as categorical
from ._src.random import cauchy as cauchy
from ._src.random import choice as choice
from ._src.random import exponential as exponential
from ._src.random import gamma as gamma
from ._src.random import gumbel as gumbel
from ._src.random import laplace as laplace
from ._src.random import loggamma as loggamma
from ._src.random import logistic as logistic
from ._src.random import normal as normal
from ._src.random import pareto as pareto
from ._src.random import permutation as permutation
from ._src.random import poisson as poisson
from ._src.random import rademacher as rademacher
from ._src.random import randint as randint
from ._src.random import t as t
from ._src.random import truncated_normal as truncated_normal
from ._src.random import uniform as uniform
from ._src.random import weibull_min as weibull_min
