"""Type annotations for NamedArrays: axes (ordered, unordered, with ``...``) and dtypes."""

from ._src.base.haxtyping import Complex as Complex
from ._src.base.haxtyping import DTypeCategory as DTypeCategory
from ._src.base.haxtyping import Float as Float
from ._src.base.haxtyping import Int as Int
from ._src.base.haxtyping import Named as Named
from ._src.base.haxtyping import NamedArrayAxes as NamedArrayAxes
from ._src.base.haxtyping import NamedArrayAxesSpec as NamedArrayAxesSpec
from ._src.base.haxtyping import UInt as UInt
from ._src.base.haxtyping import bf16 as bf16
from ._src.base.haxtyping import bool_ as bool_
from ._src.base.haxtyping import complex64 as complex64
from ._src.base.haxtyping import complex128 as complex128
from ._src.base.haxtyping import f16 as f16
from ._src.base.haxtyping import f32 as f32
from ._src.base.haxtyping import f64 as f64
from ._src.base.haxtyping import i8 as i8
from ._src.base.haxtyping import i16 as i16
from ._src.base.haxtyping import i32 as i32
from ._src.base.haxtyping import i64 as i64
from ._src.base.haxtyping import matches_axes as matches_axes
from ._src.base.haxtyping import named_annotation as named_annotation
from ._src.base.haxtyping import u8 as u8
from ._src.base.haxtyping import u16 as u16
from ._src.base.haxtyping import u32 as u32
from ._src.base.haxtyping import u64 as u64
