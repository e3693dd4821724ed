"""The private import paths that code written for Haliax 1.4 uses still resolve after core's regrouping."""

from __future__ import annotations

import importlib

import pytest

ALIASES = {
    "haliax._src.einsum": ("haliax._src.contractions.einsum", "einsum"),
    "haliax._src.parsing": ("haliax._src.ops.parsing", "parse_einsum"),
    "haliax._src.rearrange": ("haliax._src.ops.rearrange", "einops_rearrange"),
    "haliax._src.state_dict": ("haliax._src.trees.state_dict", "flatten_modules_for_export"),
    "haliax._src.scan": ("haliax._src.transforms.scan", "ScanCheckpointSpec"),
}


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_a_haliax_private_path_is_the_layered_module_itself(alias: str) -> None:
    target, name = ALIASES[alias]
    module = importlib.import_module(alias)
    assert module is importlib.import_module(target)
    assert hasattr(module, name)


def test_index_where_keeps_its_haliax_path() -> None:
    from haliax._src.base.pytypes import index_where
    from haliax._src.util import index_where as aliased

    assert aliased is index_where


def test_the_fp8_path_forwards_to_the_quantization_package() -> None:
    from haliax._src.fp8 import compute_scale

    assert callable(compute_scale)
