"""What `scanners.parsing.parse_python` costs over a bare `ast.parse` on Python 3.11 code.

    python benchmarks/parse_fast_path.py [PATH]

PATH defaults to this repository's `scanners/` (3.11 code by construction). Prints the best of 15
alternating runs for each parser and the overhead; the newer-grammar fallback must cost nothing
on files 3.11 already accepts.
"""

from __future__ import annotations

import ast
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path

from scanners.parsing import parse_python

RUNS = 15


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent.parent / "scanners"
    sources = [p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.py"))]
    lines = sum(source.count("\n") for source in sources)
    parsers: dict[str, Callable[[str, str], ast.Module]] = {
        "ast.parse": ast.parse,
        "parse_python": parse_python,
    }
    best: dict[str, float] = {name: float("inf") for name in parsers}
    gc.collect()
    gc.disable()  # a collection triggered by the other parser's garbage would skew a pair
    try:
        for run in range(RUNS):
            for name in sorted(parsers, reverse=bool(run % 2)):  # alternate who goes first
                started = time.perf_counter()
                for source in sources:
                    parsers[name](source, "bench.py")
                best[name] = min(best[name], time.perf_counter() - started)
    finally:
        gc.enable()
    print(f"{len(sources)} files, {lines:,} lines, best of {RUNS} runs")
    for name, seconds in best.items():
        print(f"  {name:<13} {seconds:8.4f} s  {lines / seconds:12,.0f} lines/s")
    overhead = best["parse_python"] / best["ast.parse"] - 1
    print(f"  overhead of parse_python on 3.11 code: {overhead:+.1%}")


if __name__ == "__main__":
    main()
