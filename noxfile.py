"""Every task a person or CI runs. Sessions run inside the workspace environment through uv.

nox -s tests         every package's tests, the docs' code and the tutorials
nox -s lint          ruff format --check + ruff check
nox -s types         pyright
nox -s docs          mkdocs build --strict
nox -s bench         benchmarks against plain JAX (CPU table)
nox -s demo          train the small GPT on the offline corpus
nox -s interop       GPT-2 checkpoints, generation and tokenizer against Hugging Face transformers (CPU torch)
"""

import os
import sys

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["tests", "lint", "types", "docs"]

# `uv run` exports the path of its own binary as $UV: sessions use it, so they work when uv was
# installed with `python -m pip install uv` into a bin folder that is not on PATH.
UV = os.environ.get("UV", "uv")
UV_RUN = (UV, "run", "--frozen", "--all-packages")


def _uv(session: nox.Session, *args: str, **kwargs) -> None:
    session.run(*UV_RUN, *args, external=True, **kwargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the whole test suite (two workers: the CI machine has two cores)."""
    workers = os.environ.get("HALIAX_TEST_WORKERS", "2")
    _uv(session, "pytest", "-q", "-n", workers, "--dist", "loadfile", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Formatting and lint with ruff."""
    _uv(session, "ruff", "format", "--check", ".")
    _uv(session, "ruff", "check", ".")


@nox.session
def types(session: nox.Session) -> None:
    """Static types with pyright, mode standard (the five source trees linked into one package, tests too).

    tests/typecheck/test_assert_types.py pins what public functions return (``assert_type`` lines);
    ``python tests/typecheck/measure_any.py`` counts the public parameters and returns still ``Any``.
    """
    _uv(session, "python", "docs/hooks.py")
    _uv(session, "pyright", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site; warnings fail the build.

    Every page's code runs (docs/hooks.py), its output shown under each block; outputs that the
    tests recorded for the same page and sources (build/docs-exec/) are reused.
    """
    _uv(session, "mkdocs", "build", "--strict", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks of named vs positional JAX; prints the tables kept in benchmarks/README.md."""
    _uv(session, "python", "benchmarks/run_all.py", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """Train the small GPT on the offline corpus."""
    _uv(session, "python", "examples/train_gpt.py", *session.posargs)


@nox.session
def interop(session: nox.Session) -> None:
    """Hugging Face GPT-2 directories into haliax and back (haliax_gpt_example.hf_gpt2), against CPU torch.

    Logits, greedy generation and tokenizer ids must match transformers'.

    torch and transformers never enter the workspace lock: they go into their own environment,
    .nox/interop-env, next to the workspace's locked packages (installed there by ``uv pip`` from
    ``uv export``). torch comes from pip, pinned to the CPU build this machine's pip finds in its
    local wheel folder; uv, or a looser pin, would fetch gigabytes of CUDA wheels instead. Any
    install failure fails the session: the interop tests are never skipped here.
    """
    env_dir = os.path.join(".nox", "interop-env")
    python = os.path.join(env_dir, "bin", "python")
    if not os.path.exists(python):
        session.run(sys.executable, "-m", "venv", env_dir, external=True)
    locked = os.path.join(env_dir, "workspace-requirements.txt")
    session.run(
        UV, "export", "--frozen", "--all-packages", "--no-hashes", "--quiet", "-o", locked, external=True
    )
    session.run(UV, "pip", "install", "--quiet", "--python", python, "-r", locked, external=True)
    session.run(
        python, "-m", "pip", "install", "--quiet", "torch==2.13.0", "transformers>=4.40", external=True
    )
    session.run(
        python,
        "-c",
        "import torch, transformers; assert torch.version.cuda is None, torch.__version__; "
        "print('interop: torch', torch.__version__, 'transformers', transformers.__version__)",
        external=True,
    )
    session.run(
        python,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:randomly",
        "packages/nn/tests/interop",
        *session.posargs,
        external=True,
        env={"HALIAX_REQUIRE_INTEROP": "1"},
    )
