"""SQL log parser: query shapes, per-request grouping, SQLAlchemy and PostgreSQL formats."""

from __future__ import annotations

import io

import pytest

from scanners.ingest import sql_log
from scanners.ingest.errors import ArtifactParseError
from tests.scanners.ingest.conftest import sample

CUSTOMER_SHAPE = "SELECT customers.id, customers.name FROM customers WHERE customers.id = ?"


def _parse(relative: str, options: sql_log.SqlLogOptions | None = None) -> sql_log.SqlLog:
    with sample(relative).open("rb") as handle:
        return sql_log.parse(handle, options)


@pytest.mark.parametrize(
    ("sql", "shape"),
    [
        ("SELECT * FROM t WHERE id = 5", "SELECT * FROM t WHERE id = ?"),
        (
            "select a from t where b in (1, 2,3) and c = 'x''y'",
            "select a from t where b IN (?) and c = ?",
        ),
        (
            "SELECT 1 FROM t WHERE a = $1 AND b = %(b)s AND c = %s AND d = :d",
            "SELECT ? FROM t WHERE a = ? AND b = ? AND c = ? AND d = ?",
        ),
        (
            "SELECT x::int FROM t /* hint */ WHERE y = 2 -- trailing",
            "SELECT x::int FROM t WHERE y = ?",
        ),
        (
            "INSERT INTO t (a, b) VALUES (1, 'a'), (2, 'b'), (3, 'c');",
            "INSERT INTO t (a, b) VALUES (?, ?)",
        ),
        (
            "SELECT t.id FROM t WHERE t.id IN (__[POSTCOMPILE_id_1])",
            "SELECT t.id FROM t WHERE t.id IN (?)",
        ),
        ("SELECT col2 FROM t2", "SELECT col2 FROM t2"),
    ],
)
def test_sql_normalize_query(sql: str, shape: str) -> None:
    assert sql_log.normalize_query(sql) == shape


def test_sql_sqlalchemy_real_log_groups_by_request_markers() -> None:
    log = _parse("sql_sqlalchemy/many.log")
    assert (log.dialect, log.statements, log.requests, log.grouping) == (
        "sqlalchemy",
        15,
        2,
        "markers",
    )
    assert log.shapes[CUSTOMER_SHAPE] == 13
    record = log.repeated[("GET /api/orders", CUSTOMER_SHAPE)]
    assert (record.requests, record.max_per_request, record.total) == (1, 12, 12)
    assert (record.first_log_line, record.example_request) == (7, "--> GET /api/orders")
    assert ("GET /api/orders/3", CUSTOMER_SHAPE) not in log.repeated  # ran once there


def test_sql_postgres_time_windows_per_backend() -> None:
    log = _parse("sql_postgres/many.log")
    assert (log.dialect, log.statements, log.grouping) == ("postgresql", 7, "time-windows")
    assert log.requests == 3  # pid 4242 twice (2.4 s apart), pid 4243 once
    (record,) = log.repeated.values()
    assert (record.shape, record.max_per_request, record.first_log_line) == (CUSTOMER_SHAPE, 4, 4)
    wide = _parse("sql_postgres/many.log", sql_log.SqlLogOptions(window_seconds=5.0))
    assert max(r.max_per_request for r in wide.repeated.values()) == 5


def test_sql_request_ids_interleaved() -> None:
    lines = []
    for index in range(6):
        for request in ("a1", "b2"):
            lines.append(
                f"INFO sqlalchemy.engine.Engine request_id={request} "
                f"SELECT * FROM items WHERE id = {index}"
            )
    lines.append("INFO sqlalchemy.engine.Engine request_id=b2 SELECT * FROM users WHERE id = 1")
    log = sql_log.parse(io.StringIO("\n".join(lines) + "\n"))
    assert (log.requests, log.grouping) == (2, "request-id")
    record = log.repeated[("", "SELECT * FROM items WHERE id = ?")]
    assert (record.requests, record.max_per_request, record.total) == (2, 6, 12)


def test_sql_custom_marker_pattern() -> None:
    text = (
        "[req GET /a] start\nINFO sqlalchemy.engine.Engine SELECT 1\n"
        "INFO sqlalchemy.engine.Engine SELECT 2\n"
        "[req GET /b] start\nINFO sqlalchemy.engine.Engine SELECT 3\n"
    )
    options = sql_log.SqlLogOptions(request_start_pattern=r"\[req (?P<method>GET) (?P<path>/\S*)\]")
    log = sql_log.parse(io.StringIO(text), options)
    assert log.repeated[("GET /a", "SELECT ?")].max_per_request == 2
    assert log.requests == 2


def test_sql_one_statement() -> None:
    for relative in ("sql_sqlalchemy/one.log", "sql_postgres/one.log"):
        log = _parse(relative)
        assert log.statements == 1
        assert log.repeated == {}


@pytest.mark.parametrize(
    ("relative", "message"),
    [
        ("sql_sqlalchemy/empty.log", "empty file"),
        ("sql_postgres/empty.log", "empty file"),
        ("sql_sqlalchemy/malformed.log", "no SQL statements among 2 lines"),
        ("sql_postgres/malformed.log", "no SQL statements among 2 lines"),
    ],
)
def test_sql_bad_input(relative: str, message: str) -> None:
    with pytest.raises(ArtifactParseError, match=message):
        _parse(relative)


def test_sql_bad_marker_pattern() -> None:
    with pytest.raises(ArtifactParseError, match="invalid request marker pattern"):
        sql_log.parse(io.StringIO("x"), sql_log.SqlLogOptions(request_id_pattern="(unclosed"))


def test_sql_request_id_on_the_marker_names_the_endpoint() -> None:
    lines = [
        "INFO app request_id=r1 --> GET /api/orders",
        "INFO app request_id=r2 --> GET /api/rates",
    ]
    for index in range(3):
        lines.append(
            f"INFO sqlalchemy.engine.Engine request_id=r1 SELECT * FROM c WHERE id = {index}"
        )
        lines.append("INFO sqlalchemy.engine.Engine request_id=r2 SELECT * FROM rates")
    log = sql_log.parse(io.StringIO("\n".join(lines) + "\n"))
    assert log.repeated[("GET /api/orders", "SELECT * FROM c WHERE id = ?")].max_per_request == 3
    assert log.repeated[("GET /api/rates", "SELECT * FROM rates")].max_per_request == 3
    assert (log.requests, log.grouping) == (2, "request-id")
