"""py-spy profiles: speedscope JSON (``--format speedscope``) and raw collapsed stacks (``raw``).

Both are reduced while reading into bounded aggregates, so memory follows the size of the profiled
code, not the size of the file:

- per thread: id, name, sample count, and how many samples ran inside the event loop;
- inclusive sample counts per ``(file, function)`` and per ``(file, line)`` (each counted once
  per sample, however often the function recurses);
- the stacks sampled inside the event loop, reduced to the frames that can be application code
  plus the leaf frame (the blocking call), for RUNTIME-BLOCKING-STACK.

A sample runs "inside the event loop" when its stack holds asyncio's ``run_forever``/``_run_once``
or a uvloop frame; such samples belong to the event-loop thread, and AnyIO worker threads (where
``def`` routes run) never match.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TextIO

from scanners.ingest.errors import ArtifactParseError
from scanners.ingest.textio import as_text, first_lines, head_text, iter_lines, shorten

KIND = "pyspy"

_RAW_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
_RAW_THREAD = re.compile(r"^thread \((?P<id>[^)]*)\)(?::\s*(?P<name>.*))?$")
_RAW_PROCESS = re.compile(r'^process (?P<pid>\d+):"(?P<command>.*)"$')
_RAW_LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
_SPEEDSCOPE_THREAD = re.compile(r'Thread (?P<id>\S+)(?: "(?P<name>.*)")?')
_SITE_DIRS = ("/site-packages/", "/dist-packages/")
_STDLIB_DIR = re.compile(r"/lib/python\d+(?:\.\d+)?t?/")

# Relative (py-spy shortened) paths whose top-level package is one of these are library code:
# the server, framework and driver stacks FastAPI services run on.
_KNOWN_LIBRARIES = frozenset(
    {
        "anyio",
        "asyncpg",
        "starlette",
        "fastapi",
        "uvicorn",
        "uvloop",
        "h11",
        "httptools",
        "gunicorn",
        "hypercorn",
        "sqlalchemy",
        "sqlmodel",
        "psycopg",
        "psycopg2",
        "pymysql",
        "aiomysql",
        "aiosqlite",
        "requests",
        "urllib3",
        "httpx",
        "httpcore",
        "aiohttp",
        "redis",
        "pydantic",
        "pydantic_core",
        "click",
        "sniffio",
        "certifi",
        "idna",
        "charset_normalizer",
        "websockets",
        "watchfiles",
        "jinja2",
        "markupsafe",
        "orjson",
        "ujson",
        "boto3",
        "botocore",
        "s3transfer",
        "celery",
        "kombu",
        "billiard",
        "amqp",
        "grpc",
        "google",
        "opentelemetry",
        "sentry_sdk",
        "structlog",
        "pytest",
        "_pytest",
        "pluggy",
    }
)
_STDLIB_MODULES = frozenset(sys.stdlib_module_names)
# Memory bounds: the innermost application frames of an event-loop stack (the async def that
# blocks is close to the leaf), and the distinct reduced stacks kept (the rest are counted).
MAX_KEPT_FRAMES = 24
MAX_LOOP_STACKS = 100_000
SHORT_STACK_FRAMES = 4


@dataclass(frozen=True, slots=True)
class Frame:
    function: str
    file: str  # as the profiler wrote it: absolute, shortened, or "<frozen runpy>"
    line: int  # 0 when unknown


@dataclass(slots=True)
class ThreadInfo:
    thread_id: str
    name: str
    samples: int = 0
    event_loop_samples: int = 0

    @property
    def is_event_loop(self) -> bool:
        return self.event_loop_samples > 0


@dataclass
class PySpyProfile:
    """What a py-spy profile says, reduced (see the module docstring)."""

    format: str  # "raw" or "speedscope"
    total_samples: int = 0
    event_loop_samples: int = 0
    event_loop_idle_samples: int = 0  # the loop waiting in its own select(): not blocked
    shortened_loop_samples: int = 0  # kept with their innermost frames only (past the cap)
    dropped_loop_samples: int = 0  # past both caps: counted, not analysed
    threads: dict[str, ThreadInfo] = field(default_factory=dict)
    frames: list[Frame] = field(default_factory=list)  # interned; stacks hold indices
    function_samples: Counter[tuple[str, str]] = field(default_factory=Counter)
    line_samples: Counter[tuple[str, int]] = field(default_factory=Counter)
    loop_stacks: Counter[tuple[int, ...]] = field(default_factory=Counter)  # root -> leaf
    skipped_profiles: list[str] = field(default_factory=list)
    _frame_ids: dict[Frame, int] = field(default_factory=dict, repr=False)

    def intern(self, frame: Frame) -> int:
        index = self._frame_ids.get(frame)
        if index is None:
            index = len(self.frames)
            self.frames.append(frame)
            self._frame_ids[frame] = index
        return index

    @property
    def event_loop_threads(self) -> list[ThreadInfo]:
        return [thread for thread in self.threads.values() if thread.is_event_loop]

    def summary(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "samples": self.total_samples,
            "event_loop_samples": self.event_loop_samples,
            "event_loop_idle_samples": self.event_loop_idle_samples,
            "shortened_loop_samples": self.shortened_loop_samples,
            "dropped_loop_samples": self.dropped_loop_samples,
            "threads": [
                {
                    "id": thread.thread_id,
                    "name": thread.name,
                    "samples": thread.samples,
                    "event_loop": thread.is_event_loop,
                }
                for thread in sorted(self.threads.values(), key=lambda t: -t.samples)
            ],
            "skipped_profiles": list(self.skipped_profiles),
        }


def is_library_file(file: str) -> bool:
    """True for interpreter, stdlib and installed-package frames (never application code)."""
    if not file or file.startswith("<"):
        return True
    posix = file.replace("\\", "/")
    if any(marker in posix for marker in _SITE_DIRS) or _STDLIB_DIR.search(posix):
        return True
    if posix.startswith("/"):
        return False
    top = posix.split("/", 1)[0].removesuffix(".py")
    return top in _STDLIB_MODULES or top in _KNOWN_LIBRARIES


def is_event_loop_frame(frame: Frame) -> bool:
    """A frame that is only on the stack while an event loop runs on this thread.

    uvloop's loop is compiled: under it the stack goes from asyncio's ``Runner.run`` (or
    ``asyncio.run`` before 3.11) straight to the coroutine frames, so those count too.
    """
    posix = frame.file.replace("\\", "/")
    if "uvloop" in posix:
        return True
    if posix.endswith("asyncio/base_events.py"):
        return frame.function.endswith(("run_forever", "_run_once", "run_until_complete"))
    return posix.endswith("asyncio/runners.py") and frame.function.endswith("run")


def _is_loop_idle(stack: list[Frame]) -> bool:
    """The event loop waiting for I/O: in its own ``select()``, or (uvloop) in compiled code
    right under the frame that started the loop."""
    if not stack:
        return False
    if is_event_loop_frame(stack[-1]):
        return True
    return (
        len(stack) >= 2
        and stack[-2].function.endswith("_run_once")
        and stack[-1].function.endswith("select")
    )


class _Reducer:
    """Folds one stack (frame ids, root first) at a time into a ``PySpyProfile``.

    Everything that depends on a frame alone is computed once per distinct frame: a profile has
    millions of frames but only as many distinct ones as there are code lines in play.
    """

    def __init__(self, profile: PySpyProfile) -> None:
        self.profile = profile
        self._loop: list[bool] = []
        self._library: list[bool] = []
        self._function: list[tuple[str, str]] = []
        self._line: list[tuple[str, int] | None] = []

    def frame_id(self, frame: Frame) -> int:
        index = self.profile.intern(frame)
        if index == len(self._loop):
            self._loop.append(is_event_loop_frame(frame))
            self._library.append(is_library_file(frame.file))
            self._function.append((frame.file, frame.function))
            self._line.append((frame.file, frame.line) if frame.line else None)
        return index

    def add(self, thread_key: str, thread_id: str, name: str, stack: list[int], count: int) -> None:
        profile = self.profile
        thread = profile.threads.get(thread_key)
        if thread is None:
            thread = profile.threads[thread_key] = ThreadInfo(thread_id=thread_id, name=name)
        elif name and not thread.name:
            thread.name = name
        thread.samples += count
        profile.total_samples += count
        unique = set(stack)
        for function_key in {self._function[i] for i in unique}:
            profile.function_samples[function_key] += count
        for line_key in {self._line[i] for i in unique}:
            if line_key is not None:
                profile.line_samples[line_key] += count
        if not any(self._loop[i] for i in unique):
            return
        thread.event_loop_samples += count
        profile.event_loop_samples += count
        frames = profile.frames
        if _is_loop_idle([frames[i] for i in stack[-2:]]):
            profile.event_loop_idle_samples += count
            return
        kept = [i for i in stack[:-1] if not self._library[i]][-MAX_KEPT_FRAMES:]
        kept.append(stack[-1])
        key = tuple(kept)
        stacks = profile.loop_stacks
        if key in stacks or len(stacks) < MAX_LOOP_STACKS:
            stacks[key] += count
            return
        # Past the cap, keep the leaf and the innermost application frames (where the blocking
        # call and its async caller are), which folds many long stacks into one.
        short = key[-SHORT_STACK_FRAMES:]
        if short in stacks or len(stacks) < MAX_LOOP_STACKS + MAX_LOOP_STACKS // 2:
            stacks[short] += count
            profile.shortened_loop_samples += count
        else:
            profile.dropped_loop_samples += count


def sniff(head: bytes) -> bool:
    return sniff_speedscope(head) or sniff_raw(head)


def sniff_speedscope(head: bytes) -> bool:
    text = head_text(head).lstrip()
    return text.startswith("{") and (
        "speedscope" in text or ('"profiles"' in text and '"shared"' in text)
    )


def sniff_raw(head: bytes) -> bool:
    lines = first_lines(head, 3)
    if not lines:
        return False
    for line in lines:
        match = _RAW_LINE.match(line)
        if match is None:
            return False
        stack = match.group("stack")
        if stack.strip() and not (
            _RAW_FRAME.match(stack.split(";", 1)[0])
            or _RAW_THREAD.match(stack.split(";", 1)[0])
            or _RAW_PROCESS.match(stack.split(";", 1)[0])
        ):
            return False
    return True


def parse(stream: BinaryIO | TextIO) -> PySpyProfile:
    """Parse either py-spy format, told apart by the first non-blank character."""
    text = as_text(stream)
    first = ""
    while not first:
        chunk = text.read(1)
        if not chunk:
            raise ArtifactParseError("empty file: no py-spy samples")
        if not chunk.isspace():
            first = chunk
    if first == "{":
        return parse_speedscope(_Prefixed(first, text))
    return parse_raw(_Prefixed(first, text))


class _Prefixed:
    """A text stream with a character pushed back in front (what ``parse`` read to decide)."""

    def __init__(self, prefix: str, rest: TextIO) -> None:
        self._prefix = prefix
        self._rest = rest

    def read(self, size: int = -1) -> str:
        if size == 0:
            return ""
        prefix, self._prefix = self._prefix, ""
        if size is None or size < 0:
            return prefix + self._rest.read()
        if not prefix:
            return self._rest.read(size)
        return prefix + self._rest.read(size - len(prefix))

    def readline(self, size: int = -1) -> str:
        prefix, self._prefix = self._prefix, ""
        if not prefix:
            return self._rest.readline(size)
        if prefix.endswith("\n"):
            return prefix
        limit = size - len(prefix) if size is not None and size >= 0 else -1
        return prefix + self._rest.readline(limit)


def _raw_frame(text: str, line_number: int) -> Frame:
    match = _RAW_FRAME.match(text)
    if match is None:
        # Native frames and frames without a file still name a function: keep them.
        if not text.strip():
            raise ArtifactParseError(f"line {line_number}: empty frame in the stack")
        return Frame(function=text.strip(), file="", line=0)
    line = match.group("line")
    return Frame(match.group("function"), match.group("file"), int(line) if line else 0)


def parse_raw(stream: BinaryIO | TextIO | _Prefixed) -> PySpyProfile:
    """Collapsed stacks, one line per unique stack: ``frame;frame;... count``, root first."""
    profile = PySpyProfile(format="raw")
    reducer = _Reducer(profile)
    frame_ids: dict[str, int] = {}  # frame text -> id: most frames repeat on every line
    seen_line = False
    for number, line in iter_lines(stream, "a py-spy raw profile"):  # type: ignore[arg-type]
        if not line.strip():
            continue
        seen_line = True
        stack_text, _, count_text = line.rpartition(" ")
        last = stack_text.rsplit(";", 1)[-1]
        if not count_text.isdigit() or not (
            not last.strip()
            or last.endswith(")")
            or _RAW_THREAD.match(last)
            or _RAW_PROCESS.match(last)
        ):
            raise ArtifactParseError(
                f"line {number}: expected 'frame;frame;... count', got {shorten(line)}"
                + (" (the file may be truncated)" if ";" in line else "")
            )
        parts = stack_text.split(";") if stack_text.strip() else []
        thread_key = thread_id = thread_name = ""
        while parts:
            head = parts[0]
            process = _RAW_PROCESS.match(head) if head.startswith("process ") else None
            thread = _RAW_THREAD.match(head) if head.startswith("thread (") else None
            if process is not None:
                thread_key += f"process {process.group('pid')}/"
            elif thread is not None:
                thread_id = thread.group("id")
                thread_name = (thread.group("name") or "").strip()
                thread_key += f"thread {thread_id}"
            else:
                break
            parts.pop(0)
        stack: list[int] = []
        for part in parts:
            index = frame_ids.get(part)
            if index is None:
                index = frame_ids[part] = reducer.frame_id(_raw_frame(part, number))
            stack.append(index)
        reducer.add(thread_key or "all", thread_id, thread_name, stack, int(count_text))
    if not seen_line:
        raise ArtifactParseError("empty file: no py-spy samples")
    return profile


def parse_speedscope(stream: BinaryIO | TextIO | _Prefixed) -> PySpyProfile:
    """speedscope JSON as py-spy writes it: a shared frame table, one sampled profile per thread."""
    try:
        document = json.loads(stream.read())
    except json.JSONDecodeError as exc:
        raise ArtifactParseError(
            f"line {exc.lineno}: not valid JSON ({exc.msg}); the file may be truncated"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("profiles"), list):
        raise ArtifactParseError("not a speedscope file: no 'profiles' list at the top level")
    shared = document.get("shared")
    raw_frames = shared.get("frames") if isinstance(shared, dict) else None
    if not isinstance(raw_frames, list):
        raise ArtifactParseError("not a speedscope file: no 'shared.frames' table")
    frames: list[Frame] = []
    profile = PySpyProfile(format="speedscope")
    reducer = _Reducer(profile)
    for index, raw in enumerate(raw_frames):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise ArtifactParseError(f"shared.frames[{index}]: expected an object with a 'name'")
        line = raw.get("line")
        frames.append(
            Frame(
                str(raw["name"]), str(raw.get("file") or ""), line if isinstance(line, int) else 0
            )
        )
    ids = [reducer.frame_id(frame) for frame in frames]
    for number, raw_profile in enumerate(document["profiles"]):
        if not isinstance(raw_profile, dict):
            raise ArtifactParseError(f"profiles[{number}]: expected an object")
        label = str(raw_profile.get("name") or f"profile {number}")
        if raw_profile.get("type") != "sampled":
            profile.skipped_profiles.append(
                f"{label}: type {raw_profile.get('type')!r}, not sampled"
            )
            continue
        samples = raw_profile.get("samples")
        if not isinstance(samples, list):
            raise ArtifactParseError(f"profiles[{number}] ({label}): no 'samples' list")
        match = _SPEEDSCOPE_THREAD.search(label)
        thread_id = match.group("id") if match else str(number)
        thread_name = (match.group("name") or "") if match else label
        for sample_index, sample in enumerate(samples):
            if not isinstance(sample, list) or not all(
                isinstance(i, int) and 0 <= i < len(frames) for i in sample
            ):
                raise ArtifactParseError(
                    f"profiles[{number}] ({label}) sample {sample_index}: "
                    "expected a list of indices into shared.frames"
                )
            reducer.add(f"thread {thread_id}", thread_id, thread_name, [ids[i] for i in sample], 1)
    if profile.total_samples == 0:
        raise ArtifactParseError("the speedscope file holds no samples")
    return profile
