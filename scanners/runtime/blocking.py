"""What counts as a blocking call at the leaf of a sampled stack.

py-spy (without ``--native``) stops at the last Python frame, so a ``time.sleep`` or a socket read
written in application code shows up as that application line; deeper in a library the leaf is the
library's Python function (``SSLSocket.recv_into``, ``Popen.wait``). Both are recognized: library
leaves by file and function, application leaves by the code on the sampled line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scanners.ingest.pyspy import Frame


@dataclass(frozen=True, slots=True)
class BlockingLeaf:
    what: str  # "time.sleep", "socket I/O", "database driver", ...
    category: str  # the static category describing the same problem


_ASYNC_HTTP = "ASYNC-BLOCKING-HTTP"
_ASYNC_DB = "ASYNC-BLOCKING-DB"
_ASYNC_FILE = "ASYNC-BLOCKING-FILE"
_ASYNC_SUBPROCESS = "ASYNC-BLOCKING-SUBPROCESS"
_ASYNC_SLEEP = "ASYNC-BLOCKING-SLEEP"

# (file pattern, function pattern, what, category); files as py-spy writes them, either form.
_LIBRARY_LEAVES: tuple[tuple[re.Pattern[str], re.Pattern[str], str, str], ...] = tuple(
    (re.compile(file), re.compile(function), what, category)
    for file, function, what, category in (
        (r"(^|/)socket\.py$", r".", "socket I/O", _ASYNC_HTTP),
        (
            r"(^|/)ssl\.py$",
            r"\.(read|recv|recv_into|write|send|sendall|do_handshake)$",
            "ssl I/O",
            _ASYNC_HTTP,
        ),
        (r"(^|/)http/client\.py$", r".", "http.client", _ASYNC_HTTP),
        (r"(^|/)urllib/request\.py$", r".", "urllib.request", _ASYNC_HTTP),
        (r"(^|/)(requests|urllib3)/", r".", "sync HTTP client", _ASYNC_HTTP),
        (
            r"(^|/)(httpx|httpcore)/_sync/|(^|/)httpcore/_backends/sync\.py$",
            r".",
            "httpx sync client",
            _ASYNC_HTTP,
        ),
        (r"(^|/)subprocess\.py$", r".", "subprocess", _ASYNC_SUBPROCESS),
        (
            r"(^|/)(psycopg2?|pymysql|MySQLdb|mysql|sqlite3|cx_Oracle|oracledb)/",
            r".",
            "database driver",
            _ASYNC_DB,
        ),
        (
            r"(^|/)sqlalchemy/engine/",
            r"(execute|_execute|do_execute|connect|commit|fetch)",
            "SQLAlchemy sync engine",
            _ASYNC_DB,
        ),
        (r"(^|/)redis/(client|connection)\.py$", r".", "sync redis client", _ASYNC_DB),
        (r"(^|/)selectors\.py$", r"\.select$", "select() wait", _ASYNC_HTTP),
        (
            r"(^|/)(threading|queue)\.py$",
            r"\.(wait|get|join|acquire|result)$",
            "thread wait",
            _ASYNC_SLEEP,
        ),
        (
            r"(^|/)concurrent/futures/_base\.py$",
            r"(result|wait)$",
            "future.result() wait",
            _ASYNC_SLEEP,
        ),
        (r"(^|/)(shutil|tarfile|zipfile|gzip)\.py$", r".", "file I/O", _ASYNC_FILE),
    )
)

# Application lines that block when they run on the event loop.
_APP_LINES: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern), what, category)
    for pattern, what, category in (
        (r"\btime\.sleep\(|(?<![.\w])sleep\(", "time.sleep", _ASYNC_SLEEP),
        (
            r"\brequests\.\w+\(|\burlopen\(|\bhttpx\.(get|post|put|patch|delete|head|request|stream)\(|"
            r"\bhttp\.client\.|\.getresponse\(",
            "sync HTTP call",
            _ASYNC_HTTP,
        ),
        (
            r"\bsubprocess\.\w+\(|\bos\.(system|popen|wait\w*)\(|\.communicate\(",
            "subprocess",
            _ASYNC_SUBPROCESS,
        ),
        (
            r"\.(execute|executemany|fetchone|fetchall|fetchmany|commit|scalars?|query)\(|"
            r"\bpsycopg2?\.connect\(",
            "database call",
            _ASYNC_DB,
        ),
        (
            r"(?<![.\w])open\(|\.(read_text|read_bytes|write_text|write_bytes)\(|\bjson\.load\(|"
            r"\.read\(|\.write\(|\.readlines?\(",
            "file I/O",
            _ASYNC_FILE,
        ),
        (r"\.(result|join|acquire)\(\s*\)|\.wait\(", "blocking wait", _ASYNC_SLEEP),
    )
)


def library_leaf(frame: Frame) -> BlockingLeaf | None:
    posix = frame.file.replace("\\", "/")
    for file, function, what, category in _LIBRARY_LEAVES:
        if file.search(posix) and function.search(frame.function):
            return BlockingLeaf(what, category)
    return None


def application_leaf(source_line: str) -> BlockingLeaf | None:
    code = source_line.split("#", 1)[0]
    if code.lstrip().startswith(("await ", "async ")) or "await " in code:
        return None  # an awaited call yields to the loop; it does not block it
    for pattern, what, category in _APP_LINES:
        if pattern.search(code):
            return BlockingLeaf(what, category)
    return None
