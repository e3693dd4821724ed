"""The attention example from the project seed (Haliax's README), run unchanged as a test.

The only addition is ``import haliax.nn``: the example's body refers to ``haliax.nn.softmax``.
"""

import equinox as eqx
import jax
import jax.numpy as jnp

import haliax as hax
import haliax.nn
import haliax.nn as hnn

# The example stays byte-for-byte as the README has it.
# fmt: off
Pos = hax.Axis("position", 1024)  # sequence length
KPos = Pos.alias("key_position")
Head = hax.Axis("head", 8)  # number of attention heads
Key = hax.Axis("key", 64)  # key size
Embed = hax.Axis("embed", 512)  # embedding size

# alternatively:
#Pos, KPos, Head, Key, Embed = hax.make_axes(pos=1024, key_pos=1024, head=8, key=64, embed=512)


def attention_scores(Key, KPos, query, key, mask):
    # how similar is each query to each key
    scores = hax.dot(query, key, axis=Key) / jnp.sqrt(Key.size)

    if mask is not None:
        scores -= 1E9 * (1.0 - mask)

    # convert to probabilities
    scores = haliax.nn.softmax(scores, KPos)
    return scores


def attention(Key, KPos, query, key, value, mask):
    scores = attention_scores(Key, KPos, query, key, mask)
    answers = hax.dot(scores, value, axis=KPos)

    return answers


# Causal Mask means that if pos >= key_pos, then pos can attend to key_pos
causal_mask = hax.arange(Pos).broadcast_axis(KPos) >= hax.arange(KPos)


class Attention(eqx.Module):
    proj_q: hnn.Linear  # [Embed] -> [Head, Key]
    proj_k: hnn.Linear  # [Embed] -> [Head, Key]
    proj_v: hnn.Linear  # [Embed] -> [Head, Key]
    proj_answer: hnn.Linear  # output projection from [Head, Key] -> [Embed]

    @staticmethod
    def init(Embed, Head, Key, *, key):
        k_q, k_k, k_v, k_ans = jax.random.split(key, 4)
        proj_q = hnn.Linear.init(In=Embed, Out=(Head, Key), key=k_q)
        proj_k = hnn.Linear.init(In=Embed, Out=(Head, Key), key=k_k)
        proj_v = hnn.Linear.init(In=Embed, Out=(Head, Key), key=k_v)
        proj_answer = hnn.Linear.init(In=(Head, Key), Out=Embed, key=k_ans)
        return Attention(proj_q, proj_k, proj_v, proj_answer)

    def __call__(self, x, mask=None):
        q = self.proj_q(x)
        # Rename "position" to "key_position" for self attention
        k = self.proj_k(x).rename({"position": "key_position"})
        v = self.proj_v(x).rename({"position": "key_position"})

        answers = attention(Key, KPos, q, k, v, causal_mask)

        x = self.proj_answer(answers)
        return x


# fmt: on


# ----- the test: call the example once on a batch-free input and check it against positional jnp -----
def test_seed_attention_example_runs_and_matches_positional_attention():
    import numpy as np

    model = Attention.init(Embed, Head, Key, key=jax.random.PRNGKey(0))
    x = hax.named(jax.random.normal(jax.random.PRNGKey(1), (Pos.size, Embed.size)), (Pos, Embed))
    out = eqx.filter_jit(model)(x)
    assert out.axes == (Pos, Embed)

    def proj(lin, a):
        return jnp.einsum("pe,hke->phk", a, lin.weight.array) + lin.bias.array[None]

    qa, ka, va = (proj(m, x.array) for m in (model.proj_q, model.proj_k, model.proj_v))
    s = jnp.einsum("qhd,khd->hqk", qa, ka) / jnp.sqrt(Key.size)
    s = s - 1e9 * (1.0 - jnp.tril(jnp.ones((Pos.size, Pos.size)))[None])
    w = jax.nn.softmax(s, axis=-1)
    ans = jnp.einsum("hqk,khd->qhd", w, va)
    assert model.proj_answer.bias is not None
    ref = jnp.einsum("qhd,ehd->qe", ans, model.proj_answer.weight.array) + model.proj_answer.bias.array[None]
    np.testing.assert_allclose(out.array, ref, rtol=5e-3, atol=5e-3)  # loose enough for TF32 on GPU
