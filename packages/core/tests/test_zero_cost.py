"""Names cost nothing: named programs trace and compile to what hand-written positional JAX gives."""

import collections
import re

import jax
import jax.extend.core
import jax.numpy as jnp
import numpy as np

import haliax as hax

# Ops that only relabel a shape: jnp's keepdims broadcasting uses broadcast_in_dim where our
# name alignment uses reshape; both are free and XLA compiles them to the same program.
_SHAPE_ONLY = {"reshape": "shape", "broadcast_in_dim": "shape", "squeeze": "shape", "expand_dims": "shape"}


def _primitives(jaxpr: jax.extend.core.Jaxpr) -> list[str]:
    """Primitive names, with nested jaxprs (pjit, custom_jvp) inlined."""
    out = []
    for eqn in jaxpr.eqns:
        subs = [
            v
            for v in eqn.params.values()
            if isinstance(v, (jax.extend.core.ClosedJaxpr, jax.extend.core.Jaxpr))
        ]
        if subs:
            for sub in subs:
                out.extend(_primitives(sub.jaxpr if isinstance(sub, jax.extend.core.ClosedJaxpr) else sub))
        else:
            out.append(eqn.primitive.name)
    return out


def _compiled_ops(f, *args) -> collections.Counter:
    text = jax.jit(f).lower(*args).compile().as_text() or ""
    return collections.Counter(re.findall(r"= \S+ ([a-z][\w-]*)\(", text))


def _assert_same_program(named_fn, positional_fn, named_args, raw_args):
    named_prims = _primitives(jax.make_jaxpr(named_fn)(*named_args).jaxpr)
    raw_prims = _primitives(jax.make_jaxpr(positional_fn)(*raw_args).jaxpr)
    for prim in ("dot_general", "transpose", "copy", "copy_p"):
        assert named_prims.count(prim) == raw_prims.count(prim), (prim, named_prims, raw_prims)
    assert collections.Counter(_SHAPE_ONLY.get(p, p) for p in named_prims) == collections.Counter(
        _SHAPE_ONLY.get(p, p) for p in raw_prims
    ), (named_prims, raw_prims)
    named_ops = _compiled_ops(named_fn, *named_args)
    raw_ops = _compiled_ops(positional_fn, *raw_args)
    assert named_ops == raw_ops
    np.testing.assert_allclose(
        jax.jit(named_fn)(*named_args), jax.jit(positional_fn)(*raw_args), rtol=1e-5, atol=1e-6
    )


def _rand(shape, seed):
    return jnp.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=jnp.float32)


def test_mlp_layer_is_the_positional_program():
    x = hax.named(_rand((4, 8), 0), ("batch", "embed"))
    w1 = hax.named(_rand((8, 16), 1), ("embed", "mlp"))
    b1 = hax.named(_rand((16,), 2), ("mlp",))
    w2 = hax.named(_rand((16, 8), 3), ("mlp", "embed"))

    def named(x, w1, b1, w2):
        h = hax.maximum(hax.dot(x, w1, axis="embed") + b1, 0.0)
        return hax.dot(h, w2, axis="mlp").array

    def positional(x, w1, b1, w2):
        return jnp.maximum(x @ w1 + b1[None, :], 0.0) @ w2

    _assert_same_program(named, positional, (x, w1, b1, w2), (x.array, w1.array, b1.array, w2.array))


def _attention_inputs():
    q = hax.named(_rand((2, 3, 4, 5), 0), ("batch", "pos", "heads", "head_size"))
    k = hax.named(_rand((2, 6, 4, 5), 1), ("batch", "key_pos", "heads", "head_size"))
    v = hax.named(_rand((2, 6, 4, 5), 2), ("batch", "key_pos", "heads", "head_size"))
    return q, k, v


def _positional_attention(q, k, v):
    s = jnp.einsum("bqhd,bkhd->bhqk", q, k)
    p = jnp.exp(s - jnp.max(s, axis=-1, keepdims=True))
    p = p / jnp.sum(p, axis=-1, keepdims=True)
    return jnp.einsum("bhqk,bkhd->bqhd", p, v)


def _softmax_over_keys(s):
    p = hax.exp(s - hax.max(s, "key_pos"))
    return p / hax.sum(p, "key_pos")


def test_attention_with_dot_is_the_positional_program():
    q, k, v = _attention_inputs()

    def named(q, k, v):
        p = _softmax_over_keys(hax.dot(q, k, axis="head_size", out_axes=("batch", "heads", "pos", "key_pos")))
        return hax.dot(p, v, axis="key_pos", out_axes=("batch", "pos", "heads", "head_size")).array

    _assert_same_program(named, _positional_attention, (q, k, v), (q.array, k.array, v.array))


def test_attention_with_einsum_is_the_positional_program():
    q, k, v = _attention_inputs()

    def named(q, k, v):
        s = hax.einsum("-> batch heads pos key_pos", q, k)
        p = _softmax_over_keys(s)
        return hax.einsum("{key_pos ...} -> batch pos heads head_size", p, v).array

    _assert_same_program(named, _positional_attention, (q, k, v), (q.array, k.array, v.array))


def test_rearrange_split_heads_is_the_positional_program():
    x = hax.named(_rand((2, 12, 3), 0), ("batch", "embed", "pos"))

    def named(x):
        return hax.rearrange(
            x, "batch (embed: heads head_size) pos -> batch heads pos head_size", heads=4
        ).array

    def positional(x):
        return x.reshape(2, 4, 3, 3).transpose(0, 1, 3, 2)

    _assert_same_program(named, positional, (x,), (x.array,))


def test_rearrange_transpose_is_one_transpose():
    x = hax.named(_rand((2, 3, 4), 0), ("a", "b", "c"))
    _assert_same_program(
        lambda x: hax.rearrange(x, ("c", ...)).array, lambda x: x.transpose(2, 0, 1), (x,), (x.array,)
    )
