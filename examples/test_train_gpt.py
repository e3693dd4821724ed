"""The GPT demo trains (loss falls), writes its outputs, resumes, and rejects bad input clearly."""

from __future__ import annotations

import json

import pytest
from haliax_gpt_example import train

TINY = [
    "--steps",
    "12",
    "--layers",
    "1",
    "--embed",
    "32",
    "--heads",
    "2",
    "--seq-len",
    "16",
    "--batch-size",
    "4",
]
TINY += ["--eval-every", "6", "--sample-tokens", "8", "--no-progress", "--lr", "1e-2"]

pytestmark = pytest.mark.filterwarnings("ignore:fused_attention. kernel 'cudnn' cannot run")


def test_demo_trains_saves_and_resumes(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert train.main([*TINY, "--out", str(out)]) == 0
    history = json.loads((out / "checkpoint.json").read_text())["history"]
    first, last = history[0][1], history[-1][1]
    assert last < first - 0.5, f"loss did not fall: {first} -> {last}"
    for name in ("checkpoint.safetensors", "loss.png", "samples.txt"):
        assert (out / name).stat().st_size > 0
    assert (out / "samples.txt").read_text().startswith("The ")

    resumed = [a if a != "12" else "14" for a in TINY]
    assert train.main([*resumed, "--out", str(out), "--resume"]) == 0
    assert "resumed from" in capsys.readouterr().out
    assert json.loads((out / "checkpoint.json").read_text())["step"] == 14


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"", "is empty"),
        (b"\xff\xfe not utf-8", "is not UTF-8 text (byte 0 is 0xff)"),
        (b"tiny", "too few for --seq-len 16"),
    ],
)
def test_bad_text_gets_a_clear_message(tmp_path, capsys, content, message) -> None:
    path = tmp_path / "corpus.txt"
    if content is not None:
        path.write_bytes(content)
    assert train.main([*TINY, "--text", str(path), "--out", str(tmp_path / "run")]) == 2
    assert message in capsys.readouterr().out


def test_resume_without_a_checkpoint_says_what_to_do(tmp_path, capsys) -> None:
    assert train.main([*TINY, "--out", str(tmp_path / "none"), "--resume"]) == 2
    assert "train once without --resume first" in capsys.readouterr().out
