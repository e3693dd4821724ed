"""Private implementation of haliax.nn. Modules import their siblings directly, never ``haliax.nn``.

Dependency order (a module imports only modules above it; all may import core's ``haliax._src``):

    contract, sampling            named dot_general and parameter sampling
    activations, normalization, encoding
    mup
    linear, embedding, dropout, conv, pool, loss
    mlp
    attention, context_parallel, fused_attention
    scan                          Stacked, BlockSeq
"""
