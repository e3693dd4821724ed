"""The GPT demo trains (loss falls), writes its outputs, resumes, and rejects bad input clearly."""

from __future__ import annotations

import json

import pytest
from haliax_gpt_example import cli, data, train

TINY = ["--layers", "1", "--embed", "32", "--heads", "2", "--seq-len", "16", "--batch-size", "4"]
TINY += ["--eval-every", "6", "--sample-tokens", "8", "--no-progress", "--lr", "1e-2"]


def test_demo_trains_saves_on_ctrl_c_and_resumes(tmp_path, capsys, monkeypatch) -> None:
    out = tmp_path / "run"
    window_starts = data.window_starts

    def interrupt_at_step_7(n_tokens, batch_size, seq_len, seed, step):
        if seed != 1234 and step == 7:  # 1234 seeds the eval batches
            raise KeyboardInterrupt
        return window_starts(n_tokens, batch_size, seq_len, seed, step)

    monkeypatch.setattr(data, "window_starts", interrupt_at_step_7)
    assert train.main([*TINY, "--steps", "12", "--save-every", "5", "--out", str(out)]) == 130
    printed = capsys.readouterr().out
    # The CPU attention fallback is announced at most once (nn warns once a process), before training.
    assert printed.count("cannot run") <= 1
    assert printed.find("cannot run") < printed.index("step 6: train loss")
    assert "interrupted at step 7" in printed and "saved; continue with --resume" in printed
    assert {"5", "7"} <= {p.name for p in (out / "checkpoints").iterdir()}
    monkeypatch.setattr(data, "window_starts", window_starts)

    # --resume takes the model shape and the step target from the run (no model flags needed).
    assert train.main(["--out", str(out), "--resume", "--no-progress", "--sample-tokens", "8"]) == 0
    printed = capsys.readouterr().out
    assert "at step 7 of 12" in printed and "sampling 8 tokens..." in printed
    history = json.loads((out / "history.json").read_text())
    assert [h[0] for h in history] == list(range(1, 13))
    first, last = history[0][1], history[-1][1]
    assert last < first - 0.5, f"loss did not fall: {first} -> {last}"
    for name in ("model.safetensors", "loss.png", "samples.txt"):
        assert (out / name).stat().st_size > 0
    assert "12" in {p.name for p in (out / "checkpoints").iterdir()}
    assert (out / "samples.txt").read_text().startswith("The ")
    assert json.loads((out / "config.json").read_text())["embed"] == 32

    # Resuming a finished run says so, and does nothing.
    assert train.main(["--out", str(out), "--resume"]) == 0
    assert "already finished 12 of 12 steps" in capsys.readouterr().out

    # A flag that contradicts the stored run is a one-line flag error.
    with pytest.raises(SystemExit) as e:
        train.main(["--out", str(out), "--resume", "--embed", "64"])
    assert e.value.code == 2
    assert "--embed 64 conflicts with the run" in capsys.readouterr().err

    # A new run does not overwrite an existing one unless asked.
    with pytest.raises(SystemExit) as e:
        train.main([*TINY, "--out", str(out)])
    assert e.value.code == 2
    assert "holds a run already" in capsys.readouterr().err


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


# The test process has 8 simulated CPU devices (conftest.py).
@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--resume"], "--resume: no run in"),
        (["--strategy", "fsdp"], "--strategy fsdp needs a device mesh"),
        (["--heads", "3"], "--heads 3 does not divide --embed 32"),
        (["--mesh", "data=2,dat=4"], "--mesh: unknown axis 'dat'"),
        (
            ["--mesh", "data=8", "--strategy", "fsdq"],
            "--strategy: no sharding strategy named 'fsdq'; did you mean 'fsdp'?",
        ),
        (["--mesh", "data=16"], "--mesh data=16 needs 16 devices; this job has 8"),
        (
            ["--mesh", "data=8", "--batch-size", "4"],
            "--batch-size 4 does not split over the batch axes data=8",
        ),
        (
            ["--mesh", "data=2,model=4", "--strategy", "tp", "--heads", "2"],
            "--mesh data=2,model=4 --strategy tp:",
        ),
        (["--mesh", "data=2,seq=4", "--seq-len", "18"], "--seq-len 18 does not split over seq=4"),
        (["--coordinator", "127.0.0.1:1234"], "also give --num-processes, --process-id"),
        (["--resume", "--overwrite"], "--resume and --overwrite contradict"),
        (["--steps", "0"], "argument --steps: expected a positive integer, got 0"),
    ],
)
def test_bad_flags_are_one_line_flag_errors(tmp_path, capsys, flags, message) -> None:
    with pytest.raises(SystemExit) as e:
        train.main([*TINY, "--steps", "2", "--out", str(tmp_path / "run"), *flags])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.strip().splitlines()[-1].startswith("train_gpt.py: error: ")


def test_every_option_has_help() -> None:
    for action in cli.build_parser()._actions:
        assert action.help, action.option_strings
