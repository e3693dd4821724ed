"""Attention: the named reference, masks and biases, and the kernel-dispatching `fused_attention`."""

from ._src.attention import alibi_attention_bias as alibi_attention_bias
from ._src.attention import causal_mask as causal_mask
from ._src.attention import combine_masks_and as combine_masks_and
from ._src.attention import combine_masks_or as combine_masks_or
from ._src.attention import dot_product_attention as dot_product_attention
from ._src.attention import dot_product_attention_weights as dot_product_attention_weights
from ._src.attention import dropout_mask as dropout_mask
from ._src.attention import forgetful_causal_mask as forgetful_causal_mask
from ._src.attention import mask_to_bias as mask_to_bias
from ._src.attention import prefix_lm_mask as prefix_lm_mask
from ._src.fused_attention import AttentionKernel as AttentionKernel
from ._src.fused_attention import FusedAttentionFallbackWarning as FusedAttentionFallbackWarning
from ._src.fused_attention import KernelUnavailable as KernelUnavailable
from ._src.fused_attention import attention_kernels as attention_kernels
from ._src.fused_attention import fused_attention as fused_attention
from ._src.fused_attention import list_attention_kernels as list_attention_kernels
from ._src.fused_attention import register_attention_kernel as register_attention_kernel
