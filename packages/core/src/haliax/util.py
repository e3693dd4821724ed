"""Small helpers haliax's own packages share: tuples, sentinels, array tests, safe wraps."""

from ._src.base.named_array import is_named_array as is_named_array
from ._src.base.pytypes import ensure_tuple as ensure_tuple
from ._src.base.pytypes import is_jax_or_hax_array_like as is_jax_or_hax_array_like
from ._src.base.pytypes import maybe_untuple as maybe_untuple
from ._src.base.sentinels import UNSPECIFIED as UNSPECIFIED
from ._src.base.sentinels import StringHolderEnum as StringHolderEnum
from ._src.base.sentinels import Unspecified as Unspecified
from ._src.ops.wrap import safe_update_wrapper as safe_update_wrapper
from ._src.ops.wrap import safe_wraps as safe_wraps
