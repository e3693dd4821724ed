"""Named tensors for JAX: arrays whose axes have names.

This module is a manifest: every public name is imported from the private implementation in
``haliax._src``. Names owned by other distributions (``haliax.nn``, ``haliax.shard``, ...) and
deprecated aliases are resolved lazily by the module ``__getattr__`` at the bottom.
"""

import importlib.metadata as _metadata
import pkgutil as _pkgutil

try:
    __version__: str = _metadata.version("haliax-core")
except _metadata.PackageNotFoundError:  # run from a source tree that is not installed
    __version__ = "0.0.0+unknown"

# haliax.nn, haliax.partitioning, ... ship in other distributions and join this package.
__path__ = _pkgutil.extend_path(__path__, __name__)

# ----- submodules -----
from . import axis as axis
from . import core as core
from . import debug as debug
from . import errors as errors
from . import extend as extend
from . import haxtyping as haxtyping
from . import hof as hof
from . import jax_utils as jax_utils
from . import ops as ops
from . import random as random
from . import ref as ref
from . import registry as registry
from . import specialized_fns as specialized_fns
from . import state_dict as state_dict
from . import tree as tree
from . import tree_util as tree_util
from . import types as types
from . import util as util
from . import wrap as wrap

# ----- axes -----
from ._src.base.axis import Axis as Axis
from ._src.base.axis import axis_name as axis_name
from ._src.base.axis import axis_size as axis_size
from ._src.base.axis import axis_spec_to_tuple as axis_spec_to_tuple
from ._src.base.axis import AxisSelection as AxisSelection
from ._src.base.axis import AxisSelector as AxisSelector
from ._src.base.axis import AxisSpec as AxisSpec
from ._src.base.axis import concat_axes as concat_axes
from ._src.base.axis import dblock as dblock
from ._src.base.axis import ds as ds
from ._src.base.axis import dslice as dslice
from ._src.base.axis import eliminate_axes as eliminate_axes
from ._src.base.axis import make_axes as make_axes
from ._src.base.axis import replace_axis as replace_axis
from ._src.base.axis import resolve_axis as resolve_axis
from ._src.base.axis import selects_axis as selects_axis
from ._src.base.axis import to_jax_shape as to_jax_shape

# ----- the NamedArray, broadcasting and typing -----
from ._src.ops.broadcast import broadcast_arrays as broadcast_arrays
from ._src.ops.broadcast import broadcast_axis as broadcast_axis
from ._src.ops.broadcast import broadcast_to as broadcast_to
from ._src.base.haxtyping import Named as Named
from ._src.base.haxtyping import NamedArrayAxes as NamedArrayAxes
from ._src.base.haxtyping import NamedArrayAxesSpec as NamedArrayAxesSpec
from ._src.indexing.index import NamedOrNumeric as NamedOrNumeric
from ._src.base.validation import are_shape_checks_enabled as are_shape_checks_enabled
from ._src.base.validation import enable_shape_checks as enable_shape_checks
from ._src.base.named_array import is_named_array as is_named_array
from ._src.base.named_array import named as named
from ._src.base.named_array import NamedArray as NamedArray

# ----- creation -----
from ._src.ops.creation import arange as arange
from ._src.ops.creation import empty_like as empty_like
from ._src.ops.creation import full as full
from ._src.ops.creation import full_like as full_like
from ._src.ops.creation import geomspace as geomspace
from ._src.ops.creation import linspace as linspace
from ._src.ops.creation import logspace as logspace
from ._src.ops.creation import ones as ones
from ._src.ops.creation import ones_like as ones_like
from ._src.ops.creation import zeros as zeros
from ._src.ops.creation import zeros_like as zeros_like

# ----- indexing -----
from ._src.indexing.index import index as index
from ._src.indexing.index import slice as slice
from ._src.indexing.index import take as take
from ._src.indexing.index import updated_slice as updated_slice

# ----- shape manipulation -----
from ._src.ops.shape import concatenate as concatenate
from ._src.ops.shape import flatten as flatten
from ._src.ops.shape import flatten_axes as flatten_axes
from ._src.ops.shape import pad as pad
from ._src.ops.shape import pad_left as pad_left
from ._src.ops.shape import ravel as ravel
from ._src.ops.shape import rename as rename
from ._src.ops.shape import repeat as repeat
from ._src.ops.shape import roll as roll
from ._src.ops.shape import split as split
from ._src.ops.shape import stack as stack
from ._src.ops.shape import tile as tile
from ._src.ops.shape import unbind as unbind
from ._src.ops.shape import unflatten_axis as unflatten_axis

# ----- elementwise ops -----
from ._src.ops.ufuncs import abs as abs
from ._src.ops.ufuncs import absolute as absolute
from ._src.ops.ufuncs import add as add
from ._src.ops.ufuncs import angle as angle
from ._src.ops.ufuncs import arccos as arccos
from ._src.ops.ufuncs import arccosh as arccosh
from ._src.ops.ufuncs import arcsin as arcsin
from ._src.ops.ufuncs import arcsinh as arcsinh
from ._src.ops.ufuncs import arctan as arctan
from ._src.ops.ufuncs import arctan2 as arctan2
from ._src.ops.ufuncs import arctanh as arctanh
from ._src.ops.ufuncs import around as around
from ._src.ops.ufuncs import bitwise_and as bitwise_and
from ._src.ops.ufuncs import bitwise_count as bitwise_count
from ._src.ops.ufuncs import bitwise_invert as bitwise_invert
from ._src.ops.ufuncs import bitwise_left_shift as bitwise_left_shift
from ._src.ops.ufuncs import bitwise_not as bitwise_not
from ._src.ops.ufuncs import bitwise_or as bitwise_or
from ._src.ops.ufuncs import bitwise_right_shift as bitwise_right_shift
from ._src.ops.ufuncs import bitwise_xor as bitwise_xor
from ._src.ops.ufuncs import cbrt as cbrt
from ._src.ops.ufuncs import ceil as ceil
from ._src.ops.ufuncs import conj as conj
from ._src.ops.ufuncs import conjugate as conjugate
from ._src.ops.ufuncs import copy as copy
from ._src.ops.ufuncs import cos as cos
from ._src.ops.ufuncs import cosh as cosh
from ._src.ops.ufuncs import deg2rad as deg2rad
from ._src.ops.ufuncs import degrees as degrees
from ._src.ops.ufuncs import divide as divide
from ._src.ops.ufuncs import divmod as divmod
from ._src.ops.ufuncs import equal as equal
from ._src.ops.ufuncs import exp as exp
from ._src.ops.ufuncs import exp2 as exp2
from ._src.ops.ufuncs import expm1 as expm1
from ._src.ops.ufuncs import fabs as fabs
from ._src.ops.ufuncs import fix as fix
from ._src.ops.ufuncs import float_power as float_power
from ._src.ops.ufuncs import floor as floor
from ._src.ops.ufuncs import floor_divide as floor_divide
from ._src.ops.ufuncs import fmax as fmax
from ._src.ops.ufuncs import fmin as fmin
from ._src.ops.ufuncs import fmod as fmod
from ._src.ops.ufuncs import frexp as frexp
from ._src.ops.ufuncs import greater as greater
from ._src.ops.ufuncs import greater_equal as greater_equal
from ._src.ops.ufuncs import hypot as hypot
from ._src.ops.ufuncs import i0 as i0
from ._src.ops.ufuncs import imag as imag
from ._src.ops.ufuncs import invert as invert
from ._src.ops.ufuncs import iscomplex as iscomplex
from ._src.ops.ufuncs import isfinite as isfinite
from ._src.ops.ufuncs import isinf as isinf
from ._src.ops.ufuncs import isnan as isnan
from ._src.ops.ufuncs import isneginf as isneginf
from ._src.ops.ufuncs import isposinf as isposinf
from ._src.ops.ufuncs import isreal as isreal
from ._src.ops.ufuncs import left_shift as left_shift
from ._src.ops.ufuncs import less as less
from ._src.ops.ufuncs import less_equal as less_equal
from ._src.ops.ufuncs import log as log
from ._src.ops.ufuncs import log10 as log10
from ._src.ops.ufuncs import log1p as log1p
from ._src.ops.ufuncs import log2 as log2
from ._src.ops.ufuncs import logaddexp as logaddexp
from ._src.ops.ufuncs import logaddexp2 as logaddexp2
from ._src.ops.ufuncs import logical_and as logical_and
from ._src.ops.ufuncs import logical_not as logical_not
from ._src.ops.ufuncs import logical_or as logical_or
from ._src.ops.ufuncs import logical_xor as logical_xor
from ._src.ops.ufuncs import maximum as maximum
from ._src.ops.ufuncs import minimum as minimum
from ._src.ops.ufuncs import mod as mod
from ._src.ops.ufuncs import multiply as multiply
from ._src.ops.ufuncs import nan_to_num as nan_to_num
from ._src.ops.ufuncs import ndim as ndim
from ._src.ops.ufuncs import negative as negative
from ._src.ops.ufuncs import nextafter as nextafter
from ._src.ops.ufuncs import not_equal as not_equal
from ._src.ops.ufuncs import positive as positive
from ._src.ops.ufuncs import power as power
from ._src.ops.ufuncs import rad2deg as rad2deg
from ._src.ops.ufuncs import radians as radians
from ._src.ops.ufuncs import real as real
from ._src.ops.ufuncs import reciprocal as reciprocal
from ._src.ops.ufuncs import remainder as remainder
from ._src.ops.ufuncs import right_shift as right_shift
from ._src.ops.ufuncs import rint as rint
from ._src.ops.ufuncs import round as round
from ._src.ops.ufuncs import rsqrt as rsqrt
from ._src.ops.ufuncs import sign as sign
from ._src.ops.ufuncs import signbit as signbit
from ._src.ops.ufuncs import sin as sin
from ._src.ops.ufuncs import sinc as sinc
from ._src.ops.ufuncs import sinh as sinh
from ._src.ops.ufuncs import sqrt as sqrt
from ._src.ops.ufuncs import square as square
from ._src.ops.ufuncs import subtract as subtract
from ._src.ops.ufuncs import tan as tan
from ._src.ops.ufuncs import tanh as tanh
from ._src.ops.ufuncs import true_divide as true_divide
from ._src.ops.ufuncs import trunc as trunc

# ----- reductions, cumulative and sorting ops -----
from ._src.ops.reductions import all as all
from ._src.ops.reductions import amax as amax
from ._src.ops.reductions import amin as amin
from ._src.ops.reductions import any as any
from ._src.ops.reductions import argmax as argmax
from ._src.ops.reductions import argmin as argmin
from ._src.ops.reductions import argsort as argsort
from ._src.ops.reductions import cumprod as cumprod
from ._src.ops.reductions import cumsum as cumsum
from ._src.ops.reductions import max as max
from ._src.ops.reductions import mean as mean
from ._src.ops.reductions import min as min
from ._src.ops.reductions import nanargmax as nanargmax
from ._src.ops.reductions import nanargmin as nanargmin
from ._src.ops.reductions import nancumprod as nancumprod
from ._src.ops.reductions import nancumsum as nancumsum
from ._src.ops.reductions import nanmax as nanmax
from ._src.ops.reductions import nanmean as nanmean
from ._src.ops.reductions import nanmin as nanmin
from ._src.ops.reductions import nanprod as nanprod
from ._src.ops.reductions import nanstd as nanstd
from ._src.ops.reductions import nansum as nansum
from ._src.ops.reductions import nanvar as nanvar
from ._src.ops.reductions import prod as prod
from ._src.ops.reductions import product as product
from ._src.ops.reductions import ptp as ptp
from ._src.ops.reductions import sort as sort
from ._src.ops.reductions import std as std
from ._src.ops.reductions import sum as sum
from ._src.ops.reductions import var as var

# ----- contraction and rearrangement -----
from ._src.contractions.dot import dot as dot
from ._src.contractions.einsum import einsum as einsum
from ._src.ops.rearrange import rearrange as rearrange

# ----- other ops -----
from ._src.ops.compare import allclose as allclose
from ._src.ops.compare import array_equal as array_equal
from ._src.ops.compare import array_equiv as array_equiv
from ._src.ops.select import bincount as bincount
from ._src.ops.select import clip as clip
from ._src.ops.compare import isclose as isclose
from ._src.ops.select import nonzero as nonzero
from ._src.ops.matrix import packbits as packbits
from ._src.ops.select import searchsorted as searchsorted
from ._src.ops.matrix import trace as trace
from ._src.ops.matrix import tril as tril
from ._src.ops.matrix import triu as triu
from ._src.ops.select import unique as unique
from ._src.ops.select import unique_all as unique_all
from ._src.ops.select import unique_counts as unique_counts
from ._src.ops.select import unique_inverse as unique_inverse
from ._src.ops.select import unique_values as unique_values
from ._src.ops.matrix import unpackbits as unpackbits
from ._src.ops.select import where as where
from ._src.ops.select import top_k as top_k

# ----- fft, polynomials and fields (the functions shadow their modules, as in Haliax) -----
from .fft import fft as fft
from .fft import fftfreq as fftfreq
from .fft import fftshift as fftshift
from .fft import hfft as hfft
from .fft import ifft as ifft
from .fft import ifftshift as ifftshift
from .fft import ihfft as ihfft
from .fft import irfft as irfft
from .fft import rfft as rfft
from .fft import rfftfreq as rfftfreq
from .field import field as field
from .poly import poly as poly
from .poly import polyadd as polyadd
from .poly import polyder as polyder
from .poly import polydiv as polydiv
from .poly import polyfit as polyfit
from .poly import polyint as polyint
from .poly import polymul as polymul
from .poly import polysub as polysub
from .poly import polyval as polyval
from .poly import roots as roots
from .poly import trim_zeros as trim_zeros
from .poly import vander as vander

# ----- wrapping jax.numpy functions -----
from ._src.ops.lift import unwrap_namedarrays as unwrap_namedarrays
from ._src.ops.wrap import apply_positional as apply_positional
from ._src.ops.wrap import ReductionFunction as ReductionFunction
from ._src.ops.wrap import SimpleReductionFunction as SimpleReductionFunction
from ._src.ops.wrap import wrap_axiswise_call as wrap_axiswise_call
from ._src.ops.wrap import wrap_elemwise_binary as wrap_elemwise_binary
from ._src.ops.wrap import wrap_elemwise_unary as wrap_elemwise_unary
from ._src.ops.wrap import wrap_reduction_call as wrap_reduction_call

# ----- transforms -----
from ._src.transforms.checkpoint import tree_checkpoint_name as tree_checkpoint_name
from ._src.transforms.scan import fold as fold
from ._src.transforms.scan import map as map
from ._src.transforms.scan import scan as scan
from ._src.transforms.scan import ScanCheckpointPolicy as ScanCheckpointPolicy
from ._src.transforms.vmap import vmap as vmap

# ----- mutable references -----
from ._src.indexing.ref import freeze as freeze
from ._src.indexing.ref import get as get
from ._src.indexing.ref import NamedRef as NamedRef
from ._src.indexing.ref import new_ref as new_ref
from ._src.indexing.ref import swap as swap

# ----- plugin registries -----
from ._src.plugins.registry import get_op as get_op
from ._src.plugins.registry import list_ops as list_ops
from ._src.plugins.registry import register_op as register_op

# ----- types -----
from ._src.base.types import DTypeLike as DTypeLike
from ._src.base.types import Scalar as Scalar

# ----- names from other distributions and deprecated aliases, resolved lazily -----
from ._src.plugins import lazy as _lazy


def __getattr__(name: str) -> object:
    """Resolve ``haliax.nn``, ``haliax.shard``, ... from the distributions that ship them."""
    return _lazy.resolve(__name__, globals(), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_lazy.lazy_names()})
