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


def test_ids_may_carry_the_vocab_axis_for_position_embeddings():
    Ctx = hax.Axis("position", 5)
    wpe = hnn.Embedding.init(Ctx, Embed, key=jax.random.PRNGKey(0))
    out = wpe.embed(hax.arange(Ctx))
    assert out.axes == (Ctx, Embed)
    np.testing.assert_array_equal(out.array, wpe.weight.array)


def test_standard_init_scales_by_one_over_the_embedding_width():
    key = jax.random.PRNGKey(0)
    emb = hnn.Embedding.init(Vocab, Embed, key=key, init_scale=0.5)
    unit = jax.random.truncated_normal(key, -3.0, 3.0, (Vocab.size, Embed.size))
    np.testing.assert_allclose(emb.weight.array, unit * 0.5 / Embed.size, rtol=1e-6)


def test_mup_embedding_init_is_embed_size_times_the_standard_one():
    key = jax.random.PRNGKey(1)
    base = hnn.Embedding.init(Vocab, (Embed,), key=key)
    mup = hnn.Embedding.init(Vocab, (Embed,), key=key, reparam_cls=hnn.mup.EmbeddingMup)
    np.testing.assert_allclose(mup.weight.array, base.weight.array * Embed.size, rtol=1e-6)


def test_reparam_class_is_the_private_field_as_in_haliax():
    weight = hax.ones((Vocab, Embed))
    emb = hnn.Embedding(weight=weight, Vocab=Vocab, Embed=Embed, _reparam_cls=hnn.mup.EmbeddingMup)
    assert isinstance(emb.reparam, hnn.mup.EmbeddingMup)
    logits = emb.unembed(hax.ones((Batch, Embed)))
    np.testing.assert_allclose(logits.array, 1.0)


def test_embed_axis_may_be_several_axes():
    Head, Dim = hax.make_axes(head=2, dim=3)
    emb = hnn.Embedding.init(Vocab, (Head, Dim), key=jax.random.PRNGKey(0))
    assert emb.weight.axes == (Vocab, Head, Dim)
    out = emb(ids)
    assert out.axes == (Batch, Pos, Head, Dim)
    assert emb.unembed(out).axes == (Batch, Pos, Vocab)


def test_initializer_range_is_deprecated():
    with pytest.warns(DeprecationWarning, match="Embedding.init: initializer_range is deprecated"):
        emb = hnn.Embedding.init(Vocab, Embed, key=jax.random.PRNGKey(0), initializer_range=0.5)
    ref = hnn.Embedding.init(Vocab, Embed, key=jax.random.PRNGKey(0), init_scale=0.5)
    np.testing.assert_array_equal(emb.weight.array, ref.weight.array)


def test_embedding_init_with_a_bare_name_names_embedding_init():
    with pytest.raises(TypeError, match=r"Embedding.init: axis 'vocab' needs a size"):
        hnn.Embedding.init("vocab", Embed, key=jax.random.PRNGKey(0))  # type: ignore[arg-type]
