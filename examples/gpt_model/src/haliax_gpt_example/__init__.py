"""The GPT demo: data, model and trainer for ``examples/train_gpt.py``."""
