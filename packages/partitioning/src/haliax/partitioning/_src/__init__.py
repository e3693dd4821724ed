"""Implementation of haliax.partitioning, one concern per module.

Dependency order (each imports only those above it):
mesh -> mapping -> shard -> named_jit, shard_map, strategies, explain, visualize;
shard -> checkpoint_dir -> checkpoint_restore -> checkpoint (orbax-checkpoint, imported on first use).
"""
