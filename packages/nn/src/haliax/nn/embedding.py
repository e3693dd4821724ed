"""Token embeddings."""

from ._src.embedding import Embedding as Embedding
