import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
import haliax.nn as hnn

Vocab, Embed, Batch, Pos = hax.make_axes(vocab=10, embed=4, batch=2, pos=3)
ids = hax.named(jnp.array([[1, 2, 3], [9, 0, 9]]), (Batch, Pos))


def test_embed_is_a_row_lookup_and_unembed_a_dot():
    emb = hnn.Embedding.init(Vocab, Embed, key=jax.random.PRNGKey(0))
    out = emb(ids)
    assert out.axes == (Batch, Pos, Embed)
    np.testing.assert_array_equal(out.array, emb.weight.array[ids.array])
    logits = emb.unembed(out)
    assert logits.axes == (Batch, Pos, Vocab)
    np.testing.assert_allclose(logits.array, out.array @ emb.weight.array.T, rtol=1e-5)


def test_embedding_bad_inputs():
    emb = hnn.Embedding.init(Vocab, Embed, key=jax.random.PRNGKey(0))
    with pytest.raises(TypeError, match=r"Embedding: token ids must be integers"):
        emb(hax.named(jnp.ones(3), "pos"))
    with pytest.raises(
        ValueError, match=r"Embedding.unembed: axis 'embed' not found in \{batch: 2, pos: 3\}"
    ):
        emb.unembed(hax.named(jnp.ones((2, 3)), (Batch, Pos)))


def test_resize_embeddings_truncates_and_grows():
    emb = hnn.Embedding.init(Vocab, Embed, key=jax.random.PRNGKey(0))
    small = emb.resize_embeddings(4)
    assert small.Vocab == Vocab.resize(4)
    np.testing.assert_array_equal(small.weight.array, emb.weight.array[:4])
    big = emb.resize_embeddings(12)
    np.testing.assert_array_equal(big.weight.array[:10], emb.weight.array)
    np.testing.assert_allclose(big.weight.array[10], emb.weight.array.mean(0), rtol=1e-6)
    sampled = emb.resize_embeddings(12, key=jax.random.PRNGKey(1))
    assert sampled.weight.axes == (Vocab.resize(12), Embed)


def test_embedding_mup_scales_unembedding():
    emb = hnn.Embedding.init(Vocab, Embed, key=jax.random.PRNGKey(0), reparam_cls=hnn.mup.EmbeddingMup)
    x = emb(ids)
    np.testing.assert_allclose(emb.unembed(x).array, x.array @ emb.weight.array.T / Embed.size, rtol=1e-5)
    assert emb.reparam.lr_scale == 1.0
