"""`Linear` and `MoELinear`: named affine maps whose matmul goes through a pluggable ``dot_general``."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.typing import DTypeLike

from haliax import NamedArray
from haliax.axis import Axis, AxisSpec
from haliax.errors import AxisSizeError, BroadcastError, NamedTypeError
from haliax.extend import axis_not_found, axis_size_mismatch, format_shape, named_unchecked, reported_as
from haliax.state_dict import ModuleWithStateDictSerialization, StateDict

from .contract import contraction_plan, names_of
from .mup import (
    AbstractLinearReparam,
    HiddenLinearMup,
    InputLinearMup,
    LinearStandardParam,
    OutputLinearMup,
    ReparamEnabled,
)
from .sampling import as_axes, truncated_normal


class DefaultDotGeneralOp(eqx.Module):
    """The matmul `Linear` uses by default: ``jax.lax.dot_general``, as a module.

    It is a module (a pytree) rather than a function so that a replacement can carry state: the
    quantization package swaps in ops that hold fp8 scales and amax histories.
    """

    def __call__(
        self,
        lhs: Any,
        rhs: Any,
        dimension_numbers: Any,
        precision: Any = None,
        preferred_element_type: DTypeLike | None = None,
    ) -> Any:
        """``jax.lax.dot_general(lhs, rhs, dimension_numbers, precision, preferred_element_type)``."""
        return jax.lax.dot_general(lhs, rhs, dimension_numbers, precision, preferred_element_type)

    @staticmethod
    def init() -> DefaultDotGeneralOp:
        """A new op (it has no state)."""
        return DefaultDotGeneralOp()


@functools.lru_cache(maxsize=4096)
def _linear_plan(
    op: str,
    x_axes: tuple[Axis, ...],
    w_axes: tuple[Axis, ...],
    in_names: tuple[str, ...],
    out_names: tuple[str, ...],
) -> Any:
    have = {ax.name for ax in x_axes}
    missing = [n for n in in_names if n not in have]
    if missing:
        raise axis_not_found(op, missing, x_axes)
    clash = [n for n in out_names if n in have]
    if clash:
        raise BroadcastError(
            f"{op}: the input {format_shape(x_axes)} already has output axis {clash[0]!r}; "
            f"rename it (x.rename({{{clash[0]!r}: ...}})) or give the layer an Out axis with another name"
        )
    return contraction_plan(op, x_axes, w_axes, in_names)


class Linear(ModuleWithStateDictSerialization, ReparamEnabled):
    """A named linear layer mapping the ``In`` axes to the ``Out`` axes, with an optional bias.

    The weight has axes ``(*Out, *In)`` (PyTorch's layout) unless ``out_first=False``. Input axes
    other than ``In`` are batch axes and keep their order; the ``Out`` axes follow them. An input
    without every ``In`` axis is an error, never a broadcast.

    Examples:
        >>> import jax, haliax as hax, haliax.nn as hnn
        >>> Embed, Hidden = hax.Axis("embed", 4), hax.Axis("hidden", 8)
        >>> layer = hnn.Linear.init(In=Embed, Out=Hidden, key=jax.random.PRNGKey(0))
        >>> layer(hax.ones((hax.Axis("batch", 2), Embed))).shape
        {'batch': 2, 'hidden': 8}
    """

    weight: NamedArray
    bias: NamedArray | None
    In: AxisSpec = eqx.field(static=True)
    Out: AxisSpec = eqx.field(static=True)
    dot_general: Any = eqx.field(default_factory=DefaultDotGeneralOp)
    _reparam_cls: type[AbstractLinearReparam] = eqx.field(static=True, default=LinearStandardParam)

    @staticmethod
    def init(
        In: AxisSpec,
        Out: AxisSpec,
        *,
        key: jax.Array,
        use_bias: bool = True,
        out_first: bool = True,
        dot_general: Any = None,
        init_scale: float = 1.0,
        reparam_cls: type[AbstractLinearReparam] = LinearStandardParam,
    ) -> Linear:
        """A layer with truncated-normal weights scaled by ``init_scale * reparam_cls.init_scale(In, Out)``."""
        in_axes, out_axes = as_axes(In, "Linear.init"), as_axes(Out, "Linear.init")
        dup = {ax.name for ax in in_axes} & {ax.name for ax in out_axes}
        if dup:
            raise AxisSizeError(
                f"Linear.init: axis {sorted(dup)[0]!r} is in both In and Out; "
                f"give the output axis another name, e.g. Axis.alias"
            )
        joint = out_axes + in_axes if out_first else in_axes + out_axes
        weight = truncated_normal(key, joint, init_scale * reparam_cls.init_scale(In, Out), op="Linear.init")
        bias = named_unchecked(jnp.zeros(tuple(ax.size for ax in out_axes)), out_axes) if use_bias else None
        return Linear(weight, bias, In, Out, dot_general or DefaultDotGeneralOp(), reparam_cls)

    @property
    def reparam(self) -> AbstractLinearReparam:
        """The parameterisation instance for this layer's axes."""
        return self._reparam_cls(self.In, self.Out)

    @property
    def _out_first(self) -> bool:
        """Whether the weight's axes end with ``In`` rather than ``Out`` (``(*Out, *In)``, PyTorch's layout).

        Read from the weight's trailing axes, so a `Stacked` layer's leading ``Block`` axis does not matter.
        """
        return not _ends_with(self.weight.axes, names_of(self.Out))

    @staticmethod
    def input_reparam(use_mup: bool = True) -> type[AbstractLinearReparam]:
        """The parameterisation of an input layer: `InputLinearMup` with ``use_mup``, else standard."""
        return InputLinearMup if use_mup else LinearStandardParam

    @staticmethod
    def hidden_reparam(use_mup: bool = True) -> type[AbstractLinearReparam]:
        """The parameterisation of a hidden layer: `HiddenLinearMup` with ``use_mup``, else standard."""
        return HiddenLinearMup if use_mup else LinearStandardParam

    @staticmethod
    def output_reparam(use_mup: bool = True) -> type[AbstractLinearReparam]:
        """The parameterisation of an output layer: `OutputLinearMup` with ``use_mup``, else standard."""
        return OutputLinearMup if use_mup else LinearStandardParam

    # ----- state dicts hold the effective weight (times the muP output scale) -----
    def to_state_dict(self, prefix: str | None = None) -> StateDict:
        """The layer's entries; the weight is exported as used, i.e. times ``reparam.active_scale``."""
        scale = self.reparam.active_scale
        if scale == 1.0 or self.weight is None or self.weight.array is None:
            return super().to_state_dict(prefix)
        scaled = named_unchecked(self.weight.array * jnp.asarray(scale, self.weight.dtype), self.weight.axes)
        return ModuleWithStateDictSerialization.to_state_dict(
            eqx.tree_at(lambda m: m.weight, self, scaled), prefix
        )

    def from_state_dict(self, state_dict: Mapping[str, Any], prefix: str | None = None) -> Linear:
        """Inverse of `to_state_dict`: the stored weight is divided by ``reparam.active_scale``."""
        out = super().from_state_dict(state_dict, prefix)
        scale = self.reparam.active_scale
        if scale == 1.0 or out.weight is None or out.weight.array is None:
            return out
        w = out.weight
        return eqx.tree_at(
            lambda m: m.weight, out, named_unchecked(w.array / jnp.asarray(scale, w.dtype), w.axes)
        )

    def __call__(self, inputs: NamedArray, *, key: jax.Array | None = None) -> NamedArray:
        """Apply the layer; ``key`` is accepted for a uniform module interface and unused."""
        if not isinstance(inputs, NamedArray):
            raise NamedTypeError(f"Linear: expected a NamedArray input, got {type(inputs).__name__}")
        dims, perm, out_axes = _linear_plan(
            "Linear", inputs.axes, self.weight.axes, names_of(self.In), names_of(self.Out)
        )
        with reported_as("Linear"):  # a quantized dot_general's errors name the layer the user called
            raw = self.dot_general(inputs.array, self.weight.array, dims)
        if perm is not None:
            raw = jax.lax.transpose(raw, perm)
        scale = self.reparam.active_scale
        if scale != 1.0:
            raw = raw * jnp.asarray(scale, raw.dtype)
        out = named_unchecked(raw, out_axes)
        if self.bias is not None:
            out = out + self.bias
        return out

    # ----- torch-compatible export: one 2-D weight -----
    def flatten_for_export(self) -> Linear:
        """This layer with a 2-D weight and a 1-D bias, for a torch-compatible state dict.

        As in Haliax: a layer whose ``In`` and ``Out`` are single axes is returned as it is;
        otherwise ``In`` and ``Out`` become one axis each (``__IN__``, ``__OUT__``), and the weight
        is ``(out, in)`` when the layer is out-first (PyTorch's layout), ``(in, out)`` otherwise.
        Axes that are neither In nor Out (a ``Block`` axis of a `Stacked`) stay in front.
        """
        if isinstance(self.In, Axis) and isinstance(self.Out, Axis):
            return self
        in_axes, out_axes = as_axes(self.In), as_axes(self.Out)
        o = Axis("__OUT__", _prod(out_axes))
        i = Axis("__IN__", _prod(in_axes))
        core = {ax.name for ax in in_axes + out_axes}
        extra = tuple(ax for ax in self.weight.axes if ax.name not in core)
        (first, f), (second, g) = (
            ((out_axes, o), (in_axes, i)) if self._out_first else ((in_axes, i), (out_axes, o))
        )
        w = self.weight.rearrange(extra + first + second)
        weight = named_unchecked(w.array.reshape(*(ax.size for ax in extra), f.size, g.size), (*extra, f, g))
        bias = None
        if self.bias is not None:
            b_extra = tuple(ax for ax in self.bias.axes if ax.name not in core)
            b = self.bias.rearrange(b_extra + out_axes)
            bias = named_unchecked(b.array.reshape(*(ax.size for ax in b_extra), o.size), (*b_extra, o))
        return Linear(weight, bias, i, o, self.dot_general, self._reparam_cls)

    def unflatten_from_export(self, template: Linear) -> Linear:  # pyright: ignore[reportIncompatibleMethodOverride]  # template: always this class
        """Inverse of `flatten_for_export`: named axes laid out like ``template``'s."""
        if (template.In, template.Out) == (self.In, self.Out):
            return self
        in_axes, out_axes = as_axes(template.In), as_axes(template.Out)
        extra = self.weight.axes[:-2]
        flat = tuple(ax.name for ax in self.weight.axes[-2:])
        spec = out_axes + in_axes if flat == ("__OUT__", "__IN__") else in_axes + out_axes
        raw = self.weight.array.reshape(*(ax.size for ax in extra + spec))
        weight = named_unchecked(raw, extra + spec).rearrange(template.weight.axes)
        bias = None
        if self.bias is not None and template.bias is not None:
            b_extra = self.bias.axes[:-1]
            raw_b = self.bias.array.reshape(*(ax.size for ax in b_extra + out_axes))
            bias = named_unchecked(raw_b, b_extra + out_axes).rearrange(template.bias.axes)
        return Linear(weight, bias, template.In, template.Out, template.dot_general, template._reparam_cls)


def _ends_with(axes: tuple[Axis, ...], names: tuple[str, ...]) -> bool:
    return len(axes) >= len(names) and tuple(ax.name for ax in axes[len(axes) - len(names) :]) == names


def _prod(axes: tuple[Axis, ...]) -> int:
    out = 1
    for ax in axes:
        out *= ax.size
    return out


def gmm_sharded(lhs: jax.Array, rhs: jax.Array, group_sizes: jax.Array, ar: bool = False) -> jax.Array:
    """Grouped matmul ``[tokens, in] x [experts, in, out] -> [tokens, out]`` over tokens sorted by expert.

    Tokens ``0 .. group_sizes[0]`` use expert 0, the next ``group_sizes[1]`` expert 1, and so on.
    Under a mesh with ``data`` and ``model`` axes (``jax.sharding`` context, e.g. from
    ``hax.set_mesh``) it runs per shard in a ``shard_map``: tokens split over ``data``, the
    ``in`` dimension over ``model``; ``ar=True`` then all-reduces the partial products over
    ``model``. Without such a mesh it is one ``jax.lax.ragged_dot``.

    Haliax 1.4 ran a Pallas megablox kernel here (TPU only); this is the portable ragged-dot
    form with the same contract, so MoE models run on CPU, GPU and TPU alike.

    Examples:
        >>> import jax.numpy as jnp
        >>> from haliax.nn.linear import gmm_sharded
        >>> out = gmm_sharded(jnp.ones((3, 2)), jnp.stack([jnp.eye(2), 2 * jnp.eye(2)]), jnp.array([1, 2]))
        >>> out.tolist()
        [[1.0, 1.0], [2.0, 2.0], [2.0, 2.0]]
    """
    group_sizes = group_sizes.astype(jnp.int32)
    mesh = jax.sharding.get_abstract_mesh()
    if mesh.empty or not {"data", "model"} <= set(mesh.axis_names):
        out = jax.lax.ragged_dot(lhs, rhs, group_sizes)
        return jax.lax.psum(out, "model") if ar else out
    P = jax.sharding.PartitionSpec

    def local(x: jax.Array, w: jax.Array, gs: jax.Array) -> jax.Array:
        out = jax.lax.ragged_dot(x, w, gs)
        return jax.lax.psum(out, "model") if ar else out

    return jax.shard_map(
        local,
        in_specs=(P("data", "model"), P(None, "model", None), P()),
        out_specs=P("data", None) if ar else P("data", "model"),
        check_vma=False,
    )(lhs, rhs, group_sizes)


class MoELinear(eqx.Module):
    """One linear map per expert, applied to tokens grouped by expert (a ragged matmul).

    The weight has axes ``(Experts, In, Out)`` (``(Experts, Out, In)`` with ``out_first=True``);
    the bias, over ``Out``, is shared by the experts. The input has ``In`` and one token axis,
    sorted so the first ``group_sizes[0]`` tokens go to expert 0, the next ``group_sizes[1]`` to
    expert 1, and so on; the result has the input's axes with ``In`` replaced by ``Out``. The
    matmul is ``jax.lax.ragged_dot_general``, or `gmm_sharded` with ``use_gmm=True``.
    """

    weight: NamedArray
    bias: NamedArray | None
    Experts: Axis = eqx.field(static=True)
    In: Axis = eqx.field(static=True)
    Out: Axis = eqx.field(static=True)
    use_gmm: bool = eqx.field(static=True, default=False)

    @staticmethod
    def init(
        Experts: Axis,
        In: Axis,
        Out: Axis,
        *,
        key: jax.Array,
        use_bias: bool = True,
        out_first: bool = False,
        init_scale: float = 1.0,
        use_gmm: bool = False,
    ) -> MoELinear:
        """Truncated-normal expert weights scaled by ``init_scale / sqrt(In.size)``; a zero bias over ``Out``.

        ``use_gmm`` runs the matmul through `gmm_sharded` (per-shard under a data/model mesh).
        """
        joint = (Experts, Out, In) if out_first else (Experts, In, Out)
        weight = truncated_normal(key, joint, init_scale / In.size**0.5, op="MoELinear.init")
        bias = named_unchecked(jnp.zeros((Out.size,)), (Out,)) if use_bias else None
        return MoELinear(weight, bias, Experts, In, Out, use_gmm)

    @property
    def out_first(self) -> bool:
        """Whether each expert's weight is laid out ``(Out, In)`` (the weight does not end with ``Out``)."""
        return not _ends_with(self.weight.axes, (self.Out.name,))

    def __call__(
        self, inputs: NamedArray, group_sizes: NamedArray | jax.Array, *, key: jax.Array | None = None
    ) -> NamedArray:
        """Map each token by its expert's weight; ``group_sizes`` (over ``Experts``) counts tokens per expert."""
        op = "MoELinear"
        if not isinstance(inputs, NamedArray):
            raise NamedTypeError(f"{op}: expected a NamedArray input, got {type(inputs).__name__}")
        names = [ax.name for ax in inputs.axes]
        if self.In.name not in names:
            raise axis_not_found(op, [self.In.name], inputs.axes)
        in_pos = names.index(self.In.name)
        if inputs.axes[in_pos].size != self.In.size:
            raise axis_size_mismatch(op, self.In.name, inputs.axes[in_pos].size, self.In.size)
        if len(inputs.axes) != 2:
            raise BroadcastError(
                f"{op}: expected the input to have {self.In.name!r} and one token axis, got "
                f"{format_shape(inputs.axes)}; flatten the batch axes into one token axis first (x.flatten_axes)"
            )
        tok_pos = 1 - in_pos
        if isinstance(group_sizes, NamedArray):
            if not group_sizes.has_axis(self.Experts.name):
                raise axis_not_found(f"{op} (group_sizes)", [self.Experts.name], group_sizes.axes)
            gs = group_sizes.rearrange((..., self.Experts.name)).array
        elif hasattr(group_sizes, "shape"):
            gs = jnp.asarray(group_sizes)
        else:
            raise NamedTypeError(
                f"{op}: group_sizes must be an integer array with one entry per expert "
                f"({self.Experts.name!r}: {self.Experts.size}), got {type(group_sizes).__name__}"
            )
        if gs.shape != (self.Experts.size,):
            raise AxisSizeError(
                f"{op}: group_sizes must have one entry per expert ({self.Experts.name!r}: {self.Experts.size}), "
                f"got shape {tuple(gs.shape)}"
            )
        gs = gs.astype(jnp.int32)
        out_axes = tuple(self.Out if i == in_pos else ax for i, ax in enumerate(inputs.axes))
        if self.use_gmm:
            x = inputs.array if tok_pos == 0 else inputs.array.T
            w = self.weight.rearrange((self.Experts, self.In, self.Out)).array
            raw = gmm_sharded(x, w, gs)
            if tok_pos != 0:
                raw = raw.T
        else:
            w_names = [ax.name for ax in self.weight.axes]
            dims = jax.lax.RaggedDotDimensionNumbers(
                dot_dimension_numbers=(([in_pos], [w_names.index(self.In.name)]), ([], [])),
                lhs_ragged_dimensions=[tok_pos],
                rhs_group_dimensions=[w_names.index(self.Experts.name)],
            )
            raw = jax.lax.ragged_dot_general(inputs.array, self.weight.array, gs, dims)
            if tok_pos != 0:  # ragged_dot_general puts the token axis first
                raw = raw.T
        out = named_unchecked(raw, out_axes)
        if self.bias is not None:
            out = out + self.bias
        return out
