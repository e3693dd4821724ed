"""Reductions, cumulative and sorting ops over named axes: tables built by `reduction` and `along_axis`."""

from __future__ import annotations

import jax.numpy as jnp

from .lift import along_axis, reduction

# ----- reductions over any axes (axis=None reduces all) -----
all = reduction(jnp.all, name="all")
any = reduction(jnp.any, name="any")
max = reduction(jnp.max, name="max")
amax = reduction(jnp.max, name="amax")
min = reduction(jnp.min, name="min")
amin = reduction(jnp.min, name="amin")
mean = reduction(jnp.mean, name="mean")
prod = reduction(jnp.prod, name="prod")
product = reduction(jnp.prod, name="product")
ptp = reduction(jnp.ptp, name="ptp", supports_where=False)
std = reduction(jnp.std, name="std")
sum = reduction(jnp.sum, name="sum")
var = reduction(jnp.var, name="var")

# ----- NaN-ignoring reductions -----
nanmax = reduction(jnp.nanmax)
nanmean = reduction(jnp.nanmean)
nanmin = reduction(jnp.nanmin)
nanprod = reduction(jnp.nanprod)
nanstd = reduction(jnp.nanstd)
nansum = reduction(jnp.nansum)
nanvar = reduction(jnp.nanvar)

# ----- index of an extremum along one axis (axis=None: over the flattened array) -----
argmax = reduction(jnp.argmax, name="argmax", single_axis=True, supports_where=False)
argmin = reduction(jnp.argmin, name="argmin", single_axis=True, supports_where=False)
nanargmax = reduction(jnp.nanargmax, single_axis=True, supports_where=False)
nanargmin = reduction(jnp.nanargmin, single_axis=True, supports_where=False)

# ----- shape-preserving, along one axis -----
cumsum = along_axis(jnp.cumsum, name="cumsum")
cumprod = along_axis(jnp.cumprod, name="cumprod")
nancumsum = along_axis(jnp.nancumsum)
nancumprod = along_axis(jnp.nancumprod)
sort = along_axis(jnp.sort, name="sort")
argsort = along_axis(jnp.argsort, name="argsort")
