"""The digits example trains a named-axis CNN to high accuracy quickly, and its layers keep their names."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import equinox as eqx
import jax
import pytest


def _load_script():
    name = "train_digits"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("train_digits.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses (equinox modules) look their module up there
        spec.loader.exec_module(module)
    return sys.modules[name]


digits = _load_script()


def test_layers_name_their_spatial_axes():
    train_data, test_data = digits.load_digits()
    assert train_data["images"].shape == {"batch": 1438, "height": 8, "width": 8, "channel": 1}
    assert test_data["labels"].shape == {"batch": 359}
    # shapes only (traced, not run): each block halves height and width and sets the channels
    model = eqx.filter_eval_shape(digits.DigitClassifier.init, 8, key=jax.random.PRNGKey(0))
    x = test_data["images"]["batch", 0:4]
    h1 = eqx.filter_eval_shape(model.block1, x)
    assert h1.shape == {"batch": 4, "height": 4, "width": 4, "channel": 8}
    assert eqx.filter_eval_shape(model.block2, h1).shape == {
        "batch": 4,
        "height": 2,
        "width": 2,
        "channel": 16,
    }
    assert eqx.filter_eval_shape(model, x).shape == {"batch": 4, "label": 10}


def test_short_training_classifies_held_out_digits_in_any_axis_order(capsys):
    model, accuracy = digits.train(epochs=8)
    log = capsys.readouterr().out.splitlines()
    assert len(log) == 8 and log[0].startswith("epoch  1  loss")
    assert accuracy > 0.93, accuracy  # 8 epochs reach about 97%
    # the layers find axes by name: channel-first images are classified the same
    _, test_data = digits.load_digits()
    channel_first = test_data["images"].rearrange(("channel", "batch", "height", "width"))
    assert digits.accuracy(model, {**test_data, "images": channel_first}) == pytest.approx(accuracy)


def test_bad_flags_exit_with_usage():
    with pytest.raises(SystemExit) as exc:
        digits.main(["--epochs", "0"])
    assert exc.value.code == 2
