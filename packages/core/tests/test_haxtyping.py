import typing

import jax
import jax.numpy as jnp
import jaxtyping
import pytest

import haliax as hax
from haliax._src.base.errors import NamedTypeError
from haliax.haxtyping import (
    Complex,
    DTypeCategory,
    Float,
    Int,
    Named,
    NamedArrayAxes,
    UInt,
    bf16,
    bool_,
    f32,
    i32,
    matches_axes,
    u8,
)


def _arr(names: str, dtype: typing.Any = jnp.float32) -> hax.NamedArray:
    axes = names.split()
    return hax.named(jnp.zeros(tuple(range(2, 2 + len(axes))), dtype=dtype), tuple(axes))


def _meta(annotation: typing.Any) -> NamedArrayAxes:
    assert typing.get_origin(annotation) is typing.Annotated
    base, meta = typing.get_args(annotation)
    assert base is hax.NamedArray
    return meta


def test_string_spec_builds_an_annotated_named_array():
    assert _meta(hax.NamedArray["batch embed"]) == NamedArrayAxes(("batch", "embed"))


def test_ellipsis_forms_in_strings_and_sequences():
    assert _meta(hax.NamedArray["batch ..."]) == NamedArrayAxes(("batch",), (), subset=True)
    assert _meta(hax.NamedArray["batch", ..., "embed"]) == NamedArrayAxes(("batch",), ("embed",), subset=True)
    assert _meta(hax.NamedArray[..., "embed"]) == NamedArrayAxes((), ("embed",), subset=True)


def test_set_and_brace_specs_are_unordered():
    assert _meta(hax.NamedArray[{"b", "a"}]) == NamedArrayAxes(("a", "b"), ordered=False)
    assert _meta(hax.NamedArray["{a b ...}"]) == NamedArrayAxes(("a", "b"), ordered=False, subset=True)


def test_matches_axes_ordered_and_exact():
    x = _arr("batch embed")
    assert x.matches_axes(hax.NamedArray["batch embed"])
    assert not x.matches_axes(hax.NamedArray["embed batch"])
    assert not x.matches_axes(hax.NamedArray["batch"])
    assert matches_axes(x, "batch embed")


def test_matches_axes_with_ellipsis():
    x = _arr("batch pos embed")
    assert x.matches_axes(hax.NamedArray["batch ..."])
    assert x.matches_axes(hax.NamedArray["... embed"])
    assert x.matches_axes(hax.NamedArray["batch ... embed"])
    assert x.matches_axes(hax.NamedArray["batch pos embed ..."])
    assert not x.matches_axes(hax.NamedArray["pos ..."])
    assert not x.matches_axes(hax.NamedArray["batch ... pos"])
    assert not x.matches_axes(hax.NamedArray["batch pos embed ... embed2"])


def test_matches_axes_unordered():
    x = _arr("batch embed")
    assert x.matches_axes(hax.NamedArray[{"embed", "batch"}])
    assert not x.matches_axes(hax.NamedArray[{"embed"}])
    assert x.matches_axes(hax.NamedArray[{"embed", ...}])


def test_dtype_annotations_check_the_dtype():
    x = _arr("batch embed")
    assert _meta(f32["batch embed"]).dtype == jnp.float32
    assert x.matches_axes(f32["batch embed"])
    assert x.matches_axes(f32[hax.NamedArray, "batch ..."])
    assert not x.matches_axes(i32["batch embed"])
    assert not x.matches_axes(bf16["batch embed"])
    assert _arr("a", jnp.uint8).matches_axes(u8["a"])
    assert _arr("a", jnp.bool_).matches_axes(bool_["a"])


def test_dtype_categories():
    assert _arr("a", jnp.bfloat16).matches_axes(Float["a"])
    assert not _arr("a", jnp.int32).matches_axes(Float["a"])
    assert _arr("a", jnp.int8).matches_axes(Int["a"])
    assert not _arr("a", jnp.uint8).matches_axes(Int["a"])
    assert _arr("a", jnp.uint16).matches_axes(UInt["a"])
    assert _arr("a", jnp.complex64).matches_axes(Complex["a"])
    assert _meta(Float[hax.NamedArray, "a"]).dtype == DTypeCategory("float", jnp.floating)


def test_named_is_axes_only():
    assert _meta(Named[hax.NamedArray, "a b"]) == NamedArrayAxes(("a", "b"))
    assert _arr("a b", jnp.int32).matches_axes(Named["a b"])


def test_non_named_bases_delegate_to_jaxtyping():
    ann = Float[jax.Array, "b h"]
    assert issubclass(ann, jaxtyping.AbstractArray)
    assert isinstance(jnp.zeros((2, 3)), ann)
    assert not isinstance(jnp.zeros((2, 3), jnp.int32), ann)
    assert isinstance(jnp.zeros(2), f32[jax.Array, "b"])
    assert not isinstance(jnp.zeros(2, jnp.float16), f32[jax.Array, "b"])


def test_bad_specs_raise():
    with pytest.raises(NamedTypeError, match=r"^NamedArray\[\.\.\.\]: at most one '\.\.\.' is allowed"):
        hax.NamedArray["a ... b ..."]
    with pytest.raises(NamedTypeError, match=r"^NamedArray\[\.\.\.\]: axis 'a' appears twice"):
        hax.NamedArray["a a"]
    with pytest.raises(NamedTypeError, match="expected a string like 'batch embed'"):
        hax.NamedArray[3]


def test_axes_str_round_trips():
    for spec in ["batch embed", "batch ... embed", "{a b}", "{a b ...}"]:
        assert NamedArrayAxes.parse(str(NamedArrayAxes.parse(spec))) == NamedArrayAxes.parse(spec)


def test_dtype_category_prints_as_its_name():
    assert str(Float["b"].__metadata__[0].dtype) == "float"
    assert repr(DTypeCategory("int", jnp.signedinteger)) == "int"
    assert DTypeCategory("float", jnp.floating).category is jnp.floating
