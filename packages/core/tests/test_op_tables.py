"""One table-driven test over every op built by the `lift` factories, checked against its jnp original.

Ops are discovered by the ``__wrapped_jnp__`` attribute the factories set, so a new table line is
tested without touching this file. The factory that built an op is read off its signature.
"""

import inspect

import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax._src.ops import compare, fft, matrix, poly, reductions, select, ufuncs, wrap

B, E = hax.Axis("batch", 2), hax.Axis("embed", 3)
MODULES = (ufuncs, reductions, compare, select, matrix, fft, poly, wrap)
INT_OPS = ("bitwise", "shift", "invert")
# jnp has no identity for these, so a where= mask would need `initial`.
NO_IDENTITY = {"max", "min", "amax", "amin", "nanmax", "nanmin"}


def _discover():
    seen, out = set(), []
    for mod in MODULES:
        for name, obj in sorted(vars(mod).items()):
            if callable(obj) and hasattr(obj, "__wrapped_jnp__") and id(obj) not in seen:
                seen.add(id(obj))
                out.append((name, obj))
    return out


OPS = _discover()


def _kind(op):
    params = list(inspect.signature(op).parameters)
    if "where" in params:
        return "reduction"
    if params[:2] == ["a", "b"]:
        return "binary"
    if params[:2] == ["a", "axis"]:
        return "along_axis"
    assert params[0] == "a", params
    return "unary"


def _of_kind(kind):
    return [pytest.param(name, op, id=name) for name, op in OPS if _kind(op) == kind]


def _data(name, shape, seed=0):
    rng = np.random.default_rng(seed)
    if any(k in name for k in INT_OPS):
        return jnp.asarray(rng.integers(1, 5, size=shape), dtype=jnp.int32)
    return jnp.asarray(rng.uniform(0.1, 0.9, size=shape), dtype=jnp.float32)


def _close(actual, expected):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=1e-6, atol=1e-6, equal_nan=True)


def test_discovery_finds_every_table():
    kinds = {_kind(op) for _, op in OPS}
    assert kinds == {"unary", "binary", "reduction", "along_axis"}
    assert len(OPS) >= 125


@pytest.mark.parametrize(("name", "op"), [pytest.param(n, o, id=n) for n, o in OPS])
def test_op_metadata(name, op):
    assert op.__name__ == name
    assert op.__module__ == "haliax"
    doc = op.__doc__
    assert doc and doc.strip().splitlines()[0]
    assert f".{op.__wrapped_jnp__.__name__}`" in doc
    assert getattr(hax, name) is op  # every table op is public at the top level


@pytest.mark.parametrize(("name", "op"), _of_kind("unary"))
def test_unary_matches_jnp(name, op):
    raw = _data(name, (2, 3))
    x = hax.named(raw, (B, E))
    out = op(x)
    assert out.axes == (B, E)
    _close(out.array, op.__wrapped_jnp__(raw))
    flipped = op(hax.named(raw.T, (E, B)))
    assert flipped.axes == (E, B)
    _close(flipped.array, op.__wrapped_jnp__(raw).T)


@pytest.mark.parametrize(("name", "op"), _of_kind("binary"))
def test_binary_matches_jnp_and_broadcasts_by_name(name, op):
    fn = op.__wrapped_jnp__
    a_raw, b_raw = _data(name, (2, 3), 0), _data(name, (2, 3), 1)
    a = hax.named(a_raw, (B, E))
    same = op(a, hax.named(b_raw, (B, E)))
    assert same.axes == (B, E)
    _close(same.array, fn(a_raw, b_raw))
    # the second operand's axes in the other order: matched by name, result in the first's order
    permuted = op(a, hax.named(b_raw.T, (E, B)))
    assert permuted.axes == (B, E)
    _close(permuted.array, fn(a_raw, b_raw))
    # a subset operand broadcasts, from either side
    row = b_raw[0]
    sub = op(a, hax.named(row, (E,)))
    assert sub.axes == (B, E)
    _close(sub.array, fn(a_raw, row[None, :]))
    rsub = op(hax.named(row, (E,)), a)
    assert rsub.axes == (B, E)
    _close(rsub.array, fn(row[None, :], a_raw))
    # scalars broadcast
    _close(op(a, 2).array, fn(a_raw, 2))


@pytest.mark.parametrize(("name", "op"), _of_kind("binary"))
def test_binary_refuses_outer_products(name, op):
    a = hax.named(_data(name, (2,)), (B,))
    b = hax.named(_data(name, (3,)), (E,))
    with pytest.raises(ValueError) as err:
        op(a, b)
    assert str(err.value) == (
        f"{name}: cannot broadcast {{batch: 2}} with {{embed: 3}}: neither operand's axes contain the "
        f"other's, so this would be an outer product; if you mean one, add the missing axes explicitly "
        f"with x.broadcast_axis(...) or hax.broadcast_to(...)"
    )


@pytest.mark.parametrize(("name", "op"), _of_kind("reduction"))
def test_reduction_matches_jnp(name, op):
    fn = op.__wrapped_jnp__
    raw = _data(name, (2, 3))
    x = hax.named(raw, (B, E))
    out = op(x, "embed")
    assert out.axes == (B,)
    _close(out.array, fn(raw, axis=1))
    # the same axis, wherever it sits
    flipped = op(hax.named(raw.T, (E, B)), E)
    assert flipped.axes == (B,)
    _close(flipped.array, fn(raw, axis=1))
    everything = op(x)
    assert everything.axes == ()
    _close(everything.array, fn(raw, axis=None))
    single = inspect.getclosurevars(op).nonlocals["single_axis"]
    if not single:
        both = op(x, ("embed", "batch"))
        assert both.axes == ()
        _close(both.array, fn(raw, axis=(0, 1)))


@pytest.mark.parametrize(("name", "op"), _of_kind("reduction"))
def test_reduction_where_broadcasts_by_name(name, op):
    closure = inspect.getclosurevars(op).nonlocals
    raw = _data(name, (2, 3))
    x = hax.named(raw, (B, E))
    mask = jnp.array([True, False, True])
    if not closure["supports_where"]:
        with pytest.raises(TypeError, match=f"^{name}: does not take a where= mask$"):
            op(x, "embed", where=hax.named(mask, (E,)))
        return
    if name in NO_IDENTITY:
        pytest.skip("jnp needs `initial` for a where= mask here")
    out = op(x, "embed", where=hax.named(mask, (E,)))
    _close(out.array, op.__wrapped_jnp__(raw, axis=1, where=jnp.broadcast_to(mask, (2, 3))))


@pytest.mark.parametrize(("name", "op"), _of_kind("reduction") + _of_kind("along_axis"))
def test_missing_axis_error_names_the_op(name, op):
    x = hax.named(_data(name, (2, 3)), (B, E))
    with pytest.raises(ValueError) as err:
        op(x, "embd")
    assert str(err.value) == f"{name}: axis 'embd' not found in {{batch: 2, embed: 3}}; did you mean 'embed'?"
    with pytest.raises(TypeError, match=f"^{name}: got an unnamed array, which has no axis 'embed';"):
        op(x.array, "embed")


@pytest.mark.parametrize(("name", "op"), _of_kind("reduction") + _of_kind("along_axis"))
def test_unnamed_arrays_go_straight_to_jnp(name, op):
    raw = _data(name, (2, 3))
    _close(op(raw, 1), op.__wrapped_jnp__(raw, axis=1))


@pytest.mark.parametrize(("name", "op"), _of_kind("reduction"))
def test_reductions_map_over_pytrees_of_named_arrays(name, op):
    raw = _data(name, (2, 3))
    out = op({"a": hax.named(raw, (B, E)), "b": [hax.named(raw.T, (E, B))]}, "embed")
    assert out["a"].axes == out["b"][0].axes == (B,)
    _close(out["b"][0].array, op.__wrapped_jnp__(raw, axis=1))


@pytest.mark.parametrize(("name", "op"), _of_kind("along_axis"))
def test_along_axis_none_works_on_the_flattened_array(name, op):
    raw = _data(name, (2, 3))
    out = op(hax.named(raw, (B, E)), None)
    assert not isinstance(out, hax.NamedArray)
    _close(out, op.__wrapped_jnp__(raw, axis=None))


@pytest.mark.parametrize(("name", "op"), _of_kind("along_axis"))
def test_along_axis_matches_jnp(name, op):
    fn = op.__wrapped_jnp__
    raw = _data(name, (2, 3))
    out = op(hax.named(raw, (B, E)), "embed")
    assert out.axes == (B, E)
    _close(out.array, fn(raw, axis=1))
    flipped = op(hax.named(raw.T, (E, B)), "embed")
    assert flipped.axes == (E, B)
    _close(flipped.array, fn(raw, axis=1).T)
