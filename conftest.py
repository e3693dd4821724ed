"""Test settings for every package: strict JAX, simulated CPU devices, warnings as errors (pyproject)."""

import os

# Eight simulated CPU devices for sharding tests; set before jax initialises its backends.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax

jax.config.update("jax_numpy_rank_promotion", "raise")

# CI runs hypothesis derandomized (a fixed sequence of examples, no example database), so a
# submission's result does not depend on the luck of the draw; locally examples stay random.
# No per-example deadline anywhere: an example with a new shape compiles its ops, which takes
# hundreds of milliseconds on a busy 2-core machine and says nothing about the code under test.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("local", deadline=None)
_hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, database=None, print_blob=True)
_hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "local")
