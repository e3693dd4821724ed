"""Train a small GPT with named tensors on an offline corpus (CPU by default, GPUs too).

    python examples/train_gpt.py                      # defaults: a few minutes on 2 CPU cores
    python examples/train_gpt.py --text book.txt      # any UTF-8 text file
    python examples/train_gpt.py --mesh data=4,model=2 --strategy fsdp+tp
    python examples/train_gpt.py --resume             # continue from the last checkpoint

Writes ``runs/gpt/`` (or ``--out``): a safetensors checkpoint, ``loss.png`` and ``samples.txt``.
"""

from __future__ import annotations

import sys

from haliax_gpt_example.train import main

if __name__ == "__main__":
    sys.exit(main())
