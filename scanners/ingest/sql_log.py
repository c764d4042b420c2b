"""SQL statement logs: SQLAlchemy's ``sqlalchemy.engine`` INFO output and PostgreSQL statement logs.

Statements are reduced to **query shapes** (literals and bound parameters become ``?``, ``IN``
lists and multi-row ``VALUES`` collapse to one item, comments and whitespace runs go) and counted
per request. How statements are assigned to requests, first match wins:

1. a **request id** on the statement's log line (default pattern: ``request_id=<id>``, also
   ``request-id:``/``rid=``), for loggers whose format carries it;
2. a **start marker** line (default: ``--> GET /path``, a middleware logging each request as it
   begins): statements after it belong to that request until the next start marker;
3. an **end marker** line (default: uvicorn's access log ``"GET /path HTTP/1.1" 200``): statements
   since the previous marker belong to the request it names (uvicorn logs after the response);
4. with no marker anywhere before a statement, **time windows** of ``window_seconds`` (default 1 s)
   per PostgreSQL backend pid, or the whole log when lines carry no timestamp.

All patterns are options (``SqlLogOptions``). While reading, only requests still open are kept
(at most ``max_open_requests``); finished ones leave behind just the shapes they repeated, so a
long log needs memory for its distinct shapes, not for its lines.
"""

from __future__ import annotations

import re
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO, TextIO

from scanners.ingest.errors import ArtifactParseError
from scanners.ingest.textio import head_text, iter_lines

KIND = "sql-log"

DEFAULT_REQUEST_ID = r"\b(?:request[_-]id|rid)[=:]\s*(?P<id>[\w.:-]+)"
DEFAULT_REQUEST_START = r"--> (?P<method>GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (?P<path>/\S*)"
DEFAULT_REQUEST_END = (
    r"\"(?P<method>GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (?P<path>/\S*) HTTP/[\d.]+\" \d{3}"
)

_SQLALCHEMY = re.compile(r"\bsqlalchemy\.engine(?:\.base)?(?:\.Engine)?\b[\s:]+(?P<msg>.*)$")
_SQLALCHEMY_PARAMS = re.compile(
    r"^\[(?:generated in|cached since|raw sql|no key|dialect|insertmanyvalues)[^\]]*\]"
)
_SQLALCHEMY_CONTROL = re.compile(
    r"^(?:BEGIN(?: \(implicit\))?|COMMIT|ROLLBACK|SAVEPOINT .*|RELEASE .*)$", re.I
)
_POSTGRES = re.compile(
    r"(?:\[(?P<pid>\d+)\].*?)?\b(?:LOG|STATEMENT):\s+(?:duration: [\d.]+ ms\s+)?"
    r"(?:statement|execute [^:]*): (?P<sql>.*)$"
)
_POSTGRES_OTHER = re.compile(r"\b(?:LOG|DETAIL|HINT|ERROR|WARNING|STATEMENT|CONTEXT|FATAL):\s")
_TIMESTAMP = re.compile(
    r"^\[?(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<time>\d{2}:\d{2}:\d{2})(?:[.,](?P<fraction>\d+))?"
)
_LOG_RECORD = re.compile(
    r"^(?:\[?\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}|[A-Z]+:[\w.]+:|(?:INFO|DEBUG|WARNING|ERROR)\b)"
)

_COMMENT_BLOCK = re.compile(r"/\*.*?\*/", re.S)
_COMMENT_LINE = re.compile(r"--[^\n]*")
_STRING = re.compile(r"'(?:[^']|'')*'")
_PARAM = re.compile(
    r"\$\d+|%\(\w+\)s|%s|(?<![:\w]):[A-Za-z_]\w*|\?|__\[POSTCOMPILE_\w+\]|\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b",
    re.I,
)
_IN_LIST = re.compile(r"\bIN\s*\(\s*\?(?:\s*,\s*\?)*\s*\)", re.I)
_VALUES = re.compile(r"\bVALUES\s*(\([^()]*\))(?:\s*,\s*\([^()]*\))+", re.I)
_SPACES = re.compile(r"\s+")


def normalize_query(sql: str) -> str:
    """A statement's shape: ``SELECT * FROM t WHERE id = 5`` -> ``SELECT * FROM t WHERE id = ?``."""
    shape = _COMMENT_BLOCK.sub(" ", sql)
    shape = _COMMENT_LINE.sub(" ", shape)
    shape = _STRING.sub("?", shape)
    shape = _PARAM.sub("?", shape)
    shape = _IN_LIST.sub("IN (?)", shape)
    shape = _VALUES.sub(lambda m: "VALUES " + m.group(1), shape)
    return _SPACES.sub(" ", shape).strip().rstrip(";").strip()


@dataclass
class SqlLogOptions:
    request_id_pattern: str = DEFAULT_REQUEST_ID
    request_start_pattern: str = DEFAULT_REQUEST_START
    request_end_pattern: str = DEFAULT_REQUEST_END
    window_seconds: float = 1.0
    max_open_requests: int = 10_000
    min_repeats_kept: int = 2  # a shape run fewer times in a request is not kept per request


@dataclass(slots=True)
class RepeatedShape:
    """One query shape repeated inside requests of one endpoint (or one unmarked group)."""

    endpoint: str  # "GET /items/42" from a marker; "" when requests were not marked
    shape: str
    requests: int = 0  # requests in which it ran at least ``min_repeats_kept`` times
    max_per_request: int = 0
    total: int = 0
    first_log_line: int = 0
    example_request: str = ""  # request id or marker text of the worst request


@dataclass
class SqlLog:
    dialect: str = ""  # "sqlalchemy", "postgresql" or "sqlalchemy+postgresql"
    statements: int = 0
    requests: int = 0  # groups closed: marked requests, windows or the whole log
    grouping: str = ""  # "request-id", "markers", "time-windows", "whole-log" (mixed: joined)
    shapes: Counter[str] = field(default_factory=Counter)
    repeated: dict[tuple[str, str], RepeatedShape] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "dialect": self.dialect,
            "statements": self.statements,
            "distinct_shapes": len(self.shapes),
            "requests": self.requests,
            "grouping": self.grouping,
            "max_repeats_in_one_request": max(
                (r.max_per_request for r in self.repeated.values()), default=0
            ),
        }


@dataclass(slots=True)
class _Group:
    key: str
    endpoint: str
    grouping: str
    first_line: int
    shapes: Counter[str] = field(default_factory=Counter)
    first_lines: dict[str, int] = field(default_factory=dict)


def sniff(head: bytes) -> bool:
    text = head_text(head)
    return bool(
        re.search(r"\bsqlalchemy\.engine\b", text)
        or re.search(r"\bLOG:\s+(?:duration: [\d.]+ ms\s+)?(?:statement|execute [^:]*): ", text)
    )


def _timestamp(line: str) -> float | None:
    match = _TIMESTAMP.match(line)
    if match is None:
        return None
    try:
        moment = datetime.fromisoformat(f"{match.group('date')}T{match.group('time')}")
    except ValueError:
        return None
    fraction = match.group("fraction")
    return moment.timestamp() + (float("0." + fraction) if fraction else 0.0)


class _Grouper:
    def __init__(self, log: SqlLog, options: SqlLogOptions) -> None:
        self.log = log
        self.options = options
        self.open: OrderedDict[str, _Group] = OrderedDict()
        self.current: _Group | None = None  # marker-delimited or window group
        self.markers_seen = False
        self.groupings: set[str] = set()

    def close(self, group: _Group) -> None:
        self.log.requests += 1
        self.groupings.add(group.grouping)
        label = group.endpoint
        for shape, count in group.shapes.items():
            if count < self.options.min_repeats_kept:
                continue
            key = (label, shape)
            record = self.log.repeated.get(key)
            if record is None:
                record = self.log.repeated[key] = RepeatedShape(
                    label, shape, first_log_line=group.first_lines[shape]
                )
            record.requests += 1
            record.total += count
            if count > record.max_per_request:
                record.max_per_request = count
                record.example_request = group.key
                record.first_log_line = group.first_lines[shape]

    def start(self, key: str, endpoint: str, line: int) -> None:
        if self.current is not None:
            self.close(self.current)
        self.markers_seen = True
        self.current = _Group(key, endpoint, "markers", line)

    def name_request(self, request_id: str, endpoint: str, line: int) -> None:
        self._keyed(request_id, "request-id", line).endpoint = endpoint

    def end(self, endpoint: str, line: int) -> None:
        self.markers_seen = True
        if self.current is not None:
            if not self.current.endpoint:
                self.current.endpoint = endpoint
            self.current.grouping = "markers"
            self.close(self.current)
        self.current = None

    def _keyed(self, key: str, grouping: str, line: int) -> _Group:
        """The open group ``key``; the oldest open group closes when too many are open."""
        group = self.open.get(key)
        if group is None:
            group = self.open[key] = _Group(key, "", grouping, line)
            if len(self.open) > self.options.max_open_requests:
                self.close(self.open.popitem(last=False)[1])
        else:
            self.open.move_to_end(key)
        return group

    def add(
        self, shape: str, line: int, request_id: str, timestamp: float | None, pid: str
    ) -> None:
        if request_id:
            group = self._keyed(request_id, "request-id", line)
        elif self.markers_seen:
            if self.current is None:
                self.current = _Group(f"line {line}", "", "markers", line)
            group = self.current
        elif timestamp is not None and self.options.window_seconds > 0:
            window = int(timestamp // self.options.window_seconds)
            group = self._keyed(f"pid {pid} window {window}", "time-windows", line)
        else:
            group = self._keyed("whole log", "whole-log", line)
        group.shapes[shape] += 1
        group.first_lines.setdefault(shape, line)

    def finish(self) -> None:
        if self.current is not None:
            self.close(self.current)
        for group in self.open.values():
            self.close(group)
        self.open.clear()
        self.log.grouping = "+".join(sorted(self.groupings))


def parse(stream: BinaryIO | TextIO, options: SqlLogOptions | None = None) -> SqlLog:
    options = options or SqlLogOptions()
    try:
        request_id = re.compile(options.request_id_pattern)
        request_start = re.compile(options.request_start_pattern)
        request_end = re.compile(options.request_end_pattern)
    except re.error as exc:
        raise ArtifactParseError(f"invalid request marker pattern: {exc}") from None
    log = SqlLog()
    grouper = _Grouper(log, options)
    dialects: set[str] = set()
    pending: list[str] = []  # the statement being read (SQLAlchemy/PostgreSQL continue it)
    pending_meta: tuple[int, str, float | None, str] | None = None
    lines = 0

    def flush() -> None:
        nonlocal pending_meta
        if pending_meta is not None:
            shape = normalize_query("\n".join(pending))
            if shape:
                log.statements += 1
                log.shapes[shape] += 1
                grouper.add(shape, *pending_meta)
        pending.clear()
        pending_meta = None

    for number, line in iter_lines(stream, "an SQL log"):
        lines += 1
        if not line.strip():
            continue
        alchemy = _SQLALCHEMY.search(line)
        postgres = None if alchemy else _POSTGRES.search(line)
        if alchemy is None and postgres is None:
            if (
                pending_meta is not None
                and not _LOG_RECORD.match(line)
                and not (
                    _POSTGRES_OTHER.search(line)
                    or request_start.search(line)
                    or request_end.search(line)
                )
            ):
                pending.append(line)  # a continuation line of a multi-line statement
                continue
            flush()
            start = request_start.search(line)
            if start is not None:
                marker_id = request_id.search(line)
                if marker_id is not None:
                    # "request_id=7 --> GET /x": statements carrying id 7 belong to GET /x
                    grouper.name_request(_request_id(marker_id), _endpoint(start), number)
                else:
                    grouper.start(start.group(0).strip(), _endpoint(start), number)
                continue
            end = request_end.search(line)
            if end is not None:
                grouper.end(_endpoint(end), number)
            continue
        flush()
        rid_match = request_id.search(line)
        rid = _request_id(rid_match) if rid_match else ""
        if alchemy is not None:
            dialects.add("sqlalchemy")
            message = alchemy.group("msg").strip()
            if rid_match is not None:
                message = message.replace(rid_match.group(0), "").strip()
            if (
                not message
                or _SQLALCHEMY_PARAMS.match(message)
                or _SQLALCHEMY_CONTROL.match(message)
            ):
                continue
            pending.append(message)
            pending_meta = (number, rid, _timestamp(line), "")
        elif postgres is not None:
            dialects.add("postgresql")
            if _SQLALCHEMY_CONTROL.match(postgres.group("sql").strip().rstrip(";")):
                continue
            pending.append(postgres.group("sql"))
            pending_meta = (number, rid, _timestamp(line), postgres.group("pid") or "")
    flush()
    grouper.finish()
    if lines == 0:
        raise ArtifactParseError("empty file: no SQL log lines")
    if log.statements == 0:
        raise ArtifactParseError(
            f"no SQL statements among {lines} lines: expected SQLAlchemy 'sqlalchemy.engine' INFO "
            "lines (echo=True) or PostgreSQL 'LOG:  statement: ...' / "
            "'duration: ... statement:' lines"
        )
    log.dialect = "+".join(sorted(dialects))
    return log


def _request_id(match: re.Match[str]) -> str:
    return match.group("id") if "id" in match.groupdict() else match.group(0)


def _endpoint(match: re.Match[str]) -> str:
    groups = match.groupdict()
    method, path = groups.get("method"), groups.get("path")
    if method and path:
        return f"{method} {path}"
    return match.group(0).strip()
