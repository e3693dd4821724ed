"""Every CPU benchmark, each in its own process (the sharded one sets its own XLA_FLAGS); prints all tables.

Run: ``python benchmarks/run_all.py`` or ``nox -s bench``. About 5-8 minutes on 2 shared cores.
Extra arguments are ignored except ``--only NAME[,NAME]`` (e.g. ``--only gpt,sharded``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# (name, script, arguments)
BENCHMARKS = [
    ("core", "bench_core.py", []),
    ("scan_compile", "bench_scan_compile.py", []),
    ("gpt", "bench_gpt.py", ["--compile-rounds", "5"]),
    ("attention", "bench_attention.py", []),
    ("sharded", "bench_sharded.py", []),
]


def _env(name: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("JAX_PLATFORMS", "cpu")
    # The workspace members' source trees, so a plain ``python`` with the dependencies also works.
    paths = [
        os.path.join(ROOT, "packages", p, "src") for p in sorted(os.listdir(os.path.join(ROOT, "packages")))
    ]
    paths.append(os.path.join(ROOT, "examples", "gpt_model", "src"))
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    if name != "sharded":
        # One CPU device for the single-device benchmarks, whatever the caller's XLA_FLAGS say.
        flags = " ".join(
            f for f in env.get("XLA_FLAGS", "").split() if "force_host_platform_device_count" not in f
        )
        env["XLA_FLAGS"] = flags
    return env


def main(argv: list[str]) -> int:
    only = None
    if "--only" in argv:
        only = set(argv[argv.index("--only") + 1].split(","))
    failed = []
    start = time.perf_counter()
    for name, script, args in BENCHMARKS:
        if only and name not in only:
            continue
        print(f"\n## {name} ({script})\n", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, os.path.join(HERE, script), *args], env=_env(name), cwd=ROOT)
        print(f"\n({name}: {time.perf_counter() - t0:.0f} s)", flush=True)
        if rc:
            failed.append(name)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    if failed:
        print(f"FAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
