"""The checkpoint directory: its layout, which steps are complete, and what is not a checkpoint.

A checkpoint directory holds one subdirectory per step, in orbax's ``CheckpointManager`` layout::

    <directory>/<step>/arrays/    every array of the tree under its state-dict key (the dotted keys
                                  of ``haliax.state_dict.to_state_dict``); each process writes the
                                  shards it owns
    <directory>/<step>/haliax/    JSON: the format, each key's shape and dtype, the tree's Python
                                  numbers and the caller's metadata
    <directory>/<step>.orbax-checkpoint-tmp   a save in progress, or one that was interrupted

orbax writes a step under the temporary name and, once every process has written its part, puts
a ``commit_success.txt`` marker in it and renames it to its final name. A step counts as complete
only when its final directory holds that marker, so an interrupted save is never restored.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any, NamedTuple

from haliax.errors import StateDictError

FORMAT = "haliax.partitioning checkpoint"
FORMAT_VERSION = 1
ARRAYS_ITEM = "arrays"  # orbax item: the arrays, by state-dict key
RECORD_ITEM = "haliax"  # orbax item: JSON record (keys, shapes, dtypes, numbers, metadata)
_COMMIT_MARKER = "commit_success.txt"
_TMP_MARK = ".orbax-checkpoint-tmp"
_SAFETENSORS_HINT = (
    "a .safetensors file is a weights export: read it with haliax.state_dict.load_state_dict and "
    "from_state_dict"
)


def import_orbax(op: str) -> Any:
    """``orbax.checkpoint``, or an ImportError for ``op`` naming the extra that installs it."""
    try:
        import orbax.checkpoint as ocp
    except ModuleNotFoundError as e:
        raise ImportError(
            f"{op}: checkpoints need orbax-checkpoint, which is not installed; install it with "
            f"`pip install 'haliax-partitioning[checkpoint]'` (or `pip install haliax` for the full stack)",
            name="orbax.checkpoint",
        ) from e
    return ocp


# ----- the directory: complete steps, interrupted saves, foreign entries -----
class Listing(NamedTuple):
    """A checkpoint directory's entries: complete steps, unfinished saves, and anything else."""

    complete: list[int]
    incomplete: list[str]
    foreign: list[str]


def list_steps(directory: pathlib.Path) -> Listing:
    """Sort the entries of an existing ``directory`` into complete steps, unfinished saves and foreign names."""
    complete: list[int] = []
    incomplete: list[str] = []
    foreign: list[str] = []
    for entry in sorted(os.scandir(directory), key=lambda e: e.name):
        name = entry.name
        if name.isdigit() and entry.is_dir():
            if os.path.exists(os.path.join(entry.path, _COMMIT_MARKER)):
                complete.append(int(name))
            else:
                incomplete.append(name)
        elif _TMP_MARK in name:
            incomplete.append(name)
        elif not name.startswith((".", "_")):  # orbax's own root files and hidden files are not foreign
            foreign.append(name)
    return Listing(sorted(complete), incomplete, foreign)


def quoted(names: list[str], limit: int = 4) -> str:
    """``'a', 'b' and 3 more``: names for an error message."""
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def not_a_directory(op: str, where: str) -> StateDictError:
    """The error for a checkpoint path that is a file (a safetensors export, most likely)."""
    hint = (
        _SAFETENSORS_HINT
        if where.endswith(".safetensors")
        else "pass the directory that save_checkpoint wrote"
    )
    return StateDictError(f"{op}: {where!r} is a file, not a checkpoint directory; {hint}")


def _foreign(op: str, where: str, listing: Listing) -> StateDictError:
    hint = (
        _SAFETENSORS_HINT
        if any(n.endswith(".safetensors") for n in listing.foreign)
        else "pass the directory that save_checkpoint wrote (it holds one numbered directory per step)"
    )
    return StateDictError(
        f"{op}: {where!r} is not a checkpoint directory: it holds {quoted(listing.foreign)} and no "
        f"complete step; {hint}"
    )


def read_listing(op: str, directory: pathlib.Path) -> Listing | None:
    """The listing of ``directory`` (None if it does not exist); raises for a file or a foreign directory."""
    where = str(directory)
    if not directory.exists():
        return None
    if not directory.is_dir():
        raise not_a_directory(op, where)
    listing = list_steps(directory)
    if not listing.complete and listing.foreign:
        raise _foreign(op, where, listing)
    return listing


def checkpoint_steps(directory: str | os.PathLike[str]) -> list[int]:
    """The complete steps saved in ``directory``, in increasing order (none if it does not exist).

    Steps whose save is still running or was interrupted are not complete and never count.

    Raises:
        StateDictError: ``directory`` is a file, or holds other files and no checkpoint step
            (a safetensors export, another tool's output).
    """
    listing = read_listing("checkpoint_steps", pathlib.Path(directory).absolute())
    return [] if listing is None else listing.complete


def latest_checkpoint_step(directory: str | os.PathLike[str]) -> int | None:
    """The last complete step saved in ``directory``; None if it does not exist or holds none yet.

    Steps whose save is still running or was interrupted are not complete and never count.

    Raises:
        StateDictError: ``directory`` is a file, or holds other files and no checkpoint step
            (a safetensors export, another tool's output).
    """
    listing = read_listing("latest_checkpoint_step", pathlib.Path(directory).absolute())
    return listing.complete[-1] if listing and listing.complete else None
