"""Flat, torch-style state dicts of modules and pytrees, and safetensors files."""

from ._src.base.errors import StateDictError as StateDictError
from ._src.trees.state_dict import ModuleWithStateDictSerialization as ModuleWithStateDictSerialization
from ._src.trees.state_dict import StateDict as StateDict
from ._src.trees.state_dict import flatten_modules_for_export as flatten_modules_for_export
from ._src.trees.state_dict import from_state_dict as from_state_dict
from ._src.trees.state_dict import from_torch_compatible_state_dict as from_torch_compatible_state_dict
from ._src.trees.state_dict import load_state_dict as load_state_dict
from ._src.trees.state_dict import save_state_dict as save_state_dict
from ._src.trees.state_dict import to_numpy_state_dict as to_numpy_state_dict
from ._src.trees.state_dict import to_state_dict as to_state_dict
from ._src.trees.state_dict import to_torch_compatible_state_dict as to_torch_compatible_state_dict
from ._src.trees.state_dict import unflatten_modules_from_export as unflatten_modules_from_export
from ._src.trees.state_dict import with_prefix as with_prefix
