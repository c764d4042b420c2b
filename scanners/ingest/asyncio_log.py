"""asyncio debug-mode logs (``PYTHONASYNCIODEBUG=1`` or ``loop.set_debug(True)``).

Recognized, wherever a logging prefix puts them on the line:

- ``Executing <Task finished name='Task-2' coro=<get_rates() done, defined at /app/x.py:6> ...>
  took 0.051 seconds`` (a slow task step; ``running at`` for a pending task);
- ``Executing <Handle flush() at /app/x.py:20 created at /app/x.py:31> took 0.020 seconds``
  (a slow plain callback; ``TimerHandle`` too);
- ``/app/x.py:30: RuntimeWarning: coroutine 'name' was never awaited``, followed in debug mode by
  ``Coroutine created at (most recent call last)`` and ``File "...", line N, in f`` frames.

Lines are grouped while reading (same step at the same code location), so a long log takes memory
in proportion to the distinct locations, not to its length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TextIO

from scanners.ingest.errors import ArtifactParseError
from scanners.ingest.textio import head_text, iter_lines

KIND = "asyncio-log"

_EXECUTING = re.compile(
    r"Executing <(?P<kind>Task|Handle|TimerHandle)\b(?P<body>.*)> "
    r"took (?P<seconds>\d+(?:\.\d+)?) seconds"
)
_TASK_CORO = re.compile(
    r"coro=<(?P<name>[\w.<>]+)\(\) (?:running|done)(?:, defined)? at (?P<path>.+?):(?P<line>-?\d+)>"
)
_HANDLE_CALLBACK = re.compile(r"(?P<name>[\w.<>]+)\(.*?\) at (?P<path>\S+?):(?P<line>\d+)")
_CREATED_AT = re.compile(r"created at (?P<path>\S+?):(?P<line>\d+)")
_NEVER_AWAITED = re.compile(
    r"(?:(?P<path>\S+?):(?P<line>-?\d+): )?"
    r"RuntimeWarning: coroutine '(?P<name>[^']+)' was never awaited"
)
_CREATED_HEADER = "Coroutine created at"
_TRACEBACK_FRAME = re.compile(
    r'^\s+File "(?P<path>[^"]+)", line (?P<line>\d+), in (?P<function>.+)$'
)


@dataclass(frozen=True, slots=True)
class CodeLocation:
    path: str  # as logged: absolute path from the machine that ran the service
    line: int
    function: str = ""


@dataclass(slots=True)
class SlowStep:
    """Every ``Executing <...> took N seconds`` line of one step at one code location."""

    kind: str  # "task" or "callback"
    name: str  # coroutine or callback name: "get_rates", "RequestResponseCycle.run_asgi"
    location: CodeLocation | None  # where the coroutine/callback is defined or running
    created_at: CodeLocation | None
    count: int = 0
    total_seconds: float = 0.0
    max_seconds: float = 0.0
    first_log_line: int = 0

    @property
    def mean_seconds(self) -> float:
        return self.total_seconds / self.count if self.count else 0.0


@dataclass(slots=True)
class NeverAwaited:
    name: str  # coroutine function name
    location: CodeLocation | None  # the creating line (debug mode) or the warning's location
    count: int = 0
    first_log_line: int = 0


@dataclass
class AsyncioLog:
    slow_steps: list[SlowStep] = field(default_factory=list)
    never_awaited: list[NeverAwaited] = field(default_factory=list)
    lines: int = 0
    slow_step_lines: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "slow_step_lines": self.slow_step_lines,
            "slow_steps": len(self.slow_steps),
            "never_awaited": sum(item.count for item in self.never_awaited),
            "slowest_seconds": max((s.max_seconds for s in self.slow_steps), default=0.0),
        }


def sniff(head: bytes) -> bool:
    text = head_text(head)
    return bool(_EXECUTING.search(text) or _NEVER_AWAITED.search(text))


def _location(match: re.Match[str] | None) -> CodeLocation | None:
    if match is None:
        return None
    line = int(match.group("line"))
    return CodeLocation(match.group("path"), line) if line > 0 else None


class _Collector:
    def __init__(self) -> None:
        self.log = AsyncioLog()
        self._steps: dict[tuple[str, str, CodeLocation | None], SlowStep] = {}
        self._awaits: dict[tuple[str, CodeLocation | None], NeverAwaited] = {}
        self.pending: tuple[str, CodeLocation | None, int] | None = (
            None  # a warning awaiting frames
        )
        self.frames: list[CodeLocation] | None = None

    def step(self, match: re.Match[str], number: int) -> None:
        body = match.group("body")
        seconds = float(match.group("seconds"))
        if match.group("kind") == "Task":
            coro = _TASK_CORO.search(body)
            kind, name = "task", coro.group("name") if coro else "?"
            location = _location(coro)
        else:
            callback = _HANDLE_CALLBACK.search(body)
            kind, name = "callback", callback.group("name") if callback else "?"
            location = _location(callback)
        created = _location(_CREATED_AT.search(body))
        key = (kind, name, location)
        step = self._steps.get(key)
        if step is None:
            step = self._steps[key] = SlowStep(kind, name, location, created, first_log_line=number)
            self.log.slow_steps.append(step)
        step.count += 1
        step.total_seconds += seconds
        step.max_seconds = max(step.max_seconds, seconds)
        self.log.slow_step_lines += 1

    def warning(self, match: re.Match[str], number: int) -> None:
        self.flush()
        self.pending = (
            match.group("name"),
            _location(match) if match.group("path") else None,
            number,
        )

    def flush(self) -> None:
        """Record the pending never-awaited warning, at its creating frame when one was logged."""
        if self.pending is None:
            return
        name, location, number = self.pending
        if self.frames:
            location = self.frames[-1]  # most recent call last: the line that created it
        key = (name, location)
        record = self._awaits.get(key)
        if record is None:
            record = self._awaits[key] = NeverAwaited(name, location, first_log_line=number)
            self.log.never_awaited.append(record)
        record.count += 1
        self.pending = None
        self.frames = None


def parse(stream: BinaryIO | TextIO) -> AsyncioLog:
    collector = _Collector()
    log = collector.log
    for number, line in iter_lines(stream, "an asyncio debug log"):
        log.lines += 1
        executing = _EXECUTING.search(line)
        if executing is not None:
            collector.flush()
            collector.step(executing, number)
            continue
        never = _NEVER_AWAITED.search(line)
        if never is not None:
            collector.warning(never, number)
            continue
        if collector.pending is None:
            continue
        if _CREATED_HEADER in line:
            collector.frames = []
            continue
        frame = _TRACEBACK_FRAME.match(line)
        if frame is not None and collector.frames is not None:
            collector.frames.append(
                CodeLocation(frame.group("path"), int(frame.group("line")), frame.group("function"))
            )
        elif line.startswith((" ", "\t")):
            continue  # the source line under a frame, or the warning's own source line
        else:
            collector.flush()
    collector.flush()
    if log.lines == 0:
        raise ArtifactParseError("empty file: no asyncio debug log lines")
    if not log.slow_steps and not log.never_awaited:
        raise ArtifactParseError(
            f"no asyncio debug lines among {log.lines} lines: expected 'Executing <Task ...> took "
            "N seconds' or \"RuntimeWarning: coroutine '...' was never awaited\" "
            "(is debug mode on, "
            "with loop.slow_callback_duration lowered?)"
        )
    return log
