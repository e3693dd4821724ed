"""The haliax pytest plugin, loaded through the ``pytest11`` entry point ``haliax``.

Fixtures: ``mesh`` (a device mesh; skips when too few devices), ``prng_key`` and ``gpu_aot_mesh``
(compile-only GPU devices for checking compiled GPU programs without a GPU; skips without the CUDA
plugin). Marker:
``@pytest.mark.needs_devices(n)`` skips a test when fewer than ``n`` devices are present.
"""

from ._src.plugin import gpu_aot_mesh as gpu_aot_mesh
from ._src.plugin import mesh as mesh
from ._src.plugin import prng_key as prng_key
from ._src.plugin import pytest_configure as pytest_configure
from ._src.plugin import pytest_runtest_setup as pytest_runtest_setup
