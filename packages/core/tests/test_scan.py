import contextlib
import io

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.ad_checkpoint import checkpoint_name, print_saved_residuals

import haliax as hax
from haliax import Axis, ScanCheckpointPolicy


def _x(shape=(2, 3), names=("batch", "step")):
    return hax.named(jnp.arange(np.prod(shape), dtype=jnp.float32).reshape(shape), names)


def _residuals(f, *args) -> list[str]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        print_saved_residuals(f, *args)
    return [line for line in buf.getvalue().splitlines() if line.strip()]


def test_scan_matches_lax_scan_with_axis_not_leading():
    x = _x()
    init = hax.named(jnp.zeros(2), "batch")
    carry, ys = hax.scan(lambda c, xi: (c + xi, c * 2.0), "step")(init, x)

    def ref(c, xi):
        return c + xi, c * 2.0

    ref_carry, ref_ys = jax.lax.scan(ref, jnp.zeros(2), x.array.T)
    assert carry.axes == (Axis("batch", 2),)
    assert ys.axes == (Axis("step", 3), Axis("batch", 2))
    np.testing.assert_allclose(carry.array, ref_carry)
    np.testing.assert_allclose(ys.array, ref_ys)


def test_scan_moves_axis_with_one_transpose_only_when_not_leading():
    init = hax.named(jnp.zeros(2), "batch")
    step = lambda c, xi: (c + xi, None)
    leading = jax.make_jaxpr(lambda x: hax.scan(step, "step")(init, x))(_x((3, 2), ("step", "batch")))
    middle = jax.make_jaxpr(lambda x: hax.scan(step, "step")(init, x))(_x((2, 3), ("batch", "step")))
    assert sum(e.primitive.name == "transpose" for e in leading.jaxpr.eqns) == 0
    assert sum(e.primitive.name == "transpose" for e in middle.jaxpr.eqns) == 1
    assert sum(e.primitive.name == "scan" for e in middle.jaxpr.eqns) == 1


def test_scan_reverse_matches_lax_scan():
    x = _x((3, 2), ("step", "batch"))
    init = hax.named(jnp.zeros(2), "batch")
    carry, ys = hax.scan(lambda c, xi: (c * 0.5 + xi, c), "step", reverse=True)(init, x)
    ref_c, ref_ys = jax.lax.scan(lambda c, xi: (c * 0.5 + xi, c), jnp.zeros(2), x.array, reverse=True)
    np.testing.assert_allclose(carry.array, ref_c)
    np.testing.assert_allclose(ys.array, ref_ys)


def test_scan_unnamed_arrays_scan_first_dim_and_scalars_pass_through():
    x = _x((3, 2), ("step", "batch"))
    raw = jnp.arange(3.0)
    seen = []

    def step(c, xi, r, scale, tag):
        seen.append((r.shape, tag))
        return c + xi * scale + r, r

    carry, ys = hax.scan(step, "step")(hax.named(jnp.zeros(2), "batch"), x, raw, jnp.float32(2.0), "hello")
    np.testing.assert_allclose(carry.array, x.array.sum(0) * 2 + raw.sum())
    np.testing.assert_allclose(ys, raw)
    assert seen[0] == ((), "hello")


def test_scan_keyword_inputs_are_scanned():
    x = _x((3, 2), ("step", "batch"))
    carry, _ = hax.scan(lambda c, *, xi: (c + xi, None), "step")(hax.named(jnp.zeros(2), "batch"), xi=x)
    np.testing.assert_allclose(carry.array, x.array.sum(0))


def test_scan_is_scanned_leaves_a_named_array_whole():
    x = _x((3, 2), ("step", "batch"))
    bias = _x((3,), ("step",))

    def step(c, xi, b):
        assert b.axes == (Axis("step", 3),)
        return c + xi, None

    carry, _ = hax.scan(step, "step", is_scanned=lambda leaf: leaf is not bias)(
        hax.named(jnp.zeros(2), "batch"), x, bias
    )
    np.testing.assert_allclose(carry.array, x.array.sum(0))


def test_scan_with_sized_axis_and_no_inputs():
    carry, ys = hax.scan(lambda c: (c + 1, c), Axis("step", 4))(jnp.int32(0))
    assert int(carry) == 4
    np.testing.assert_array_equal(ys, [0, 1, 2, 3])


def test_scan_unroll_gives_the_same_result():
    x = _x((4, 2), ("step", "batch"))
    init = hax.named(jnp.zeros(2), "batch")
    f = lambda c, xi: (hax.sin(c) + xi, c)
    a = hax.scan(f, "step")(init, x)
    b = hax.scan(f, "step", unroll=2)(init, x)
    np.testing.assert_allclose(a[0].array, b[0].array, rtol=1e-6)
    np.testing.assert_allclose(a[1].array, b[1].array, rtol=1e-6)


def test_scan_under_jit_and_filter_jit():
    x = _x((3, 2), ("step", "batch"))
    init = hax.named(jnp.zeros(2), "batch")
    f = lambda c, xi: (c + xi, c)
    eager = hax.scan(f, "step")(init, x)
    jitted = jax.jit(lambda i, xx: hax.scan(f, "step")(i, xx))(init, x)
    filtered = eqx.filter_jit(lambda i, xx, name: hax.scan(f, name)(i, xx))(init, x, "step")
    for out in (jitted, filtered):
        assert out[1].axes == eager[1].axes
        np.testing.assert_allclose(out[0].array, eager[0].array)


def test_fold_returns_the_final_carry():
    x = _x()
    out = hax.fold(lambda c, xi: c + xi, "step")(hax.named(jnp.zeros(2), "batch"), x)
    np.testing.assert_allclose(out.array, x.array.sum(1))


def test_map_stacks_named_and_unnamed_outputs():
    x = _x()
    named_out, raw_out = hax.map(lambda xi: (xi * 2, xi.array.sum()), "step")(x)
    assert named_out.axes == (Axis("step", 3), Axis("batch", 2))
    np.testing.assert_allclose(named_out.array, 2 * x.array.T)
    np.testing.assert_allclose(raw_out, x.array.sum(0))


def test_scan_error_for_named_array_without_the_axis():
    with pytest.raises(ValueError) as e:
        hax.scan(lambda c, a, b: (c, None), "step")(0.0, _x(), {"w": _x((2,), ("batch",))})
    assert str(e.value) == (
        "scan: axis 'step' not found in {batch: 2} at b['w']; "
        "give every scanned NamedArray the axis, or leave this one out with is_scanned=..."
    )


def test_scan_error_for_disagreeing_sizes_names_the_step_parameters():
    with pytest.raises(ValueError) as e:
        hax.scan(lambda c, a, b: (c, None), "step")(0.0, _x(), jnp.zeros(5))
    assert str(e.value) == (
        "scan: scanning 'step' of length 3 (a has axis 'step' of size 3), but b has leading dimension 5; "
        "every scanned input must have the same length along 'step'"
    )
    with pytest.raises(
        ValueError,
        match=r"^scan: scanning 'step' of length 4 \(the axis \{step: 4\}\), but a has axis 'step' of size 3;",
    ):
        hax.scan(lambda c, a: (c, None), Axis("step", 4))(0.0, _x())


def test_scan_error_names_keyword_inputs_and_module_fields():
    class Holder(eqx.Module):
        w: jax.Array

    with pytest.raises(ValueError, match=r"but y has leading dimension 1;"):
        hax.scan(lambda c, x, y: (c, None), Axis("step", 2))(0.0, jnp.zeros((2, 3)), y=jnp.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"but holder\.w has leading dimension 1;"):
        hax.scan(lambda c, holder: (c, None), Axis("step", 2))(0.0, Holder(jnp.zeros((1, 3))))
    with pytest.raises(ValueError, match=r"^fold: .* but xs\[1\] has leading dimension 3;"):
        hax.fold(lambda c, *xs: c, "step")(0.0, jnp.zeros(2), jnp.zeros(3))


def test_scan_step_returning_a_bare_carry_says_what_to_return():
    with pytest.raises(TypeError) as e:
        hax.scan(lambda c, x: c + x, "step")(hax.zeros(Axis("batch", 2)), _x())
    assert str(e.value) == (
        "scan: the step must return (carry, output), got {batch: 2}; "
        "return (new_carry, None) for no output, or use hax.fold to keep only the carry"
    )


def test_scan_mixes_a_zero_d_named_carry_with_an_unnamed_init():
    init = jnp.arange(3.0)
    xs = hax.named(jnp.arange(4.0), "step")
    total, _ = hax.scan(lambda c, x: (c + x * 2.0, None), "step")(init, xs)
    np.testing.assert_allclose(total, init + 12.0)


def test_scan_error_when_length_is_unknown():
    with pytest.raises(ValueError) as e:
        hax.scan(lambda c: (c, None), "step")(0.0)
    assert str(e.value) == (
        "scan: no input has axis 'step', so its length is unknown; pass a sized axis such as hax.Axis('step', n)"
    )


def test_scan_error_when_the_carry_changes_axis_order():
    init = hax.named(jnp.zeros((2, 4)), ("batch", "embed"))
    with pytest.raises(TypeError) as e:
        hax.scan(lambda c, xi: (_t(c), None), "step")(init, _x())
    assert str(e.value) == (
        "scan: the carry at carry comes in as {batch: 2, embed: 4} but goes out as {embed: 4, batch: 2}; "
        "a step must return the carry with the same axes in the same order (use .rearrange to fix the order)"
    )


def _t(c):
    return hax.NamedArray._new(c.array.T, c.axes[::-1])


def test_scan_error_when_an_output_already_has_the_axis():
    with pytest.raises(ValueError, match=r"^map: the step output at ys already has axis 'step' \{step: 3\}"):
        hax.map(lambda xi: hax.named(jnp.zeros(3), "step"), "step")(_x())


def test_checkpoint_policy_from_bool_or_str():
    assert ScanCheckpointPolicy.from_bool_or_str(True) == ScanCheckpointPolicy(simple=True)
    assert ScanCheckpointPolicy.from_bool_or_str(False) == ScanCheckpointPolicy(disable=True)
    assert ScanCheckpointPolicy.from_bool_or_str("offload") == ScanCheckpointPolicy(
        save_carries="offload", save_inputs="offload"
    )
    full = ScanCheckpointPolicy(save_carries=False, save_inputs=False)
    assert ScanCheckpointPolicy.from_bool_or_str("recompute") == full
    assert ScanCheckpointPolicy.from_bool_or_str("full") == full
    assert ScanCheckpointPolicy.from_bool_or_str("save_all") == ScanCheckpointPolicy(
        save_carries=True, save_inputs=True, save_block_internals=True
    )
    assert ScanCheckpointPolicy.from_bool_or_str("nested") == ScanCheckpointPolicy(nested=True)
    p = ScanCheckpointPolicy(nested=3)
    assert ScanCheckpointPolicy.from_bool_or_str(p) is p
    with pytest.raises(TypeError) as e:
        ScanCheckpointPolicy.from_bool_or_str("sometimes")
    assert str(e.value) == (
        "ScanCheckpointPolicy: unknown checkpoint policy 'sometimes'; use True, False, 'offload', "
        "'recompute', 'full', 'save_all', 'nested' or a ScanCheckpointPolicy"
    )


def test_checkpoint_policy_is_hashable_with_name_lists():
    p = ScanCheckpointPolicy(save_block_internals=["mid"], offload_block_internals=["attn"])
    assert hash(p) == hash(
        ScanCheckpointPolicy(save_block_internals=("mid",), offload_block_internals=("attn",))
    )
    assert p.save_block_internals == ("mid",)


def test_checkpoint_policy_to_jax_policy():
    assert ScanCheckpointPolicy(save_carries=False).to_jax_policy() is None
    assert ScanCheckpointPolicy(save_block_internals=["mid"]).to_jax_policy() is not None
    assert ScanCheckpointPolicy(save_block_internals=True).to_jax_policy() is not None
    assert ScanCheckpointPolicy.from_bool_or_str("offload").to_jax_policy() is not None
    with pytest.raises(TypeError, match="save_block_internals=True cannot be combined with offloading"):
        ScanCheckpointPolicy(save_block_internals=True, offload_block_internals=["mid"]).to_jax_policy()


def test_nested_outer_size_is_a_divisor_near_sqrt():
    assert ScanCheckpointPolicy(nested=True).nested_outer_size(12) == 3
    assert ScanCheckpointPolicy(nested=True).nested_outer_size(16) == 4
    assert ScanCheckpointPolicy(nested=True).nested_outer_size(7) == 1
    assert ScanCheckpointPolicy(nested=2).nested_outer_size(8) == 2
    assert ScanCheckpointPolicy().nested_outer_size(8) is None


L, E = 4, 3


def _block(c, wl):
    h = checkpoint_name(jnp.sin(wl.array @ c.array), "mid")
    return hax.named(jnp.cos(h) * c.array, "embed")


def _loss(remat):
    x0 = hax.named(jnp.ones(E), "embed")

    def loss(w):
        return hax.fold(_block, "layer", remat=remat)(x0, w).array.sum()

    return loss


_W = hax.named(jnp.linspace(0.0, 1.0, L * E * E).reshape(L, E, E), ("layer", "in", "embed"))


@pytest.mark.parametrize(
    "remat", [False, True, "full", "save_all", "nested", ScanCheckpointPolicy(save_block_internals=["mid"])]
)
def test_checkpoint_policies_do_not_change_gradients(remat):
    ref = jax.grad(_loss(False))(_W)
    got = jax.grad(_loss(remat))(_W)
    np.testing.assert_allclose(got.array, ref.array, rtol=1e-6)


def test_checkpoint_policies_change_what_is_saved():
    none = _residuals(_loss(False), _W)
    simple = _residuals(_loss(True), _W)
    mid = _residuals(_loss(ScanCheckpointPolicy(save_block_internals=["mid"])), _W)
    save_all = _residuals(_loss("save_all"), _W)
    nested = _residuals(_loss("nested"), _W)
    # Plain checkpointing keeps the weights and the per-step carries only; naming "mid" adds it.
    assert len(simple) == 2
    assert len(mid) == 3
    assert len(none) > len(mid)
    assert len(save_all) >= len(mid)
    # Nested: carries are kept only at the 2 block boundaries of the 4 steps.
    assert any("f32[2,3]" in line for line in nested)
    assert not any("f32[4,3]" in line for line in nested)


def test_nested_scan_matches_plain_scan_values():
    x = _x((6, 2), ("step", "batch"))
    init = hax.named(jnp.zeros(2), "batch")
    f = lambda c, xi: (hax.sin(c) + xi, c * 2)
    a = hax.scan(f, "step")(init, x)
    for nested in (True, 2, 3):
        b = hax.scan(f, "step", remat=ScanCheckpointPolicy(nested=nested))(init, x)
        np.testing.assert_allclose(a[0].array, b[0].array, rtol=1e-6)
        np.testing.assert_allclose(a[1].array, b[1].array, rtol=1e-6)
        assert b[1].axes == a[1].axes
