"""Names cost nothing: a named GPT-style stack compiles to the same program as its positional twin.

The named model uses hnn.Embedding, hnn.Linear, hnn.LayerNorm, hnn.MLP, attention and hnn.Stacked;
the raw model is the same computation written with jnp/lax on the same parameters. We compare
the optimized HLO of ``value_and_grad`` (op counts by opcode) and the compiled temp memory.

Documented slack: XLA's fusion decisions can differ by a handful of ops between two equivalent
programs written in different styles (a reshape where the other has a broadcast). So: the same
number of matmuls, no more transposes, at most `OP_SLACK` more HLO instructions in total (counted
over every computation, fused ones included; today the named program is the smaller one, because
its dot_generals keep operand layouts where the einsum twin transposes), and temp memory within 2%.
"""

import collections
import re

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import haliax as hax
import haliax.nn as hnn
from haliax.nn import attention as attn

Batch, Pos, Embed, Heads, Key, Vocab, Layers = hax.make_axes(
    batch=2, position=16, embed=32, heads=4, key=8, vocab=64, layers=2
)
KPos = Pos.alias("key_position")
OP_SLACK = 6


class Block(eqx.Module):
    ln1: hnn.LayerNorm
    qkv: hnn.Linear
    out: hnn.Linear
    ln2: hnn.LayerNorm
    mlp: hnn.MLP

    @staticmethod
    def init(*, key):
        k1, k2, k3 = jax.random.split(key, 3)
        Qkv = hax.Axis("qkv", 3)
        return Block(
            hnn.LayerNorm.init(Embed),
            hnn.Linear.init(Embed, (Qkv, Heads, Key), key=k1),
            hnn.Linear.init((Heads, Key), Embed, key=k2),
            hnn.LayerNorm.init(Embed),
            hnn.MLP.init(Embed, Embed.alias("embed_out"), width=64, depth=1, activation=hnn.gelu, key=k3),
        )

    def __call__(self, x, mask):
        qkv = self.qkv(self.ln1(x))
        q, k, v = qkv["qkv", 0], qkv["qkv", 1], qkv["qkv", 2]
        k = k.rename({"position": "key_position"})
        v = v.rename({"position": "key_position"})
        a = attn.dot_product_attention(KPos, Key, q, k, v, mask=mask)
        x = x + self.out(a)
        return x + self.mlp(self.ln2(x)).rename({"embed_out": "embed"})


class Model(eqx.Module):
    embed: hnn.Embedding
    blocks: hnn.Stacked
    ln_f: hnn.LayerNorm

    def __call__(self, ids):
        mask = attn.causal_mask(Pos, KPos)
        x = self.embed(ids)
        x = self.blocks.fold(x, mask)
        return self.embed.unembed(self.ln_f(x))


def _named_model():
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    blocks = hnn.Stacked.init(Layers, Block)(key=jax.random.split(k2, Layers.size))
    return Model(hnn.Embedding.init(Vocab, Embed, key=k1), blocks, hnn.LayerNorm.init(Embed))


def named_loss(model, ids, targets):
    logits = model(ids)
    return hnn.cross_entropy_loss(logits, Vocab, targets).scalar()


# ----- the same model on raw arrays -----
def _ln(x, w, b):
    m = jnp.mean(x, -1, keepdims=True)
    c = x - m
    v = jnp.mean(c * c, -1, keepdims=True)
    return c * jax.lax.rsqrt(v + 1e-5) * w + b


def raw_loss(p, ids, targets):
    x = jnp.take(p["embed"], ids, axis=0)  # [b, s, e]
    mask = jnp.arange(Pos.size)[:, None] >= jnp.arange(Pos.size)[None, :]

    def block(x, lp):
        h = _ln(x, lp["ln1_w"], lp["ln1_b"])
        qkv = jnp.einsum("bse,thde->bsthd", h, lp["qkv_w"]) + lp["qkv_b"]
        q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
        s = jnp.einsum("bqhd,bkhd->bhqk", q / jnp.sqrt(Key.size).astype(q.dtype), k)
        s = jnp.where(mask, s, -1e9)
        w = jax.nn.softmax(s, axis=-1)
        a = jnp.einsum("bhqk,bkhd->bhqd", w, v)
        x = x + jnp.einsum("bhqd,ehd->bqe", a, lp["out_w"]) + lp["out_b"]
        h = _ln(x, lp["ln2_w"], lp["ln2_b"])
        # the library's gelu on a raw array (jax.nn.gelu's values, a derivative keeping one tensor)
        h = hnn.gelu(jnp.einsum("bse,me->bsm", h, lp["up_w"]) + lp["up_b"])
        return x + jnp.einsum("bsm,em->bse", h, lp["down_w"]) + lp["down_b"], None

    x, _ = jax.lax.scan(block, x, p["layers"])
    x = _ln(x, p["lnf_w"], p["lnf_b"])
    logits = jnp.einsum("bse,ve->bsv", x, p["embed"])
    lse = jax.nn.logsumexp(logits, -1)
    picked = jnp.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
    return jnp.mean(lse - picked)


def _raw_params(model):
    b = model.blocks.stacked
    a = lambda n: n.array
    return {
        "embed": a(model.embed.weight),
        "lnf_w": a(model.ln_f.weight),
        "lnf_b": a(model.ln_f.bias),
        "layers": {
            "ln1_w": a(b.ln1.weight), "ln1_b": a(b.ln1.bias),
            "qkv_w": a(b.qkv.weight), "qkv_b": a(b.qkv.bias),
            "out_w": a(b.out.weight), "out_b": a(b.out.bias),
            "ln2_w": a(b.ln2.weight), "ln2_b": a(b.ln2.bias),
            "up_w": a(b.mlp.layers[0].weight), "up_b": a(b.mlp.layers[0].bias),
            "down_w": a(b.mlp.layers[1].weight), "down_b": a(b.mlp.layers[1].bias),
        },
    }  # fmt: skip


def _op_counts(compiled):
    ops = collections.Counter()
    for line in compiled.as_text().splitlines():
        m = re.match(r"\s*(?:ROOT )?%?[\w.\-]+ = [^ ]+(?: [^ ]+)*? ([a-z][\w\-]*)\(", line)
        if m:
            ops[m.group(1)] += 1
    return ops


def test_named_gpt_stack_compiles_like_raw_jax():
    model = _named_model()
    params = _raw_params(model)
    ids = jax.random.randint(jax.random.PRNGKey(1), (Batch.size, Pos.size), 0, Vocab.size)
    targets = jax.random.randint(jax.random.PRNGKey(2), (Batch.size, Pos.size), 0, Vocab.size)
    n_ids, n_targets = hax.named(ids, (Batch, Pos)), hax.named(targets, (Batch, Pos))

    named_fn = eqx.filter_jit(eqx.filter_value_and_grad(named_loss))
    raw_fn = jax.jit(jax.value_and_grad(raw_loss))
    with jax.numpy_rank_promotion("allow"):  # the positional twin broadcasts biases implicitly
        rv, rg = raw_fn(params, ids, targets)
        raw_c = raw_fn.lower(params, ids, targets).compile()
    nv, ng = named_fn(model, n_ids, n_targets)
    np.testing.assert_allclose(nv, rv, rtol=1e-5)
    np.testing.assert_allclose(
        ng.blocks.stacked.qkv.weight.array, rg["layers"]["qkv_w"], rtol=1e-3, atol=1e-6
    )

    # eqx.filter_jit is typed as returning a plain callable; its wrapper has jax's .lower too
    lowered = named_fn.lower(model, n_ids, n_targets)  # pyright: ignore[reportFunctionMemberAccess]
    named_c = lowered.compile().compiled  # the jax Compiled inside
    n_ops, r_ops = _op_counts(named_c), _op_counts(raw_c)
    assert n_ops["dot"] + n_ops["convolution"] == r_ops["dot"] + r_ops["convolution"], (n_ops, r_ops)
    assert n_ops["transpose"] <= r_ops["transpose"], (n_ops, r_ops)
    assert sum(n_ops.values()) <= sum(r_ops.values()) + OP_SLACK, (n_ops, r_ops)
    n_analysis, r_analysis = named_c.memory_analysis(), raw_c.memory_analysis()
    assert n_analysis is not None and r_analysis is not None
    n_mem, r_mem = n_analysis.temp_size_in_bytes, r_analysis.temp_size_in_bytes
    assert abs(n_mem - r_mem) <= 0.02 * r_mem, (n_mem, r_mem)
