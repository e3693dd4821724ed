"""Private implementation of haliax.testing. Modules import their siblings directly.

Dependency order (a module imports only modules above it):

    devices      (counting jax devices, building test meshes; jax imported lazily)
    strategies   (hypothesis strategies for axes, NamedArrays, broadcast pairs, meshes)
    assertions   (assert_named_allclose, assert_axes_equal)
    plugin       (the pytest hooks and fixtures that ``haliax.testing.pytest_plugin`` exposes)
"""
