"""Test settings for every package: strict JAX, simulated CPU devices, warnings as errors (pyproject)."""

import os

# Eight simulated CPU devices for sharding tests; set before jax initialises its backends.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax

jax.config.update("jax_numpy_rank_promotion", "raise")
