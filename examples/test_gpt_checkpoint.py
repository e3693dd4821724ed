"""The GPT demo's training-state checkpoints: save, resume from the latest complete step, nothing to resume."""

from __future__ import annotations

import dataclasses
import functools
import pathlib
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from haliax_gpt_example import checkpoint
from haliax_gpt_example.model import GPT, GPTConfig

CONFIG = GPTConfig(vocab=32, seq_len=8, embed=16, heads=2, layers=2)


def _filled(shapes: Any, rng: np.random.Generator) -> Any:
    """Random values in the shapes of ``shapes`` (host numpy, so nothing is compiled)."""

    def fill(x: Any) -> Any:
        if isinstance(x, jax.ShapeDtypeStruct):
            return jnp.asarray((rng.standard_normal(x.shape) * 4).astype(x.dtype))
        return x

    return jax.tree.map(fill, shapes)


@functools.cache
def _state(seed: int) -> tuple[GPT, optax.OptState]:
    rng = np.random.default_rng(seed)
    model = _filled(eqx.filter_eval_shape(GPT.init, CONFIG, key=jax.random.PRNGKey(0)), rng)
    opt_shapes = eqx.filter_eval_shape(optax.adamw(1e-3).init, eqx.filter(model, eqx.is_array))
    return model, _filled(opt_shapes, rng)


def _same(a: object, b: object) -> bool:
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    return len(la) == len(lb) and all(
        np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(la, lb, strict=True)
    )


def test_save_then_resume_from_the_latest_step(tmp_path: pathlib.Path) -> None:
    assert checkpoint.restore_latest(tmp_path, *_state(1)) is None  # nothing saved yet
    model, opt_state = _state(0)
    config = dataclasses.asdict(CONFIG)
    checkpoint.save(tmp_path, 2, model, opt_state, config=config, data_position=64)
    checkpoint.save(tmp_path, 4, model, opt_state, config=config, data_position=128)
    checkpoint.save(tmp_path, 4, model, opt_state, config=config, data_position=128)  # already saved: kept
    checkpoint.wait_until_finished(tmp_path)
    # An interrupted save of step 6 is left behind; it is never resumed from.
    (tmp_path / "checkpoints" / "6.orbax-checkpoint-tmp").mkdir()

    restored = checkpoint.restore_latest(tmp_path, *_state(1))
    assert restored is not None
    step, model2, opt_state2, config2, position = restored
    assert (step, config2, position) == (4, config, 128)
    assert _same(model2, model) and _same(opt_state2, opt_state)
    assert not _same(model2, _state(1)[0])
