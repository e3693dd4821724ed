import jax
import numpy as np

import haliax as hax
import haliax.nn as hnn

In, Out, Batch = hax.make_axes(embed=4, out=3, batch=2)


def test_mlp_layers_alternate_hidden_axes_and_compute_the_stack():
    mlp = hnn.MLP.init(In, Out, width=5, depth=3, activation=hnn.gelu, key=jax.random.PRNGKey(0))
    names = [(hax.axis_name(lin.In), hax.axis_name(lin.Out)) for lin in mlp.layers]
    assert names == [("embed", "mlp"), ("mlp", "mlp2"), ("mlp2", "mlp"), ("mlp", "out")]
    assert mlp.In == In and mlp.Out == Out
    x = hax.named(jax.random.normal(jax.random.PRNGKey(1), (2, 4)), (Batch, In))
    h = x.array
    for lin in mlp.layers[:-1]:
        assert lin.bias is not None
        h = jax.nn.gelu(h @ lin.weight.array.T + lin.bias.array[None, :])
    last = mlp.layers[-1]
    assert last.bias is not None
    ref = h @ last.weight.array.T + last.bias.array[None, :]
    out = mlp(x)
    assert out.axes == (Batch, Out)
    np.testing.assert_allclose(out.array, ref, rtol=1e-5)


def test_mlp_depth_zero_is_one_linear_and_final_bias_is_optional():
    mlp = hnn.MLP.init(In, Out, width=5, depth=0, key=jax.random.PRNGKey(0), use_final_bias=False)
    assert len(mlp.layers) == 1 and mlp.layers[0].bias is None
    mlp2 = hnn.MLP.init(In, Out, width=hax.Axis("hidden", 7), depth=1, key=jax.random.PRNGKey(0))
    assert mlp2.layers[0].Out == hax.Axis("hidden", 7)
