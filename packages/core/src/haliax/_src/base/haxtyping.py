"""Type annotations for NamedArrays: ``NamedArray["batch embed"]``, ``f32["batch ..."]``, ``Float[...]``.

An annotation is ``typing.Annotated[NamedArray, NamedArrayAxes(...)]``: type checkers see a
NamedArray, and `matches_axes` (``x.matches_axes(...)``) checks an array against the metadata at
runtime. Spec forms:

- ``"batch embed"``: exactly these axes, in this order;
- ``"batch ..."`` / ``("batch", ...)``: these axes first (or last, or around the ``...``), any
  others in between;
- ``{"batch", "embed"}`` / ``"{batch embed}"``: exactly these axes, any order; add ``...`` to the
  set (or the braces) to allow others.

Dtype forms (``f32``, ``bf16``, ``i32``, ...) pin a dtype, categories (``Float``, ``Int``,
``UInt``, ``Complex``) a dtype family. With a non-NamedArray base (``Float[jax.Array, "b h"]``)
they delegate to jaxtyping, so one import serves both kinds of array.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence, Set
from types import EllipsisType
from typing import Annotated, Any, ClassVar, TypeAlias, get_args, get_origin

import jax.numpy as jnp
import jaxtyping
import numpy as np

from .errors import NamedTypeError, reported_as


@dataclasses.dataclass(frozen=True)
class DTypeCategory:
    """A family of dtypes (``"float"``, ``"int"``, ...) usable as `NamedArrayAxes.dtype`."""

    name: str
    kind: Any  # a numpy abstract scalar type such as np.floating; jnp.issubdtype decides membership

    def matches(self, dtype: Any) -> bool:
        """True if ``dtype`` belongs to this category."""
        return bool(jnp.issubdtype(dtype, self.kind))

    @property
    def category(self) -> Any:
        """The numpy abstract scalar type (Haliax's name for `kind`)."""
        return self.kind

    def __str__(self) -> str:
        return self.name

    __repr__ = __str__


@dataclasses.dataclass(frozen=True)
class NamedArrayAxes:
    """The metadata of a ``NamedArray[...]`` annotation.

    ``before`` are the names that must come first (all of them when ``subset`` is False),
    ``after`` those that must come last (after the ``...``). When ``ordered`` is False the names
    may appear in any order. ``dtype`` is a concrete dtype, a `DTypeCategory`, or None (any).

    Examples:
        >>> import haliax as hax
        >>> from haliax.haxtyping import NamedArrayAxes
        >>> NamedArrayAxes.parse("batch ... embed")
        NamedArrayAxes(before=('batch',), after=('embed',), ordered=True, subset=True, dtype=None)
    """

    before: tuple[str, ...]
    after: tuple[str, ...] = ()
    ordered: bool = True
    subset: bool = False
    dtype: Any = None

    @staticmethod
    def parse(spec: NamedArrayAxesSpec) -> NamedArrayAxes:
        """Normalise any accepted spec form to a `NamedArrayAxes`."""
        return _parse(spec)

    def matches(self, array: Any) -> bool:
        """True if ``array`` (a NamedArray) has these axes and dtype."""
        names = tuple(ax.name for ax in getattr(array, "axes", ()))
        if not _names_match(self, names):
            return False
        if self.dtype is None:
            return True
        dtype = getattr(array, "dtype", None)
        if dtype is None:
            return False
        if isinstance(self.dtype, DTypeCategory):
            return self.dtype.matches(dtype)
        return np.dtype(dtype) == np.dtype(self.dtype)

    def __str__(self) -> str:
        names = list(self.before) + (["..."] if self.subset else []) + list(self.after)
        body = " ".join(names)
        return "{" + body + "}" if not self.ordered else body


NamedArrayAxesSpec: TypeAlias = NamedArrayAxes | str | Sequence[str | EllipsisType] | Set[str | EllipsisType]
"""What ``NamedArray[...]`` accepts: a NamedArrayAxes, ``"a b ..."``, a sequence with ``...``, or a set."""


def _split_ellipsis(op: str, tokens: Sequence[Any]) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    before: list[str] = []
    after: list[str] = []
    seen_ellipsis = False
    for tok in tokens:
        if tok is Ellipsis or tok == "...":
            if seen_ellipsis:
                raise NamedTypeError(
                    f"{op}: at most one '...' is allowed in an axes annotation, got {tokens!r}"
                )
            seen_ellipsis = True
        elif isinstance(tok, str):
            (after if seen_ellipsis else before).append(tok)
        else:
            name = getattr(tok, "name", None)
            if not isinstance(name, str):
                raise NamedTypeError(
                    f"{op}: axes annotations take axis names (str), Axis objects or '...', got {tok!r}"
                )
            (after if seen_ellipsis else before).append(name)
    names = before + after
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise NamedTypeError(f"{op}: axis {dup!r} appears twice in the annotation {tokens!r}")
    return tuple(before), tuple(after), seen_ellipsis


def _parse(spec: Any) -> NamedArrayAxes:
    op = "NamedArray[...]"
    if isinstance(spec, NamedArrayAxes):
        return spec
    if isinstance(spec, str):
        text = spec.strip()
        if text.startswith("{") and text.endswith("}"):
            before, after, sub = _split_ellipsis(op, text[1:-1].split())
            return NamedArrayAxes(before + after, (), ordered=False, subset=sub)
        if "{" in text or "}" in text:
            raise NamedTypeError(
                f"{op}: braces must enclose the whole spec for an unordered annotation, got {spec!r}"
            )
        before, after, sub = _split_ellipsis(op, text.split())
        return NamedArrayAxes(before, after, ordered=True, subset=sub)
    if isinstance(spec, Set):
        before, after, sub = _split_ellipsis(op, sorted(spec, key=lambda t: (t is Ellipsis, str(t))))
        return NamedArrayAxes(before + after, (), ordered=False, subset=sub)
    if isinstance(spec, Sequence) or spec is Ellipsis:
        tokens = (spec,) if spec is Ellipsis else tuple(spec)
        before, after, sub = _split_ellipsis(op, tokens)
        return NamedArrayAxes(before, after, ordered=True, subset=sub)
    raise NamedTypeError(
        f"{op}: expected a string like 'batch embed', a sequence of names with at most one ..., "
        f"or a set of names, got {spec!r}"
    )


def _names_match(spec: NamedArrayAxes, names: tuple[str, ...]) -> bool:
    if not spec.ordered:
        wanted = set(spec.before) | set(spec.after)
        have = set(names)
        return wanted <= have if spec.subset else wanted == have
    if not spec.subset:
        return names == spec.before + spec.after
    nb, na = len(spec.before), len(spec.after)
    if len(names) < nb + na:
        return False
    return names[:nb] == spec.before and (na == 0 or names[len(names) - na :] == spec.after)


def named_annotation(cls: type, spec: Any) -> Any:
    """``Annotated[cls, NamedArrayAxes]`` for ``NamedArray[spec]`` (called by ``NamedArrayMeta``)."""
    return Annotated[cls, _parse(spec)]


def _axes_metadata(spec: Any) -> NamedArrayAxes:
    if get_origin(spec) is Annotated:
        meta = [m for m in get_args(spec)[1:] if isinstance(m, NamedArrayAxes)]
        if not meta:
            raise NamedTypeError(f"matches_axes: the annotation {spec!r} carries no NamedArray axes")
        return meta[0]
    return _parse(spec)


def matches_axes(array: Any, spec: Any) -> bool:
    """True if ``array`` conforms to an annotation or spec (names, order, ``...``, dtype).

    Examples:
        >>> import haliax as hax, jax.numpy as jnp
        >>> from haliax.haxtyping import f32
        >>> x = hax.named(jnp.zeros((2, 3)), ("batch", "embed"))
        >>> x.matches_axes(hax.NamedArray["batch ..."]), x.matches_axes(f32["embed batch"])
        (True, False)
    """
    with reported_as("matches_axes"):
        matched = _axes_metadata(spec).matches(array)
    return matched


def _is_named_base(base: Any) -> bool:
    from .named_array import NamedArray

    return isinstance(base, type) and issubclass(base, NamedArray)


class _DTypeAnnotationMeta(type):
    """``f32["b h"]`` / ``f32[NamedArray, "b h"]`` / ``f32[jax.Array, "b h"]`` (jaxtyping)."""

    dtype: Any
    jaxtyping_form: Any

    def __getitem__(cls, item: Any) -> Any:
        from .named_array import NamedArray

        op = f"{cls.__name__}[...]"
        if isinstance(item, tuple) and item and isinstance(item[0], type):
            if len(item) != 2:
                raise NamedTypeError(
                    f"{op}: takes an array type and one axes spec, got {len(item)} entries; "
                    f"write {cls.__name__}[NamedArray, 'batch embed'] (one string, names separated by spaces)"
                )
            base, spec = item
        else:
            base, spec = NamedArray, item
        if not _is_named_base(base):
            if cls.jaxtyping_form is None:
                raise NamedTypeError(
                    f"{cls.__name__}[...]: only NamedArray bases are supported, got {base!r}"
                )
            return cls.jaxtyping_form[base, spec]
        with reported_as(op):
            axes = dataclasses.replace(_parse(spec), dtype=cls.dtype)
        return Annotated[base, axes]


class _DTypeAnnotation(metaclass=_DTypeAnnotationMeta):
    dtype: ClassVar[Any] = None
    jaxtyping_form: ClassVar[Any] = None


class Named(_DTypeAnnotation):
    """Axes-only annotation: ``Named[NamedArray, "batch embed"]`` or ``Named["batch embed"]``."""

    dtype = None
    jaxtyping_form = jaxtyping.Shaped


class f16(_DTypeAnnotation):
    """Annotation for a NamedArray of float16: ``f16["batch embed"]`` or ``f16[NamedArray, "batch embed"]``."""

    dtype = jnp.float16
    jaxtyping_form = jaxtyping.Float16


class f32(_DTypeAnnotation):
    """Annotation for a NamedArray of float32: ``f32["batch embed"]`` or ``f32[NamedArray, "batch embed"]``."""

    dtype = jnp.float32
    jaxtyping_form = jaxtyping.Float32


class f64(_DTypeAnnotation):
    """Annotation for a NamedArray of float64: ``f64["batch embed"]`` or ``f64[NamedArray, "batch embed"]``."""

    dtype = jnp.float64
    jaxtyping_form = jaxtyping.Float64


class bf16(_DTypeAnnotation):
    """Annotation for a NamedArray of bfloat16: ``bf16["batch embed"]`` or ``bf16[NamedArray, "batch embed"]``."""

    dtype = jnp.bfloat16
    jaxtyping_form = jaxtyping.BFloat16


class i8(_DTypeAnnotation):
    """Annotation for a NamedArray of int8: ``i8["batch embed"]`` or ``i8[NamedArray, "batch embed"]``."""

    dtype = jnp.int8
    jaxtyping_form = jaxtyping.Int8


class i16(_DTypeAnnotation):
    """Annotation for a NamedArray of int16: ``i16["batch embed"]`` or ``i16[NamedArray, "batch embed"]``."""

    dtype = jnp.int16
    jaxtyping_form = jaxtyping.Int16


class i32(_DTypeAnnotation):
    """Annotation for a NamedArray of int32: ``i32["batch embed"]`` or ``i32[NamedArray, "batch embed"]``."""

    dtype = jnp.int32
    jaxtyping_form = jaxtyping.Int32


class i64(_DTypeAnnotation):
    """Annotation for a NamedArray of int64: ``i64["batch embed"]`` or ``i64[NamedArray, "batch embed"]``."""

    dtype = jnp.int64
    jaxtyping_form = jaxtyping.Int64


class u8(_DTypeAnnotation):
    """Annotation for a NamedArray of uint8: ``u8["batch embed"]`` or ``u8[NamedArray, "batch embed"]``."""

    dtype = jnp.uint8
    jaxtyping_form = jaxtyping.UInt8


class u16(_DTypeAnnotation):
    """Annotation for a NamedArray of uint16: ``u16["batch embed"]`` or ``u16[NamedArray, "batch embed"]``."""

    dtype = jnp.uint16
    jaxtyping_form = jaxtyping.UInt16


class u32(_DTypeAnnotation):
    """Annotation for a NamedArray of uint32: ``u32["batch embed"]`` or ``u32[NamedArray, "batch embed"]``."""

    dtype = jnp.uint32
    jaxtyping_form = jaxtyping.UInt32


class u64(_DTypeAnnotation):
    """Annotation for a NamedArray of uint64: ``u64["batch embed"]`` or ``u64[NamedArray, "batch embed"]``."""

    dtype = jnp.uint64
    jaxtyping_form = jaxtyping.UInt64


class bool_(_DTypeAnnotation):
    """Annotation for a NamedArray of bool: ``bool_["batch embed"]`` or ``bool_[NamedArray, "batch embed"]``."""

    dtype = jnp.bool_
    jaxtyping_form = jaxtyping.Bool


class complex64(_DTypeAnnotation):
    """Annotation for a NamedArray of complex64: ``complex64["batch embed"]`` or ``complex64[NamedArray, "batch embed"]``."""

    dtype = jnp.complex64
    jaxtyping_form = jaxtyping.Complex64


class complex128(_DTypeAnnotation):
    """Annotation for a NamedArray of complex128: ``complex128["batch embed"]`` or ``complex128[NamedArray, "batch embed"]``."""

    dtype = jnp.complex128
    jaxtyping_form = jaxtyping.Complex128


class Float(_DTypeAnnotation):
    """Annotation for a NamedArray of any floating dtype (bf16 included): ``Float["batch embed"]`` or ``Float[NamedArray, "batch embed"]``."""

    dtype = DTypeCategory("float", jnp.floating)
    jaxtyping_form = jaxtyping.Float


class Int(_DTypeAnnotation):
    """Annotation for a NamedArray of any signed integer dtype: ``Int["batch embed"]`` or ``Int[NamedArray, "batch embed"]``."""

    dtype = DTypeCategory("int", jnp.signedinteger)
    jaxtyping_form = jaxtyping.Int


class UInt(_DTypeAnnotation):
    """Annotation for a NamedArray of any unsigned integer dtype: ``UInt["batch embed"]`` or ``UInt[NamedArray, "batch embed"]``."""

    dtype = DTypeCategory("uInt", jnp.unsignedinteger)
    jaxtyping_form = jaxtyping.UInt


class Complex(_DTypeAnnotation):
    """Annotation for a NamedArray of any complex dtype: ``Complex["batch embed"]`` or ``Complex[NamedArray, "batch embed"]``."""

    dtype = DTypeCategory("complex", jnp.complexfloating)
    jaxtyping_form = jaxtyping.Complex
