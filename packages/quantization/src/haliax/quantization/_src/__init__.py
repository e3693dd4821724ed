"""Implementation of ``haliax.quantization``.

Dependency order (each module imports only those before it):
``ops`` -> ``overwrite`` -> ``fp8`` -> ``int8`` -> ``quantize``.
"""
