"""How much of the public API a type checker sees as ``Any``: a measurement, not a test.

    python tests/typing/measure_any.py            # summary
    python tests/typing/measure_any.py --list     # also every Any return and parameter

The public surface is every function, op and class (its ``__init__`` and public methods) reachable
from the five manifests ``haliax``, ``haliax.nn``, ``haliax.partitioning``, ``haliax.quantization``
and ``haliax.testing``, each object counted once. The names are found at run time; their types are
what pyright reveals, so ops built by factories are measured through the factory's protocol, as a
user's type checker sees them. For an overloaded callable a parameter counts as ``Any`` when it is
``Any`` in every overload, and the return counts as ``Any`` when any overload returns ``Any``.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pathlib
import subprocess
import sys
import tempfile
import warnings

ROOT = pathlib.Path(__file__).resolve().parents[2]
MANIFESTS = ("haliax", "haliax.nn", "haliax.partitioning", "haliax.quantization", "haliax.testing")


def _ours(obj: object) -> bool:
    return (getattr(obj, "__module__", None) or "").startswith("haliax")


def public_callables() -> list[str]:
    """Expressions (``haliax.exp.__call__``, ``haliax.NamedArray.sum``...) naming each public callable."""
    seen: set[int] = set()
    out: list[str] = []
    for modname in MANIFESTS:
        mod = importlib.import_module(modname)
        for name in sorted(dir(mod)):
            if name.startswith("_"):
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # deprecated aliases are public too
                obj = getattr(mod, name)
            if inspect.ismodule(obj) or not _ours(obj) or id(obj) in seen:
                continue
            seen.add(id(obj))
            expr = f"{modname}.{name}"
            if inspect.isclass(obj):
                if "__init__" in obj.__dict__ or any("__init__" in b.__dict__ for b in obj.__mro__[:-1]):
                    out.append(f"{expr}.__init__")
                for attr, member in sorted(vars(obj).items()):
                    if attr.startswith("_") or not callable(member) or inspect.isclass(member):
                        continue
                    if id(member) in seen and not hasattr(member, "__wrapped_jnp__"):
                        continue
                    out.append(f"{expr}.{attr}")
            elif inspect.isfunction(obj):
                out.append(expr)
            elif callable(obj):
                out.append(f"{expr}.__call__")
    return out


def _split_top(text: str, sep: str = ",") -> list[str]:
    """Split ``text`` at ``sep`` outside brackets and quotes."""
    parts, depth, cur, quote = [], 0, [], ""
    for ch in text:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def _is_any(t: str) -> bool:
    return "Any" in [m.strip() for m in _split_top(t, "|")]


def _closing(text: str) -> int:
    """Index of the bracket that closes the one ``text`` opens with."""
    depth = 0
    for i, ch in enumerate(text):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0:
            return i
    raise ValueError(f"unbalanced: {text!r}")


def _signature(sig: str) -> tuple[dict[str, str], str]:
    """``{param: type}`` and the return type of a pyright callable ``(a: T, ...) -> R``."""
    close = _closing(sig)
    params_text, ret = sig[1:close], sig[close + 1 :].strip().removeprefix("->").strip()
    params: dict[str, str] = {}
    for p in _split_top(params_text):
        if p in ("/", "*") or ":" not in p:
            continue
        name, _, rest = p.partition(":")
        name = name.strip()
        if name in ("self", "cls"):
            continue
        params[name] = _split_top(rest, "=")[0].strip()
    return params, ret


def reveal(exprs: list[str]) -> dict[str, str]:
    """What pyright's ``reveal_type`` says of each expression (those it can resolve)."""
    probe = ROOT / "build" / "typing_probe.py"
    probe.parent.mkdir(exist_ok=True)
    lines = ["import haliax", *(f"import {m}" for m in MANIFESTS[1:])]
    lines += [f"reveal_type({e})" for e in exprs]
    probe.write_text("\n".join(lines) + "\n")
    with tempfile.TemporaryFile() as out:
        subprocess.run(["pyright", "--outputjson", str(probe)], cwd=ROOT, stdout=out, check=False)
        out.seek(0)
        report = json.load(out)
    revealed: dict[int, str] = {}
    for d in report["generalDiagnostics"]:
        if d["severity"] == "information" and d["message"].startswith("Type of"):
            text = d["message"].split('" is "', 1)[1][:-1]
            revealed[d["range"]["start"]["line"] - (len(lines) - len(exprs))] = text
    return {e: revealed[i] for i, e in enumerate(exprs) if i in revealed}


def _is_signature(t: str) -> bool:
    return t.startswith(("(", "Overload["))


def measure(exprs: list[str]) -> list[tuple[str, dict[str, bool], bool]]:
    """Per expression: ``{param: is Any}`` and whether the return is ``Any``."""
    types = reveal(exprs)
    # An op built by a factory is typed by the factory's protocol: measure its ``__call__``.
    protocols = [f"{e}.__call__" for e, t in types.items() if not _is_signature(t) and "[" not in t]
    types.update({e.removesuffix(".__call__"): t for e, t in reveal(protocols).items()})
    results = []
    for e in exprs:
        t = types.get(e)
        if t is None or not _is_signature(t):
            continue  # not a callable signature (a property, an unresolved name)
        sigs = _split_top(t[len("Overload[") : -1]) if t.startswith("Overload[") else [t]
        parsed = [_signature(s) for s in sigs]
        names = set().union(*(p for p, _ in parsed))
        params = {n: all(_is_any(p[n]) for p, _ in parsed if n in p) for n in names}
        results.append((e, params, any(_is_any(r) for _, r in parsed)))
    return results


def main() -> None:
    results = measure(public_callables())
    n_params = sum(len(p) for _, p, _ in results)
    any_params = sum(sum(p.values()) for _, p, _ in results)
    any_returns = [e for e, _, r in results if r]
    if "--list" in sys.argv:
        for e, params, r in results:
            anys = sorted(n for n, a in params.items() if a)
            if r or anys:
                print(f"{e}: returns {'Any' if r else 'typed'}; Any params: {', '.join(anys) or '-'}")
    print(f"callables measured: {len(results)}")
    print(
        f"public parameters annotated Any: {any_params} / {n_params} ({100 * any_params / max(n_params, 1):.1f}%)"
    )
    print(f"public return types that are Any: {len(any_returns)}")


if __name__ == "__main__":
    main()
