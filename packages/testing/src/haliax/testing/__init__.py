"""Testing tools for haliax: hypothesis strategies, named assertions and a pytest plugin.

This module is a manifest: every public name is imported from ``haliax.testing._src``. The
pytest plugin (`haliax.testing.pytest_plugin`) is loaded by pytest through an entry point.
"""

# ----- compiling for a GPU without one -----
from ._src.aot import GPU_TARGETS as GPU_TARGETS
from ._src.aot import AotUnavailable as AotUnavailable
from ._src.aot import abstract_like as abstract_like
from ._src.aot import compile_only_gpu_mesh as compile_only_gpu_mesh
from ._src.aot import hlo_gemms as hlo_gemms
from ._src.aot import hlo_kernels as hlo_kernels

# ----- assertions -----
from ._src.assertions import assert_axes_equal as assert_axes_equal
from ._src.assertions import assert_named_allclose as assert_named_allclose

# ----- devices and meshes -----
from ._src.devices import device_count as device_count
from ._src.devices import make_test_mesh as make_test_mesh

# ----- errors -----
from ._src.errors import ErrorCase as ErrorCase
from ._src.errors import assert_clear_error as assert_clear_error

# ----- several processes -----
from ._src.processes import LocalProcesses as LocalProcesses
from ._src.processes import free_port as free_port
from ._src.processes import local_processes as local_processes

# ----- hypothesis strategies -----
from ._src.strategies import axes as axes
from ._src.strategies import axis_names as axis_names
from ._src.strategies import axis_permutations as axis_permutations
from ._src.strategies import broadcastable_axes as broadcastable_axes
from ._src.strategies import broadcastable_pairs as broadcastable_pairs
from ._src.strategies import dtypes as dtypes
from ._src.strategies import mesh_shapes as mesh_shapes
from ._src.strategies import meshes as meshes
from ._src.strategies import named_arrays as named_arrays
from ._src.strategies import permute as permute
from ._src.strategies import permuted_arrays as permuted_arrays
