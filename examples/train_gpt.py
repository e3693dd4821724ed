"""Train a small GPT with named tensors on an offline corpus (CPU by default, GPUs too).

    python examples/train_gpt.py                      # defaults: a couple of minutes on 2 CPU cores
    python examples/train_gpt.py --text book.txt      # any UTF-8 text file
    python examples/train_gpt.py --mesh data=4,model=2 --strategy fsdp+tp
    python examples/train_gpt.py --resume --steps 1200    # continue the latest run, train longer
    python examples/train_gpt.py --coordinator HOST:PORT --num-processes 2 --process-id 0   # one process of a job

Writes a run directory (``runs/gpt``, then ``runs/gpt-2``, ... or ``--out``): ``config.json``, checkpoints,
``model.safetensors``, ``history.json``, ``loss.png`` and ``samples.txt``. Run it inside the project's
environment (``python -m uv run --frozen --package haliax-gpt-example --extra demo python examples/train_gpt.py``);
``--help`` lists every option. Multi-host launches: docs/tutorials/multi-host.md.
"""

from __future__ import annotations

import sys

from haliax_gpt_example.train import main

if __name__ == "__main__":
    sys.exit(main())
