"""Private implementation of haliax, grouped by layer. Modules import their siblings directly, never ``haliax``.

Layer order: a module imports (at module level) only from its own layer or the layers above it in
this list; tests/test_layering.py enforces it, and that core has no import cycle.

    base          errors, axes, the NamedArray class, validation, display, typing annotations, pytree
                  and runtime helpers
    ops           the named ops: lifting factories, broadcasting, elementwise, reductions, shape,
                  creation, selection, comparison, random, fft, polynomials, rearrange and its parser
    transforms    vmap, scan/fold/map, checkpointing helpers, and the leaf layout (LeafLayout) they and
                  partitioning's named_jit/shard_map share
    indexing      x[...], x.at[...], NamedRef
    contractions  dot and einsum
    trees         tree helpers, state dicts, field, debugging aids
    plugins       entry-point registries, lazily resolved sibling distributions
    methods       installs NamedArray's op-backed methods (x.sum, x + y, x[...]) on the class

The modules directly in this folder besides ``methods`` are import-path aliases that code written
for Haliax 1.4 uses (``haliax._src.einsum`` and friends); each is the layered module itself.
"""

# Bind NamedArray's methods before anything uses them, whichever haliax module is imported first.
from . import methods as _methods
