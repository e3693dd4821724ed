"""Small helpers haliax's own packages share: tuples, sentinels, array tests, safe wraps."""

from ._src.named_array import is_named_array as is_named_array
from ._src.pytypes import ensure_tuple as ensure_tuple
from ._src.pytypes import is_jax_or_hax_array_like as is_jax_or_hax_array_like
from ._src.pytypes import maybe_untuple as maybe_untuple
from ._src.sentinels import UNSPECIFIED as UNSPECIFIED
from ._src.sentinels import StringHolderEnum as StringHolderEnum
from ._src.sentinels import Unspecified as Unspecified
from ._src.wrap import safe_update_wrapper as safe_update_wrapper
from ._src.wrap import safe_wraps as safe_wraps
