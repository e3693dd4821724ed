import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import haliax as hax
import haliax.nn as hnn

Batch, Pos, Vocab = hax.make_axes(batch=2, pos=3, vocab=5)
logits = hax.named(jax.random.normal(jax.random.PRNGKey(0), (2, 3, 5)), (Batch, Pos, Vocab))
ids = hax.named(jnp.array([[0, 1, 4], [2, 3, 3]]), (Batch, Pos))


def test_cross_entropy_matches_optax_for_one_hot_and_integer_targets():
    ref = optax.softmax_cross_entropy_with_integer_labels(logits.array, ids.array)
    per = hnn.cross_entropy_loss(logits, Vocab, hnn.one_hot(ids, Vocab), reduction=None)
    assert per.axes == (Batch, Pos)
    np.testing.assert_allclose(per.array, ref, rtol=1e-5)
    np.testing.assert_allclose(
        hnn.cross_entropy_loss(logits, Vocab, ids, reduction=None).array, ref, rtol=1e-5
    )
    np.testing.assert_allclose(hnn.cross_entropy_loss(logits, Vocab, ids).array, ref.mean(), rtol=1e-5)


def test_cross_entropy_where_and_reduction_axis():
    where = hax.named(jnp.array([[True, True, False], [True, False, False]]), (Batch, Pos))
    ref = optax.softmax_cross_entropy_with_integer_labels(logits.array, ids.array)
    masked = hnn.cross_entropy_loss(logits, Vocab, ids, where=where)
    np.testing.assert_allclose(masked.array, ref[np.asarray(where.array)].mean(), rtol=1e-5)
    per_batch = hnn.cross_entropy_loss(logits, Vocab, ids, reduction=hax.sum, reduction_axis=Pos)
    assert per_batch.axes == (Batch,)
    np.testing.assert_allclose(per_batch.array, ref.sum(1), rtol=1e-5)


def test_loss_and_log_normalizers():
    loss, lse = hnn.cross_entropy_loss_and_log_normalizers(logits, Vocab, hnn.one_hot(ids, Vocab))
    np.testing.assert_allclose(lse.array, jax.nn.logsumexp(logits.array, -1), rtol=1e-6)
    assert loss.axes == lse.axes == (Batch, Pos)


def test_binary_cross_entropy_matches_optax():
    t = hax.named(
        (jax.random.uniform(jax.random.PRNGKey(1), (2, 3, 5)) > 0.5).astype(jnp.float32), logits.axes
    )
    ref = optax.sigmoid_binary_cross_entropy(logits.array, t.array)
    np.testing.assert_allclose(hnn.binary_cross_entropy_loss(logits, t).array, ref.mean(), rtol=1e-5)


def test_reduce_loss_defaults_and_errors():
    per = hnn.cross_entropy_loss(logits, Vocab, ids, reduction=None)
    assert hnn.reduce_loss(per).axes == ()
    assert hnn.loss.maybe_reduce_loss(per, None, None, None) is per
    with pytest.raises(ValueError, match=r"reduce_loss: axis 'vocab' not found in \{batch: 2, pos: 3\}"):
        hnn.reduce_loss(per, reduction_axis=Vocab)
    with pytest.raises(ValueError, match=r"cross_entropy_loss: axis 'label' not found"):
        hnn.cross_entropy_loss(logits, "label", ids)


def test_integer_targets_take_the_lean_kernel_and_match_the_one_hot_loss_and_grads() -> None:
    import numpy as np

    B, V = hax.make_axes(batch=3, vocab=7)
    logits = hax.random.normal(jax.random.PRNGKey(0), (B, V)).astype(jnp.bfloat16)
    ids = hax.named(jnp.array([0, 6, 3]), (B,))

    def lean(x):
        return hnn.cross_entropy_loss(x, V, ids).scalar()

    def dense(x):
        return hnn.cross_entropy_loss(x.astype(jnp.float32), V, hnn.one_hot(ids, V)).scalar()

    lv, lg = jax.value_and_grad(lean)(logits)
    dv, dg = jax.value_and_grad(dense)(logits)
    assert lv.dtype == jnp.float32
    assert lg.dtype == jnp.bfloat16 and lg.axes == logits.axes
    np.testing.assert_allclose(lv, dv, rtol=1e-6)
    np.testing.assert_allclose(lg.array.astype(np.float32), dg.array, rtol=1e-2, atol=1e-3)


def test_loss_errors_name_the_loss_op():
    B, V = hax.make_axes(b=2, v=3)
    logits = hax.zeros((B, V))
    with pytest.raises(ValueError, match=r"^cross_entropy_loss: axis 'v' has size 4 in one place and 3"):
        hnn.cross_entropy_loss(logits, V, hax.zeros((B, V.resize(4))))
    with pytest.raises(
        ValueError, match=r"^binary_cross_entropy_loss: axis 'b' has size 3 in one place and 2"
    ):
        hnn.binary_cross_entropy_loss(logits, hax.zeros((B.resize(3), V)))


def test_reduction_given_by_name_is_a_type_error_suggesting_the_function():
    B, V = hax.make_axes(b=2, v=3)
    with pytest.raises(
        TypeError, match=r"cross_entropy_loss: reduction must be a function .* for 'mean' pass hax.mean"
    ):
        hnn.cross_entropy_loss(hax.zeros((B, V)), V, hax.zeros((B, V)), reduction="mean")


def test_empty_reduction_axis_keeps_the_loss_and_where_zeroes_it():
    B = hax.Axis("b", 3)
    loss = hax.named(jnp.array([1.0, jnp.nan, 3.0]), (B,))
    keep = hax.named(jnp.array([True, False, True]), (B,))
    out = hnn.reduce_loss(loss, hax.mean, reduction_axis=(), where=keep)
    np.testing.assert_array_equal(out.array, [1.0, 0.0, 3.0])  # a where, not a multiply: nan is dropped
    np.testing.assert_array_equal(hnn.reduce_loss(loss, None, where=keep).array, [1.0, 0.0, 3.0])


def test_custom_reduction_is_called_with_axis_and_where_keywords():
    B = hax.Axis("b", 3)
    seen = {}

    def reduction(arr, *, axis=None, where=None):
        seen.update(axis=axis, where=where)
        return hax.sum(arr, axis=axis, where=where)

    hnn.reduce_loss(hax.ones(B), reduction, reduction_axis=B)
    assert seen == {"axis": B, "where": None}


def test_binary_cross_entropy_broadcasts_targets_by_name():
    # as in Haliax: targets with a subset of the logits' axes are shared along the others
    B, V = hax.make_axes(b=2, v=3)
    logits = hax.random.normal(jax.random.PRNGKey(1), (B, V))
    t = hax.named(jnp.array([0.0, 1.0]), B)
    ref = optax.sigmoid_binary_cross_entropy(logits.array, jnp.broadcast_to(t.array[:, None], (2, 3)))
    out = hnn.binary_cross_entropy_loss(logits, t, reduction=None)
    assert {ax.name: ax.size for ax in out.axes} == {"b": 2, "v": 3}
    np.testing.assert_allclose(out.rearrange((B, V)).array, ref, rtol=1e-5)
