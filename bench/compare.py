"""Side by side in one run: a benchmark of an earlier revision and of the working tree, interleaved.

    python -m bench.compare --base 57a6794 --rounds 2 -- zones --tiles 20

Checks the base revision out into a temporary git worktree, then runs `python -m bench.<name> <args>` alternately
in the base worktree and in this one (base, head, base, head, …) on the same local cluster, so both see the same
machine load. Every number in the JSON the benchmark prints is collected; the result lists, per number, the
median of each side and head/base. Written to bench/results/compare.json (and printed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from .run import RESULTS

REPO = Path(__file__).resolve().parent.parent


def numbers(obj, prefix: str = "") -> dict[str, float]:
    """Every int/float leaf of a JSON value, by its dotted path."""
    if isinstance(obj, bool):
        return {}
    if isinstance(obj, int | float):
        return {prefix: float(obj)}
    if isinstance(obj, dict):
        return {k: v for key, val in obj.items() for k, v in numbers(val, f"{prefix}.{key}" if prefix else key).items()}
    if isinstance(obj, list):
        return {k: v for i, val in enumerate(obj) for k, v in numbers(val, f"{prefix}[{i}]").items()}
    return {}


def run_once(tree: Path, bench: list[str]) -> dict:
    """One run of `python -m bench.<bench[0]> <bench[1:]>` with `tree` first on the path; its JSON output."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    env.setdefault("GRIDSVC_DATA_DIR", str((REPO / ".gridsvc").resolve()))
    env.setdefault("GRIDSVC_PUBLIC_MAX_POINTS", "10000")
    env.setdefault("GRIDSVC_SHARED_GEODATA", str(REPO.parent / "shared" / "geodata"))  # the base tree has no ../shared  # the same limits for revisions whose bench predates the cap
    out = subprocess.run([sys.executable, "-m", f"bench.{bench[0]}", *bench[1:]], cwd=tree, env=env,
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"bench.{bench[0]} failed in {tree}:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout[out.stdout.index("{"):])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="the earlier revision (commit, tag, branch)")
    ap.add_argument("--rounds", type=int, default=2, help="runs of each side (interleaved)")
    ap.add_argument("bench", nargs=argparse.REMAINDER, help="-- NAME [ARGS]: the benchmark module and its arguments")
    args = ap.parse_args()
    bench = [a for a in args.bench if a != "--"] or ["zones", "--tiles", "20"]
    base_rev = subprocess.run(["git", "rev-parse", "--short", args.base], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
    head_rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
    runs: dict[str, list[dict[str, float]]] = {"base": [], "head": []}
    with tempfile.TemporaryDirectory(prefix="gridsvc-base-") as tmp:
        base_tree = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(base_tree), base_rev], cwd=REPO, check=True)
        try:
            for i in range(args.rounds):
                for side, tree in (("base", base_tree), ("head", REPO)):
                    print(f"round {i + 1}/{args.rounds}: {side}", file=sys.stderr, flush=True)
                    runs[side].append(numbers(run_once(tree, bench)))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base_tree)], cwd=REPO, check=False)
    keys = [k for k in runs["head"][0] if all(k in r for r in runs["base"] + runs["head"])]
    table = {}
    for k in keys:
        b = statistics.median(r[k] for r in runs["base"])
        h = statistics.median(r[k] for r in runs["head"])
        table[k] = {"base": round(b, 4), "head": round(h, 4), "head_over_base": round(h / b, 3) if b else None}
    result = {"bench": bench, "base": base_rev, "head": head_rev, "rounds": args.rounds, "medians": table,
              "runs": runs}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "compare.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print(json.dumps({"bench": bench, "base": base_rev, "head": head_rev, "medians": table}, ensure_ascii=False,
                     indent=1))


if __name__ == "__main__":
    main()
