"""Hugging Face GPT-2 directories without torch: layout, round trip, cached decoding, sampling, the script.

The comparison against transformers' own logits and generate runs in ``nox -s interop``
(packages/nn/tests/interop); here a tiny random GPT-2 is written in Hugging Face's layout by our
own code and read back.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from haliax_gpt_example import hf_gpt2
from haliax_gpt_example.bpe import Gpt2Tokenizer
from safetensors.numpy import load_file, save_file

import haliax as hax
from haliax.errors import MissingFileError, StateDictError, ValueRangeError

MERGES = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("Ġ", "a")]
TOKENIZER = Gpt2Tokenizer.byte_level(MERGES)
CONFIG = hf_gpt2.Gpt2Config(vocab_size=len(TOKENIZER), n_positions=64, n_embd=32, n_layer=2, n_head=4)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A tiny random GPT-2 in Hugging Face's layout: config.json, model.safetensors, tokenizer files.

    The weights are drawn with numpy under the key names and Conv1D shapes of Hugging Face's
    files (a compiled random init would cost seconds; reading them is what this file tests).
    """
    d = tmp_path_factory.mktemp("tiny-gpt2")
    rng = np.random.default_rng(0)
    weights = {
        k: (0.02 * rng.standard_normal(shape)).astype(np.float32) for k, shape in _expected_keys().items()
    }
    weights |= {k: np.ones_like(v) for k, v in weights.items() if ".ln_" in k and k.endswith(".weight")}
    save_file(weights, str(d / "model.safetensors"), metadata={"format": "pt"})
    (d / "config.json").write_text(json.dumps(CONFIG.to_hf_dict()))
    TOKENIZER.save(d)
    return d


@pytest.fixture(scope="module")
def model(model_dir) -> hf_gpt2.Gpt2LMHeadModel:
    return hf_gpt2.load_pretrained(model_dir)


_forward = jax.jit(lambda model, ids: model(ids))


def _ids(length: int = 10) -> hax.NamedArray:
    ids = np.random.default_rng(0).integers(0, CONFIG.vocab_size, (2, length))
    return hax.named(jnp.asarray(ids, dtype=jnp.int32), ("batch", "position"))


def _expected_keys() -> dict[str, tuple[int, ...]]:
    E, V, P, M = CONFIG.n_embd, CONFIG.vocab_size, CONFIG.n_positions, 4 * CONFIG.n_embd
    keys = {"transformer.wte.weight": (V, E), "transformer.wpe.weight": (P, E)}
    keys |= {"transformer.ln_f.weight": (E,), "transformer.ln_f.bias": (E,)}
    for i in range(CONFIG.n_layer):
        h = f"transformer.h.{i}."
        for ln in ("ln_1", "ln_2"):
            keys |= {h + ln + ".weight": (E,), h + ln + ".bias": (E,)}
        # Conv1D stores (in, out)
        for name, (fan_in, fan_out) in {
            "attn.c_attn": (E, 3 * E),
            "attn.c_proj": (E, E),
            "mlp.c_fc": (E, M),
            "mlp.c_proj": (M, E),
        }.items():
            keys |= {h + name + ".weight": (fan_in, fan_out), h + name + ".bias": (fan_out,)}
    return keys


def test_save_pretrained_writes_hugging_face_keys_shapes_and_config(model, tmp_path):
    hf_gpt2.save_pretrained(model, tmp_path)
    assert {k: v.shape for k, v in load_file(tmp_path / "model.safetensors").items()} == _expected_keys()
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_type"] == "gpt2" and config["architectures"] == ["GPT2LMHeadModel"]
    sizes = {k: config[k] for k in ("vocab_size", "n_positions", "n_embd", "n_layer", "n_head")}
    assert sizes == {"vocab_size": len(TOKENIZER), "n_positions": 64, "n_embd": 32, "n_layer": 2, "n_head": 4}


def test_round_trip_keeps_every_weight_and_the_logits(model, model_dir, tmp_path):
    assert model.config == CONFIG
    hf_gpt2.save_pretrained(model, tmp_path)
    first, second = load_file(model_dir / "model.safetensors"), load_file(tmp_path / "model.safetensors")
    assert first.keys() == second.keys()
    for k in first:
        np.testing.assert_array_equal(first[k], second[k], err_msg=k)
    ids = _ids()
    again = hf_gpt2.load_pretrained(tmp_path)
    np.testing.assert_array_equal(_forward(again, ids).array, _forward(model, ids).array)


def test_hub_style_keys_and_buffers_load_too(model, model_dir, tmp_path):
    # The Hub's original gpt2 files name keys without "transformer." and carry the causal-mask buffers.
    weights = load_file(model_dir / "model.safetensors")
    weights = {k.removeprefix("transformer."): v for k, v in weights.items()}
    weights["h.0.attn.bias"] = np.ones((1, 1, 64, 64), np.float32)
    weights["lm_head.weight"] = weights["wte.weight"]
    save_file(weights, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    (tmp_path / "config.json").write_text((model_dir / "config.json").read_text())
    hub = hf_gpt2.load_pretrained(tmp_path)
    for ours, theirs in zip(jax.tree.leaves(hub), jax.tree.leaves(model), strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_cached_decoding_matches_the_full_forward_pass(model):
    ids = _ids()
    cache = hf_gpt2.KvCache.zeros(CONFIG, ids.resolve_axis("batch"), 16)
    # one program for both chunks: the start position is a traced value
    decode = jax.jit(lambda model, ids, cache, start: model.decode(ids, cache, start))
    first, cache = decode(model, ids["position", 0:5], cache, 0)
    second, _ = decode(model, ids["position", 5:10], cache, 5)
    both = hax.concatenate("position", [first, second])
    np.testing.assert_allclose(both.array, _forward(model, ids).array, atol=1e-5, rtol=0)


def test_greedy_generation_is_argmax_of_the_full_forward_pass(model):
    prompt = [5, 9, 2]
    got = hf_gpt2.generate(model, prompt, 6, key=jax.random.PRNGKey(0), temperature=0.0, num_samples=3)
    assert (got == got[0]).all()  # greedy: every sample is the same
    got = got[0].tolist()
    tokens = list(prompt)
    for _ in range(6):
        padded = [
            tokens + [0] * (10 - len(tokens))
        ] * 2  # the shape of _ids(): the forward pass compiles once
        logits = _forward(model, hax.named(jnp.asarray(padded, jnp.int32), ("batch", "position")))
        tokens.append(int(logits["batch", 0, "position", len(tokens) - 1].argmax("vocab").scalar()))
    assert got == tokens[len(prompt) :]


def test_sampling_with_a_seed_is_deterministic_and_one_program(model):
    before = hf_gpt2._generate._cache_size()  # pyright: ignore[reportAttributeAccessIssue]  # jit's count of compiled programs
    kw = {"temperature": 0.8, "top_k": 20, "num_samples": 3}
    a = hf_gpt2.generate(model, [1, 2, 3], 12, key=jax.random.PRNGKey(7), **kw)
    b = hf_gpt2.generate(model, [1, 2, 3], 12, key=jax.random.PRNGKey(7), **kw)
    c = hf_gpt2.generate(model, [4, 5, 6, 7, 8], 9, key=jax.random.PRNGKey(8), temperature=1.3, num_samples=3)
    assert a.shape == (3, 12) and a.dtype == np.int32 and c.shape == (3, 9)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[:, :9], c)
    assert not np.array_equal(a[0], a[1])  # the samples of one batch differ
    top1 = hf_gpt2.generate(
        model, [1, 2, 3], 12, key=jax.random.PRNGKey(7), temperature=0.8, top_k=1, num_samples=3
    )
    greedy = hf_gpt2.generate(model, [1, 2, 3], 12, key=jax.random.PRNGKey(7), temperature=0.0, num_samples=3)
    np.testing.assert_array_equal(top1, greedy)
    # other prompt lengths, lengths, temperatures and top_k reuse one compiled program
    count = hf_gpt2._generate._cache_size()  # pyright: ignore[reportAttributeAccessIssue]
    assert count - before <= 1


def test_generate_rejects_what_does_not_fit(model):
    with pytest.raises(ValueRangeError, match=r"^generate: 3 prompt tokens \+ max_new_tokens=62"):
        hf_gpt2.generate(model, [1, 2, 3], 62, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueRangeError, match=r"^generate: the prompt is empty"):
        hf_gpt2.generate(model, [], 4, key=jax.random.PRNGKey(0))


def test_tokenizer_round_trips_text_and_reads_its_files(model_dir):
    text = "the thin cat's   hat, x² <|endoftext|> 日本"
    ids = TOKENIZER.encode(text)
    assert TOKENIZER.decode(ids) == text
    assert TOKENIZER.vocab["Ġthe"] in TOKENIZER.encode(" the")
    assert ids.count(TOKENIZER.vocab["<|endoftext|>"]) == 1
    assert Gpt2Tokenizer.from_dir(model_dir).encode(text) == ids


def test_missing_files_and_unsupported_configs_say_what_to_do(tmp_path, model_dir):
    with pytest.raises(MissingFileError, match=r"^load_config: no config\.json in"):
        hf_gpt2.load_pretrained(tmp_path)
    (tmp_path / "config.json").write_text((model_dir / "config.json").read_text())
    (tmp_path / "pytorch_model.bin").write_bytes(b"")
    with pytest.raises(MissingFileError, match="safe_serialization=True"):
        hf_gpt2.load_pretrained(tmp_path)
    with pytest.raises(StateDictError, match="scale_attn_by_inverse_layer_idx=True"):
        hf_gpt2.Gpt2Config.from_hf_dict({"scale_attn_by_inverse_layer_idx": True})
    with pytest.raises(MissingFileError, match=r"no vocab\.json and merges\.txt"):
        Gpt2Tokenizer.from_dir(tmp_path)


def test_generate_script_prints_samples_and_saves(model_dir, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        "gpt2_generate", Path(__file__).with_name("gpt2_generate.py")
    )
    assert spec is not None and spec.loader is not None
    gpt2_generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpt2_generate)
    # the sampling test's settings: its compiled program serves here too
    argv = ["--model-dir", str(model_dir), "--prompt", "the", "--save-to", str(tmp_path / "out")]
    argv += ["--max-new-tokens", "12", "--temperature", "0.8", "--top-k", "20", "--num-samples", "3"]
    assert gpt2_generate.main(argv) == 0
    out = capsys.readouterr().out
    assert "--- sample 0\nthe" in out and "one compiled program" in out
    assert (tmp_path / "out" / "model.safetensors").exists() and (tmp_path / "out" / "merges.txt").exists()
    assert gpt2_generate.main(["--model-dir", str(tmp_path / "missing")]) == 2
    assert "gpt2_generate: load_config: no config.json" in capsys.readouterr().err
