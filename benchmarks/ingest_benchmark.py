"""Benchmark: parse a large raw py-spy profile in bounded memory.

    .venv/bin/python benchmarks/ingest_benchmark.py            # 500 MB file in /tmp
    .venv/bin/python benchmarks/ingest_benchmark.py --mb 50    # smaller

Generates (once, reused while its size matches) a raw collapsed-stack file the way
``py-spy record --threads --idle -f raw`` writes it: one line per unique stack, thread frame
first, a synthetic service of 400 modules with 4,000 functions under uvicorn/starlette/asyncio
frames, four threads (the event loop and three AnyIO workers). Then parses it in a fresh process and
prints the seconds taken and the parser process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

_LOOP_PREFIX = [
    "_run_module_as_main (<frozen runpy>:198)",
    "_run_code (<frozen runpy>:88)",
    "<module> (uvicorn/__main__.py:4)",
    "main (uvicorn/main.py:412)",
    "run (uvicorn/server.py:65)",
    "run (asyncio/runners.py:190)",
    "Runner.run (asyncio/runners.py:118)",
    "BaseEventLoop.run_until_complete (asyncio/base_events.py:640)",
    "BaseEventLoop.run_forever (asyncio/base_events.py:607)",
    "BaseEventLoop._run_once (asyncio/base_events.py:1922)",
    "Handle._run (asyncio/events.py:80)",
    "RequestResponseCycle.run_asgi (uvicorn/protocols/http/h11_impl.py:403)",
    "Starlette.__call__ (starlette/applications.py:113)",
    "ExceptionMiddleware.__call__ (starlette/middleware/exceptions.py:62)",
    "Router.__call__ (starlette/routing.py:715)",
    "Route.handle (starlette/routing.py:288)",
    "request_response.<locals>.app (starlette/routing.py:73)",
    "get_request_handler.<locals>.app (fastapi/routing.py:301)",
    "run_endpoint_function (fastapi/routing.py:212)",
]
_WORKER_PREFIX = [
    "Thread._bootstrap (threading.py:1002)",
    "Thread._bootstrap_inner (threading.py:1045)",
    "WorkerThread.run (anyio/_backends/_asyncio.py:967)",
]
_LEAVES = [
    "SSLSocket.recv_into (ssl.py:1311)",
    "SocketIO.readinto (socket.py:706)",
    "Popen._wait (subprocess.py:2053)",
    "EpollSelector.select (selectors.py:468)",
    "JSONEncoder.iterencode (json/encoder.py:258)",
]


def generate(path: Path, megabytes: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    modules = [f"svc/area{m // 20}/mod{m}.py" for m in range(400)]
    functions = [(f"fn{f}", modules[f % len(modules)]) for f in range(4000)]
    threads = ["thread (4242): MainThread", "thread (4301)", "thread (4302)", "thread (4303)"]
    target = megabytes * 1024 * 1024
    written = 0
    with path.open("w", encoding="utf-8") as out:
        while written < target:
            thread = rng.choice(threads)
            depth = rng.randint(4, 14)
            app = []
            for _ in range(depth):
                name, module = rng.choice(functions)
                base = 1 + (int(name[2:]) * 37) % 380  # a function spans a few lines
                app.append(f"{name} ({module}:{base + rng.randint(0, 12)})")
            prefix = _LOOP_PREFIX if thread.endswith("MainThread") else _WORKER_PREFIX
            leaf = [rng.choice(_LEAVES)] if rng.random() < 0.6 else []
            line = ";".join([thread, *prefix, *app, *leaf]) + f" {rng.randint(1, 40)}\n"
            out.write(line)
            written += len(line)


def parse_in_child(path: Path) -> dict[str, float]:
    code = (
        "import json, resource, sys, time\n"
        "from scanners.ingest import pyspy\n"
        "started = time.perf_counter()\n"
        f"with open({str(path)!r}, 'rb') as handle:\n"
        "    profile = pyspy.parse(handle)\n"
        "elapsed = time.perf_counter() - started\n"
        "usage = resource.getrusage(resource.RUSAGE_SELF)\n"
        "print(json.dumps({'seconds': elapsed, 'cpu_seconds': usage.ru_utime + usage.ru_stime,\n"
        "    'peak_rss_mb': usage.ru_maxrss / 1024,\n"
        "    'samples': profile.total_samples, 'loop_samples': profile.event_loop_samples,\n"
        "    'loop_stacks': len(profile.loop_stacks), 'dropped': profile.dropped_loop_samples,\n"
        "    'shortened': profile.shortened_loop_samples,\n"
        "    'functions': len(profile.function_samples), 'frames': len(profile.frames)}))\n"
    )
    root = Path(__file__).resolve().parents[1]
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(completed.stdout)
    return result


def baseline_rss_mb() -> float:
    code = (
        "import resource, scanners.ingest.pyspy\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    root = Path(__file__).resolve().parents[1]
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    return float(completed.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=500, help="size of the generated file")
    parser.add_argument("--path", type=Path, default=None)
    args = parser.parse_args()
    path = args.path or Path(f"/tmp/ingest-benchmark-{args.mb}mb.raw")
    if not path.exists() or abs(path.stat().st_size - args.mb * 1024 * 1024) > 1024 * 1024:
        started = time.perf_counter()
        generate(path, args.mb)
        print(f"generated {path} in {time.perf_counter() - started:.1f} s")
    size_mb = path.stat().st_size / (1024 * 1024)
    result = parse_in_child(path)
    print(f"file: {size_mb:,.0f} MB")
    print(
        f"parse: {result['seconds']:.1f} s wall, {result['cpu_seconds']:.1f} s CPU "
        f"({size_mb / result['seconds']:.1f} MB/s wall)"
    )
    print(
        f"peak RSS of the parsing process: {result['peak_rss_mb']:.0f} MB "
        f"(interpreter + imports alone: {baseline_rss_mb():.0f} MB)"
    )
    print(
        f"samples {result['samples']:,.0f}, event-loop samples {result['loop_samples']:,.0f}, "
        f"distinct loop stacks kept {result['loop_stacks']:,.0f}, "
        f"kept with their innermost frames only {result['shortened']:,.0f}, "
        f"dropped {result['dropped']:,.0f}, functions {result['functions']:,.0f}"
    )


if __name__ == "__main__":
    main()
