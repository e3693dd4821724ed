"""Private implementation of haliax.nn. Modules import their siblings directly, never ``haliax.nn``.

Dependency order (a module imports only modules above it; core only through its public modules and
``haliax.extend``, never ``haliax._src``: tests/test_layering.py):

    contract, sampling            named dot_general and parameter sampling
    activations, normalization, encoding
    mup
    linear, embedding, dropout, conv, pool, loss
    mlp
    attention, context_parallel, fused_attention
    scan                          Stacked, BlockSeq
"""
