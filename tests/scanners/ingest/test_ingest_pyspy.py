"""py-spy parser: raw collapsed stacks and speedscope JSON, real captures and edge cases."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scanners.ingest import pyspy
from scanners.ingest.errors import ArtifactParseError
from tests.scanners.ingest.conftest import DEMO_ROOT, sample


def _parse(relative: str) -> pyspy.PySpyProfile:
    with sample(relative).open("rb") as handle:
        return pyspy.parse(handle)


def test_pyspy_raw_many_keeps_threads_and_loop_samples() -> None:
    profile = _parse("pyspy_raw/many.txt")
    assert profile.format == "raw"
    assert profile.total_samples == 445
    assert profile.event_loop_samples == 432
    assert profile.event_loop_idle_samples == 41
    thread = profile.threads["thread 14365"]
    assert (thread.thread_id, thread.name, thread.samples) == ("14365", "MainThread", 445)
    assert thread.is_event_loop
    assert profile.function_samples[("demoapp/services.py", "load_rates")] == 280
    assert profile.line_samples[("demoapp/services.py", 5)] == 280


def test_pyspy_raw_loop_stacks_keep_app_frames_and_the_leaf() -> None:
    profile = _parse("pyspy_raw/many.txt")
    stack, count = profile.loop_stacks.most_common(1)[0]
    frames = [profile.frames[index] for index in stack]
    assert count == 280
    assert frames == [
        pyspy.Frame("<module>", "demoapp/routes.py", 38),
        pyspy.Frame("get_rates", "demoapp/routes.py", 8),
        pyspy.Frame("load_rates", "demoapp/services.py", 5),
    ]


def test_pyspy_raw_one_line_without_thread_frame() -> None:
    profile = _parse("pyspy_raw/one.txt")
    assert profile.total_samples == 283
    assert list(profile.threads) == ["all"]
    assert profile.event_loop_samples == 283
    assert profile.function_samples[("asyncio/base_events.py", "BaseEventLoop._run_once")] == 283


def test_pyspy_raw_process_and_hex_thread_frames() -> None:
    text = (
        'process 77:"python -m uvicorn app:app";thread (0x7F3A2B1C0740): MainThread;'
        "run_forever (asyncio/base_events.py:608);get (app/x.py:4) 5\n"
        'process 77:"python -m uvicorn app:app";thread (0x7F3A2A000640);'
        "WorkerThread.run (anyio/_backends/_asyncio.py:900) 3\n"
    )
    profile = pyspy.parse(io.StringIO(text))
    assert profile.threads["process 77/thread 0x7F3A2B1C0740"].name == "MainThread"
    assert profile.threads["process 77/thread 0x7F3A2B1C0740"].is_event_loop
    worker = profile.threads["process 77/thread 0x7F3A2A000640"]
    assert (worker.samples, worker.is_event_loop) == (3, False)
    assert profile.event_loop_samples == 5


def test_pyspy_speedscope_many_real_capture() -> None:
    profile = _parse("pyspy_speedscope/many.json")
    assert profile.format == "speedscope"
    assert profile.total_samples == 420
    assert profile.event_loop_samples == 410
    thread = profile.threads["thread 14462"]
    assert (thread.thread_id, thread.name) == ("14462", "")  # py-spy leaves the main thread unnamed
    key = ("/tmp/ingest-demo/demoapp/services.py", "load_rates")
    assert profile.function_samples[key] == 255


def test_pyspy_speedscope_one_sample() -> None:
    profile = _parse("pyspy_speedscope/one.json")
    assert profile.total_samples == 1
    assert profile.threads["thread 4242"].name == "MainThread"
    stack = next(iter(profile.loop_stacks))
    assert [profile.frames[i].function for i in stack] == ["get_rates", "load_rates"]


def test_pyspy_speedscope_skips_evented_profiles() -> None:
    document = (
        '{"shared": {"frames": [{"name": "f", "file": "/a/x.py", "line": 1}]}, "profiles": ['
        '{"type": "evented", "name": "Thread 1", "events": []},'
        '{"type": "sampled", "name": "Thread 2 \\"worker\\"", '
        '"samples": [[0], [0]], "weights": [1, 1]}]}'
    )
    profile = pyspy.parse(io.StringIO(document))
    assert profile.total_samples == 2
    assert profile.skipped_profiles == ["Thread 1: type 'evented', not sampled"]
    assert profile.threads["thread 2"].name == "worker"


@pytest.mark.parametrize(
    ("relative", "message"),
    [
        ("pyspy_raw/empty.txt", "empty file: no py-spy samples"),
        ("pyspy_speedscope/empty.json", "empty file: no py-spy samples"),
        ("pyspy_raw/malformed.txt", "line 5: expected 'frame;frame;... count', got"),
        ("pyspy_speedscope/malformed.json", "not valid JSON"),
    ],
)
def test_pyspy_bad_input_raises_a_clear_error(relative: str, message: str) -> None:
    with pytest.raises(ArtifactParseError) as caught:
        _parse(relative)
    assert message in str(caught.value)


def test_pyspy_raw_truncated_line_says_so() -> None:
    with pytest.raises(ArtifactParseError, match=r"line 2: .*truncated"):
        pyspy.parse(io.StringIO("a (x.py:1);b (y.py:2) 4\na (x.py:1);b (y.p"))


def test_pyspy_speedscope_bad_frame_index() -> None:
    document = '{"shared": {"frames": []}, "profiles": [{"type": "sampled", "samples": [[3]]}]}'
    with pytest.raises(ArtifactParseError, match=r"sample 0: expected a list of indices"):
        pyspy.parse(io.StringIO(document))


def test_pyspy_sniff_tells_formats_apart() -> None:
    assert pyspy.sniff_raw(sample("pyspy_raw/many.txt").read_bytes()[:8192])
    assert pyspy.sniff_speedscope(sample("pyspy_speedscope/many.json").read_bytes()[:8192])
    assert not pyspy.sniff(sample("mypy_text/many.txt").read_bytes())
    assert not pyspy.sniff(sample("locust/many_stats.csv").read_bytes())


def test_pyspy_library_files() -> None:
    assert pyspy.is_library_file("/usr/local/lib/python3.12/site-packages/anyio/x.py")
    assert pyspy.is_library_file("/usr/lib/python3.11/socket.py")
    assert pyspy.is_library_file("asyncio/base_events.py")
    assert pyspy.is_library_file("<frozen runpy>")
    assert pyspy.is_library_file("starlette/routing.py")
    assert not pyspy.is_library_file("/srv/app/mypkg/services/rates.py")
    assert not pyspy.is_library_file("mypkg/services/rates.py")


def _py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return found if Path(found).exists() else None


@pytest.mark.skipif(_py_spy() is None, reason="py-spy is not installed")
@pytest.mark.parametrize("fmt", ["raw", "speedscope"])
def test_pyspy_live_capture_of_a_blocking_asyncio_program(tmp_path: Path, fmt: str) -> None:
    """Profile the demo service for real and check the parser finds its blocked event loop."""
    output = tmp_path / f"profile.{fmt}"
    command = [
        str(_py_spy()),
        "record",
        "--idle",
        "--nonblocking",
        "--threads",
        "-r",
        "200",
        "-f",
        fmt,
        "-o",
        str(output),
        "--",
        sys.executable,
        "-m",
        "demoapp.routes",
        "1.0",
    ]
    env = {**os.environ, "PYTHONPATH": str(DEMO_ROOT)}
    completed = subprocess.run(
        command, cwd=DEMO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    if completed.returncode != 0 and "Permission" in completed.stderr + completed.stdout:
        pytest.skip(f"py-spy may not trace here: {completed.stderr.strip()[:200]}")
    assert completed.returncode == 0, completed.stderr
    with output.open("rb") as handle:
        profile = pyspy.parse(handle)
    assert profile.total_samples > 50
    loop_threads = profile.event_loop_threads
    assert len(loop_threads) == 1
    blocked = sum(
        count
        for (file, function), count in profile.function_samples.items()
        if file.endswith("demoapp/services.py") and function == "load_rates"
    )
    # load_rates sleeps 50 ms per ~60-80 ms round: well over a third of the loop's samples.
    assert blocked / profile.event_loop_samples > 0.35


def test_pyspy_uvloop_stacks_count_as_the_event_loop() -> None:
    # Under uvloop the compiled loop leaves no frame: Runner.run leads to the coroutines.
    base = "run (asyncio/runners.py:190);Runner.run (asyncio/runners.py:118)"
    text = (
        f"{base};RequestResponseCycle.run_asgi (uvicorn/protocols/http/h11_impl.py:403);"
        "get_rates (app/routes.py:8);load_rates (app/services.py:5) 30\n"
        f"{base} 70\n"
        "Thread._bootstrap (threading.py:1002);WorkerThread.run (anyio/_backends/_asyncio.py:967);"
        "sync_route (app/routes.py:20) 10\n"
    )
    profile = pyspy.parse(io.StringIO(text))
    assert (profile.total_samples, profile.event_loop_samples) == (110, 100)
    assert profile.event_loop_idle_samples == 70
    (stack,) = profile.loop_stacks
    assert [profile.frames[i].function for i in stack] == ["get_rates", "load_rates"]


def test_pyspy_distinct_loop_stacks_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pyspy, "MAX_LOOP_STACKS", 4)
    loop = "BaseEventLoop._run_once (asyncio/base_events.py:1922)"
    lines = [
        f"{loop};route{n} (app/r.py:{n});helper (app/h.py:{n % 2 + 1});"
        "g (app/g.py:1);f (app/f.py:2);SocketIO.readinto (socket.py:706) 1"
        for n in range(12)
    ]
    profile = pyspy.parse(io.StringIO("\n".join(lines) + "\n"))
    assert profile.event_loop_samples == 12
    assert len(profile.loop_stacks) == 6  # 4 full stacks, then 2 shortened ones (cap 4 + 2)
    assert profile.shortened_loop_samples == 8
    assert profile.dropped_loop_samples == 0
    assert sum(profile.loop_stacks.values()) == 12
