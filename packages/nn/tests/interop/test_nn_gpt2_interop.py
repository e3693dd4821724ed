"""GPT-2 checkpoints move between Hugging Face transformers (CPU torch) and haliax.nn, logits matching.

Both directions go through safetensors files only (nothing is unpickled): Hugging Face's
``save_pretrained`` -> `haliax.state_dict.load_state_dict` -> `from_torch_compatible_state_dict`,
and `to_torch_compatible_state_dict` -> `save_state_dict` -> ``from_pretrained``. The model is
the user-facing one in ``haliax_gpt_example.hf_gpt2``; its directory-level ``load_pretrained`` /
``save_pretrained``, its cached ``generate`` and its tokenizer are checked against transformers too.

These tests need torch and transformers, which the workspace does not install: ``nox -s interop``
builds an environment with them (and sets HALIAX_REQUIRE_INTEROP=1, so a missing package fails
there instead of skipping). Elsewhere the module is skipped.
"""

from __future__ import annotations

import os
import pickle
from typing import Any

import numpy as np
import pytest

if os.environ.get("HALIAX_REQUIRE_INTEROP"):
    import torch  # pyright: ignore[reportMissingImports]  # optional interop dependency, absent in the dev env
    import transformers  # pyright: ignore[reportMissingImports]  # likewise optional
else:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")

import jax
import jax.numpy as jnp
from haliax_gpt_example import hf_gpt2 as gpt2
from haliax_gpt_example.bpe import Gpt2Tokenizer

import haliax as hax
from haliax.state_dict import (
    from_torch_compatible_state_dict,
    load_state_dict,
    save_state_dict,
    to_torch_compatible_state_dict,
)

CONFIG: dict[str, Any] = {"n_layer": 2, "n_embd": 64, "n_head": 4, "vocab_size": 128, "n_positions": 32}
ATOL = 1e-5


@pytest.fixture(autouse=True)
def no_unpickling(monkeypatch):
    """Checkpoints move through safetensors only: any unpickling during a test is an error."""

    def refuse(*args, **kwargs):
        raise AssertionError("a checkpoint was unpickled; interop must go through safetensors")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)


def _hf_config():
    return transformers.GPT2Config(**CONFIG, attn_implementation="eager")


def _hf_model(seed: int):
    torch.manual_seed(seed)
    model = transformers.GPT2LMHeadModel(_hf_config())
    return model.eval()


def _our_config():
    return gpt2.Gpt2Config(**CONFIG)


def _ids(seed: int = 0, batch: int = 2, length: int = 16) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, CONFIG["vocab_size"], size=(batch, length))


def _hf_logits(model, ids: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(ids)).logits.numpy()


def _our_logits(model, ids: np.ndarray) -> np.ndarray:
    named = hax.named(jnp.asarray(ids, dtype=jnp.int32), ("batch", "position"))
    logits = jax.jit(lambda x: model(x))(named)
    assert tuple(ax.name for ax in logits.axes) == ("batch", "position", "vocab")
    return np.asarray(logits.array)


def _hf_params(model) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy() for k, v in model.state_dict().items()}


def test_state_dict_keys_and_shapes_match_hugging_face_gpt2():
    ours = to_torch_compatible_state_dict(gpt2.Gpt2LMHeadModel.init(_our_config(), key=jax.random.PRNGKey(0)))
    theirs = _hf_params(_hf_model(0))
    # The output projection is tied to wte: Hugging Face lists it, its files do not.
    theirs.pop("lm_head.weight")
    assert {k: tuple(v.shape) for k, v in ours.items()} == {k: tuple(v.shape) for k, v in theirs.items()}
    assert "transformer.h.1.attn.c_attn.weight" in ours
    assert ours["transformer.h.0.mlp.c_fc.weight"].shape == (64, 256)  # Conv1D: (in, out)


def test_hugging_face_gpt2_loads_into_haliax_and_logits_match(tmp_path):
    hf = _hf_model(seed=1)
    hf.save_pretrained(tmp_path, safe_serialization=True)
    assert not list(tmp_path.glob("*.bin")), "save_pretrained must write safetensors only"

    template = gpt2.Gpt2LMHeadModel.init(_our_config(), key=jax.random.PRNGKey(0))
    state_dict = load_state_dict(tmp_path / "model.safetensors")
    ours = from_torch_compatible_state_dict(template, state_dict)

    ids = _ids(seed=2)
    expected = _hf_logits(hf, ids)
    np.testing.assert_allclose(_our_logits(ours, ids), expected, atol=ATOL, rtol=0)
    # the loaded weights, not the template's, produced them
    assert np.abs(_our_logits(template, ids) - expected).max() > 1e-3


def test_haliax_gpt2_saves_for_hugging_face_and_logits_match(tmp_path):
    ours = gpt2.Gpt2LMHeadModel.init(_our_config(), key=jax.random.PRNGKey(3))
    _hf_config().save_pretrained(tmp_path)
    save_state_dict(to_torch_compatible_state_dict(ours), tmp_path / "model.safetensors")

    hf = transformers.GPT2LMHeadModel.from_pretrained(tmp_path, use_safetensors=True).eval()
    assert hf.lm_head.weight.data_ptr() == hf.transformer.wte.weight.data_ptr()

    ids = _ids(seed=4)
    np.testing.assert_allclose(_hf_logits(hf, ids), _our_logits(ours, ids), atol=ATOL, rtol=0)


def test_round_trip_hugging_face_to_haliax_and_back_keeps_every_weight(tmp_path):
    hf = _hf_model(seed=5)
    hf.save_pretrained(tmp_path / "theirs", safe_serialization=True)
    template = gpt2.Gpt2LMHeadModel.init(_our_config(), key=jax.random.PRNGKey(0))
    ours = from_torch_compatible_state_dict(
        template, load_state_dict(tmp_path / "theirs" / "model.safetensors")
    )

    (tmp_path / "ours").mkdir()
    _hf_config().save_pretrained(tmp_path / "ours")
    save_state_dict(to_torch_compatible_state_dict(ours), tmp_path / "ours" / "model.safetensors")
    back = transformers.GPT2LMHeadModel.from_pretrained(tmp_path / "ours", use_safetensors=True).eval()

    before, after = _hf_params(hf), _hf_params(back)
    assert before.keys() == after.keys()
    for k in before:
        np.testing.assert_array_equal(after[k], before[k], err_msg=k)
    ids = _ids(seed=6)
    np.testing.assert_allclose(_hf_logits(back, ids), _hf_logits(hf, ids), atol=ATOL, rtol=0)


def test_load_pretrained_and_save_pretrained_work_with_transformers_directories(tmp_path):
    hf = _hf_model(seed=7)
    hf.save_pretrained(tmp_path / "theirs", safe_serialization=True)
    ours = gpt2.load_pretrained(tmp_path / "theirs")
    assert ours.config == _our_config()
    ids = _ids(seed=8)
    np.testing.assert_allclose(_our_logits(ours, ids), _hf_logits(hf, ids), atol=ATOL, rtol=0)

    gpt2.save_pretrained(ours, tmp_path / "ours")
    back = transformers.GPT2LMHeadModel.from_pretrained(tmp_path / "ours", use_safetensors=True).eval()
    np.testing.assert_allclose(_hf_logits(back, ids), _hf_logits(hf, ids), atol=ATOL, rtol=0)


def test_cached_greedy_generation_matches_transformers_generate():
    hf = _hf_model(seed=9)
    ours = from_torch_compatible_state_dict(
        gpt2.Gpt2LMHeadModel.init(_our_config(), key=jax.random.PRNGKey(0)),
        {k: v for k, v in _hf_params(hf).items() if k != "lm_head.weight" and not k.endswith(".attn.bias")},
    )
    prompt = _ids(seed=10, batch=1, length=5)
    with torch.no_grad():
        expected = hf.generate(
            torch.from_numpy(prompt),
            attention_mask=torch.ones_like(torch.from_numpy(prompt)),
            max_new_tokens=12,
            do_sample=False,
            pad_token_id=0,
        ).numpy()[:, 5:]
    got = gpt2.generate(ours, prompt[0].tolist(), 12, key=jax.random.PRNGKey(0), temperature=0.0)
    np.testing.assert_array_equal(got, expected)


def test_tokenizer_matches_transformers_gpt2_tokenizer(tmp_path):
    merges = [
        ("Ġ", "t"),
        ("h", "e"),
        ("Ġt", "he"),
        ("i", "n"),
        ("Ġ", "a"),
        ("e", "r"),
        ("Ġa", "n"),
        ("Ġ", "1"),
    ]
    ours = Gpt2Tokenizer.byte_level(merges)
    ours.save(tmp_path)
    theirs = transformers.GPT2Tokenizer(str(tmp_path / "vocab.json"), str(tmp_path / "merges.txt"))
    text = (
        "The theorem in their answer:  x² + ½ = 10,000 and __init__ isn't done;\n\n"
        "caf\u00e9 na\u0308ive \u65e5\u672c\u8a9e 123abc\t tabs   and spaces <|endoftext|> the end "
    )
    assert ours.encode(text) == theirs.encode(text)
    assert ours.decode(ours.encode(text)) == text
