"""Generate text with a Hugging Face GPT-2 checkpoint directory, in haliax, without torch.

    python examples/gpt2_generate.py --model-dir DIR --prompt "The meaning of life is"

DIR is what ``transformers``' ``save_pretrained`` writes for the model and its tokenizer:
``config.json``, ``model.safetensors``, ``vocab.json`` and ``merges.txt``. ``--save-to OUT``
writes the model back (optionally in ``--dtype bfloat16``) where ``from_pretrained`` loads it.
See docs/tutorials/hf-gpt2.md.
"""

from __future__ import annotations

import argparse
import sys
import time

import jax
import jax.numpy as jnp
from haliax_gpt_example import hf_gpt2
from haliax_gpt_example.bpe import Gpt2Tokenizer

from haliax.errors import HaliaxError

DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Generate text with a Hugging Face GPT-2 checkpoint directory.")
    p.add_argument("--model-dir", required=True, help="a checkpoint directory written by save_pretrained")
    p.add_argument("--prompt", default="", help="text to continue (needs vocab.json and merges.txt in DIR)")
    p.add_argument(
        "--prompt-ids", default=None, help="comma-separated token ids to continue, instead of --prompt"
    )
    p.add_argument("--max-new-tokens", type=int, default=50, help="tokens to generate per sample")
    p.add_argument("--num-samples", type=int, default=1, help="continuations drawn in one batch")
    p.add_argument("--temperature", type=float, default=0.8, help="0 picks the most likely token each step")
    p.add_argument("--top-k", type=int, default=40, help="sample among the k most likely tokens (0: all)")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same text")
    p.add_argument(
        "--dtype", choices=sorted(DTYPES), default=None, help="cast the weights (default: as stored)"
    )
    p.add_argument("--save-to", default=None, help="also write the model (and tokenizer) to this directory")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return _run(args)
    except (HaliaxError, ValueError) as e:
        print(f"gpt2_generate: {e}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    model = hf_gpt2.load_pretrained(args.model_dir, dtype=DTYPES.get(args.dtype or ""))
    c = model.config
    print(
        f"loaded GPT-2 ({c.n_layer} layers, embed {c.n_embd}, vocab {c.vocab_size}) in {time.perf_counter() - t0:.1f}s"
    )
    tokenizer = None
    if args.prompt_ids is not None:
        prompt = [int(t) for t in args.prompt_ids.split(",") if t.strip()]
    else:
        tokenizer = Gpt2Tokenizer.from_dir(args.model_dir)
        # An empty prompt starts from <|endoftext|>, as GPT-2 was trained to begin documents.
        prompt = tokenizer.encode(args.prompt) if args.prompt else [c.bos_token_id]
    if args.save_to:
        hf_gpt2.save_pretrained(model, args.save_to)
        if tokenizer is not None:
            tokenizer.save(args.save_to)
        print(f"saved {args.save_to}")
    if args.max_new_tokens <= 0:
        return 0
    print(
        f"sampling {args.num_samples} x {args.max_new_tokens} tokens (one compiled program) ...", flush=True
    )
    t0 = time.perf_counter()
    out = hf_gpt2.generate(
        model,
        prompt,
        args.max_new_tokens,
        key=jax.random.PRNGKey(args.seed),
        temperature=args.temperature,
        top_k=args.top_k or None,
        num_samples=args.num_samples,
    )
    print(f"done in {time.perf_counter() - t0:.1f}s (compile included)")
    for i, row in enumerate(out):
        text = tokenizer.decode([*prompt, *row.tolist()]) if tokenizer else ",".join(map(str, row.tolist()))
        print(f"--- sample {i}\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
