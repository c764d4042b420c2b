"""Progress output: a redrawn bar on a terminal, plain occasional lines in CI logs."""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 30
PLAIN_INTERVAL = 5.0  # seconds between plain progress lines of one stage


def _megabytes(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB"


class Progress:
    def __init__(self, stream: TextIO | None = None, interactive: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self._last_line = ""
        self._last_percent_step = -1
        self._last_plain_at = 0.0
        self._last_label = ""
        self._last_percent = -1.0
        self._bar_open = False

    def line(self, text: str) -> None:
        self._close_bar()
        self.stream.write(text + "\n")
        self.stream.flush()

    def _close_bar(self) -> None:
        if self._bar_open:
            self.stream.write("\n")
            self._bar_open = False

    def _bar(self, label: str, fraction: float, suffix: str) -> None:
        fraction = max(0.0, min(1.0, fraction))
        filled = round(BAR_WIDTH * fraction)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        text = f"\r{label} [{bar}] {fraction * 100:5.1f}% {suffix}"
        self.stream.write(text.ljust(len(self._last_line)))
        self.stream.flush()
        self._last_line = text
        self._bar_open = True

    def upload(self, sent: int, total: int) -> None:
        fraction = sent / total if total else 1.0
        suffix = f"{_megabytes(sent)} / {_megabytes(total)}"
        if self.interactive:
            self._bar("upload", fraction, suffix)
            if sent >= total:
                self._close_bar()
            return
        step = int(fraction * 4)  # plain lines at 25 % steps keep CI logs short
        if step != self._last_percent_step:
            self._last_percent_step = step
            self.line(f"upload: {fraction * 100:.0f}% ({suffix})")

    def scan(self, status: str, stage: str, percent: float) -> None:
        label = f"scan {status}" + (f" ({stage})" if stage else "")
        if self.interactive:
            self._bar(label.ljust(28)[:28], percent / 100.0, "")
            return
        now = time.monotonic()
        # A new stage always gets a line; within a stage, at most one line every 5 seconds.
        if label != self._last_label or (
            percent != self._last_percent and now - self._last_plain_at >= PLAIN_INTERVAL
        ):
            self._last_label = label
            self._last_percent = percent
            self._last_plain_at = now
            self.line(f"{label}: {percent:.0f}%")

    def finish(self) -> None:
        self._close_bar()
