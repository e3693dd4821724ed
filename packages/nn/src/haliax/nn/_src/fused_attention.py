"""One entry point for attention, `fused_attention`, dispatching to a kernel by name.

Kernels live in the core registry for the entry-point group ``haliax.attention_kernels``. The
built-ins below are entry points of the ``haliax-nn`` distribution, so they follow the rules of
every registry (`haliax.registry`): a plugin that declares one of their names is an error naming
both distributions when that name is looked up (it never silently replaces ours), and a plugin
that fails to import is one `PluginLoadWarning` that leaves the built-ins, and the default
``fused_attention()`` path, working. A third party adds a kernel by declaring an entry point in
the group, or in-process with `register_attention_kernel`. A kernel is a callable::

    kernel(QPos, KPos, Key, query, key, value, *, mask, bias, scaling_factor) -> NamedArray

that raises `KernelUnavailable` (with the reason) when it cannot run on these inputs; the
dispatcher then warns once per reason and runs the ``"xla"`` reference instead.

Built in:

- ``"xla"``: the named reference, `dot_product_attention` (plain XLA ops; runs anywhere).
- ``"cudnn"``: ``jax.nn.dot_product_attention(implementation="cudnn")`` (GPU, fp16/bf16, head
  dim a multiple of 8 up to 128). "GPU" means the devices of the mesh in scope when there is a
  concrete one (so compiling ahead of time for GPU devices from a CPU host picks cuDNN), else
  jax's default backend.
- ``"jax_xla"``: the same ``jax.nn`` call with ``implementation="xla"``; it goes through the
  kernel layout code, so the layout is tested on any backend.

The fused kernels take ``[batch, seq, heads, head_dim]`` arrays. The named axes are laid out
for them here: query axes other than ``QPos`` and ``Key`` are batch, the last of them (usually
the heads axis) becomes ``heads``; key and value must have the same batch axes as the query.
"""

from __future__ import annotations

import functools
import math
import sys
import warnings
from typing import Any, Literal, Protocol

import jax
import jax.numpy as jnp

from haliax import NamedArray
from haliax.axis import Axis, AxisSelector
from haliax.errors import HaliaxError
from haliax.registry import Registry, registry_for

from .attention import causal_mask, combine_masks_and, dot_product_attention
from .context_parallel import attention_across_shards, check_strategy, segment_mask, sequence_split
from .kernel_layout import KernelLayout


class KernelUnavailable(HaliaxError, RuntimeError):
    """An attention kernel cannot run on these inputs; the message says why."""


class FusedAttentionFallbackWarning(UserWarning):
    """`fused_attention` ran the XLA reference because the requested kernel could not run."""


class AttentionKernel(Protocol):
    """An attention implementation over named arrays (see the module docstring)."""

    def __call__(
        self,
        QPos: Axis,
        KPos: Axis,
        Key: Axis,
        query: NamedArray,
        key: NamedArray,
        value: NamedArray,
        *,
        mask: NamedArray | None,
        bias: NamedArray | None,
        scaling_factor: float | None,
        is_causal: bool = False,
    ) -> NamedArray: ...


attention_kernels: Registry[AttentionKernel] = registry_for(
    "haliax.attention_kernels", what="attention kernel", check=callable
)
"""The attention kernels, entry-point group ``haliax.attention_kernels``."""

_warned: set[str] = set()


def register_attention_kernel(name: str, kernel: AttentionKernel) -> AttentionKernel:
    """Register ``kernel`` under ``name`` in-process (two providers for one name is an error)."""
    attention_kernels.register(name, kernel)
    return kernel


def list_attention_kernels() -> tuple[str, ...]:
    """Names of the available attention kernels."""
    return attention_kernels.names()


def xla_attention(
    QPos: Axis,
    KPos: Axis,
    Key: Axis,
    query: NamedArray,
    key: NamedArray,
    value: NamedArray,
    *,
    mask: NamedArray | None = None,
    bias: NamedArray | None = None,
    scaling_factor: float | None = None,
    is_causal: bool = False,
) -> NamedArray:
    """The reference kernel: `dot_product_attention` (plain XLA ops)."""
    if is_causal:
        causal = causal_mask(QPos, KPos)
        mask = causal if mask is None else mask & causal
    return dot_product_attention(
        KPos, Key, query, key, value, mask=mask, bias=bias, scaling_factor=scaling_factor
    )


def _kernel_layout(
    QPos: Axis, KPos: Axis, Key: Axis, query: NamedArray, key: NamedArray, value: NamedArray
) -> tuple[Any, Any, Any, KernelLayout]:
    """Query, key, value as ``[B, T, N, H]`` arrays, and their layout."""
    q_names = {ax.name for ax in query.axes}
    for n in (QPos.name, Key.name):
        if n not in q_names:
            raise KernelUnavailable(f"the query lacks axis {n!r}")
    layout = KernelLayout.of_query(query, QPos, Key)
    for what, x in (("key", key), ("value", value)):
        want = {ax.name: ax.size for ax in (*layout.batch, *layout.tail, KPos, Key)}
        have = {ax.name: ax.size for ax in x.axes}
        if want != have:
            raise KernelUnavailable(
                f"the {what} must have exactly the query's batch/head axes plus {KPos.name!r} and {Key.name!r}"
            )
    return layout.to_kernel(query, QPos), layout.to_kernel(key, KPos), layout.to_kernel(value, KPos), layout


def _bias_layout(x: NamedArray, batch: tuple[Axis, ...], heads: Axis | None, QPos: Axis, KPos: Axis) -> Any:
    """A mask or bias as a ``[B|1, N|1, T, S]`` array (batch and heads broadcast when absent)."""
    has_batch = any(x.has_axis(b.name) for b in batch)
    head_axes = (heads,) if heads is not None and x.has_axis(heads.name) else ()
    target = (*(batch if has_batch else ()), *head_axes, QPos, KPos)
    raw = x.broadcast_to(target).array
    B = math.prod(ax.size for ax in batch) if has_batch else 1
    N = head_axes[0].size if head_axes else 1
    return raw.reshape(B, N, QPos.size, KPos.size)


def _target_platform() -> str:
    """The platform this trace is compiled for: the devices of the concrete mesh in scope, else jax's default."""
    part = sys.modules.get("haliax.partitioning")
    mesh = part.current_mesh() if part is not None else None
    devices = getattr(mesh, "devices", None)  # an AbstractMesh (inside jit) has none
    if devices is not None and devices.size:
        return str(devices.flat[0].platform)
    return jax.default_backend()


def _jax_attention(implementation: Literal["xla", "cudnn"]) -> AttentionKernel:
    def kernel(
        QPos: Axis,
        KPos: Axis,
        Key: Axis,
        query: NamedArray,
        key: NamedArray,
        value: NamedArray,
        *,
        mask: NamedArray | None = None,
        bias: NamedArray | None = None,
        scaling_factor: float | None = None,
        is_causal: bool = False,
    ) -> NamedArray:
        if implementation == "cudnn":
            backend = _target_platform()
            if backend != "gpu":
                raise KernelUnavailable(f"cuDNN attention needs a GPU backend, this is {backend!r}")
            if query.dtype not in (jnp.float16, jnp.bfloat16):
                raise KernelUnavailable(
                    f"cuDNN attention needs float16 or bfloat16 inputs, got {query.dtype}"
                )
            if Key.size % 8 or Key.size > 128:
                raise KernelUnavailable(
                    f"cuDNN attention needs a head dim that is a multiple of 8 up to 128, got {Key.size}"
                )
        q, k, v, layout = _kernel_layout(QPos, KPos, Key, query, key, value)
        m = None if mask is None else _bias_layout(mask, layout.batch, layout.heads, QPos, KPos)
        b = (
            None
            if bias is None
            else _bias_layout(bias, layout.batch, layout.heads, QPos, KPos).astype(q.dtype)
        )
        out = jax.nn.dot_product_attention(
            q, k, v, bias=b, mask=m, scale=scaling_factor, is_causal=is_causal, implementation=implementation
        )
        return layout.from_kernel(out, QPos)

    kernel.__name__ = kernel.__qualname__ = f"{implementation}_attention"
    kernel.__doc__ = (
        f'``jax.nn.dot_product_attention(implementation="{implementation}")`` on the kernel layout.'
    )
    return kernel


cudnn_attention = _jax_attention("cudnn")
jax_xla_attention = _jax_attention("xla")


def _axis(x: NamedArray, sel: AxisSelector) -> Axis:
    return x.resolve_axis(sel) if isinstance(sel, str) else sel


def fused_attention(
    QPos: AxisSelector,
    KPos: AxisSelector,
    Key: AxisSelector,
    query: NamedArray,
    key: NamedArray,
    value: NamedArray,
    *,
    mask: NamedArray | None = None,
    bias: NamedArray | None = None,
    scaling_factor: float | None = None,
    is_causal: bool = False,
    implementation: str | None = None,
    segment_ids: NamedArray | tuple[NamedArray, NamedArray] | None = None,
    context_parallel: Literal["auto", "ring", "all_gather", "off"] = "auto",
) -> NamedArray:
    """Scaled dot-product attention through the fastest kernel that can run.

    ``implementation`` names a kernel (``"xla"``, ``"cudnn"``, ``"jax_xla"`` or a plugin's); None
    means ``"cudnn"``. When the kernel cannot run (no GPU, unsupported dtype or shape) the XLA
    reference runs instead, with one `FusedAttentionFallbackWarning` per distinct reason.
    The result has the query's axes (the fused kernels) or the reference's order; compare by name.
    ``is_causal=True`` lets each query attend only to keys at or before its position; fused
    kernels then skip the masked blocks instead of reading a mask (a GPT-2 124M step on an H100
    ran faster with it than with an explicit `causal_mask`).

    ``segment_ids`` packs several documents into one sequence: integer ids over the query's
    position axis (and any batch axes), or a ``(query_ids, key_ids)`` pair; a query attends only
    to keys with its id (combined with ``mask`` and ``is_causal``).

    Context parallelism: when the active axis mapping (`haliax.partitioning.axis_mapping`) sends
    ``QPos`` to mesh axes of more than one device, attention runs split over those devices, exact,
    with no device holding the scores of the whole sequence: a ring of key/value blocks
    (``context_parallel="ring"``; takes ``is_causal`` and ``segment_ids``, runs its own XLA
    blocks) or an all-gather of keys and values attended through ``implementation``
    (``"all_gather"``; takes any mask and bias). ``"auto"`` chooses (see the guide *Long
    sequences*); ``"off"`` leaves the layout to XLA.
    Without a mesh, or with ``QPos`` unmapped, the keyword changes nothing.

    Examples:
        >>> import haliax as hax, haliax.nn as hnn
        >>> Pos, KPos, Key = hax.Axis("pos", 4), hax.Axis("kpos", 4), hax.Axis("key", 8)
        >>> q = hax.ones((Pos, Key)); k = v = hax.ones((KPos, Key))
        >>> out = hnn.attention.fused_attention(Pos, KPos, Key, q, k, v, implementation="xla")
        >>> sorted(out.shape.items())
        [('key', 8), ('pos', 4)]
    """
    QPos_, Key_ = _axis(query, QPos), _axis(query, Key)
    KPos_ = _axis(key, KPos)
    name = implementation or "cudnn"
    check_strategy("fused_attention", context_parallel)
    split = sequence_split(QPos_) if context_parallel != "off" else None
    if split is not None:
        attention_kernels.get(name)  # an unknown kernel name fails here, whichever strategy runs
        return attention_across_shards(
            split,
            QPos_,
            KPos_,
            Key_,
            query,
            key,
            value,
            mask=mask,
            bias=bias,
            segment_ids=segment_ids,
            scaling_factor=scaling_factor,
            is_causal=is_causal,
            strategy=context_parallel,
            kernel=functools.partial(_dispatch, name),
        )
    if segment_ids is not None:
        _, _, same = segment_mask("fused_attention", QPos_, KPos_, segment_ids)
        mask = same if mask is None else combine_masks_and(mask, same)
    return _dispatch(name, QPos_, KPos_, Key_, query, key, value, mask, bias, scaling_factor, is_causal)


def _dispatch(
    name: str,
    QPos_: Axis,
    KPos_: Axis,
    Key_: Axis,
    query: NamedArray,
    key: NamedArray,
    value: NamedArray,
    mask: NamedArray | None = None,
    bias: NamedArray | None = None,
    scaling_factor: float | None = None,
    is_causal: bool = False,
) -> NamedArray:
    """Run kernel ``name``, or the XLA reference (with one warning per reason) when it cannot run."""
    kernel = attention_kernels.get(name)
    # is_causal goes to the kernel only when set, so kernels written before it existed still work.
    extra = {"is_causal": True} if is_causal else {}
    try:
        return kernel(
            QPos_,
            KPos_,
            Key_,
            query,
            key,
            value,
            mask=mask,
            bias=bias,
            scaling_factor=scaling_factor,
            **extra,
        )
    except KernelUnavailable as e:
        reason = f"{name}: {e}"
        if reason not in _warned:
            _warned.add(reason)
            warnings.warn(
                f"fused_attention: kernel {name!r} cannot run ({e}); using the XLA reference instead",
                FusedAttentionFallbackWarning,
                stacklevel=3,
            )
    return xla_attention(
        QPos_,
        KPos_,
        Key_,
        query,
        key,
        value,
        mask=mask,
        bias=bias,
        scaling_factor=scaling_factor,
        is_causal=is_causal,
    )
