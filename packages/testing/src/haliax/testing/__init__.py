"""Testing tools for haliax: hypothesis strategies, named assertions and a pytest plugin.

This module is a manifest: every public name is imported from ``haliax.testing._src``. The
pytest plugin (`haliax.testing.pytest_plugin`) is loaded by pytest through an entry point.
"""
