"""The GPT's weights-only export: ``model.safetensors``.

The named-key layout of ``haliax.state_dict`` (the format the Hugging Face interop reads), without
optimizer state. Training-state checkpoints (sharded, multi-host, async) are ``checkpoint.py``'s.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any

import jax

import haliax.state_dict as hsd


def export_weights(model: Any, path: pathlib.Path) -> None:
    """Write the model's weights to ``path`` as safetensors.

    Every process calls this: the arrays are gathered to the host and process 0 writes the file
    (under a temporary name first, so a killed run never leaves a half-written export).
    """
    tmp = path.with_name(path.name + ".tmp")
    hsd.save_state_dict(hsd.to_state_dict(model), str(tmp))
    if jax.process_index() == 0:
        os.replace(tmp, path)
