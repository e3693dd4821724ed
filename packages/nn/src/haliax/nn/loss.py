"""Losses and their reduction."""

from ._src.loss import binary_cross_entropy_loss as binary_cross_entropy_loss
from ._src.loss import cross_entropy_loss as cross_entropy_loss
from ._src.loss import cross_entropy_loss_and_log_normalizers as cross_entropy_loss_and_log_normalizers
from ._src.loss import maybe_reduce_loss as maybe_reduce_loss
from ._src.loss import reduce_loss as reduce_loss
