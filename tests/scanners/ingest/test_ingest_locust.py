"""Locust CSV parser: a real run (stats, history, failures), single files, archives, bad input."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from scanners.ingest import locust
from scanners.ingest.errors import ArtifactParseError
from tests.scanners.ingest.conftest import sample


def test_locust_prefix_reads_stats_history_and_failures() -> None:
    report = locust.load(sample("locust/many"))
    assert report.files == ["many_failures.csv", "many_stats.csv", "many_stats_history.csv"]
    items, orders, rates = report.endpoints
    assert (items.method, items.name, items.requests, items.failures) == (
        "GET",
        "/api/items/[id]",
        449,
        0,
    )
    assert (items.p50_ms, items.p95_ms, items.p99_ms) == (22.0, 35.0, 57.0)
    assert round(items.rps, 2) == 89.73
    assert (orders.failures, round(orders.error_rate, 4)) == (5, 0.0521)
    assert (rates.p95_ms, rates.p99_ms) == (95.0, 160.0)
    assert report.aggregated is not None
    assert (report.aggregated.requests, report.aggregated.failures, report.aggregated.p95_ms) == (
        715,
        5,
        89.0,
    )
    assert report.total_requests == 715
    assert (report.history_rows, report.peak_users) == (6, 10)
    (failure,) = report.failures
    assert (failure.name, failure.occurrences) == ("/api/orders", 5)
    assert failure.error.startswith("HTTPError('500 Server Error")


def test_locust_single_stats_file() -> None:
    report = locust.load(sample("locust/one_stats.csv"))
    (rates,) = report.endpoints
    assert (rates.name, rates.requests, rates.rps, rates.p95_ms) == ("/api/rates", 1200, 8.0, 820.0)
    assert rates.as_row()["p99_ms"] == 950.0
    assert report.summary()["requests"] == 1200


def test_locust_directory_and_zip(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    for name in ("many_stats.csv", "many_failures.csv"):
        (folder / name).write_bytes(sample(f"locust/{name}").read_bytes())
    assert locust.load(folder).total_requests == 715
    archive = tmp_path / "run.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(sample("locust/many_stats.csv"), "results/many_stats.csv")
        zipped.write(sample("locust/many_stats_history.csv"), "results/many_stats_history.csv")
    report = locust.load(archive)
    assert (report.total_requests, report.history_rows) == (715, 6)


def test_locust_old_headers_and_na_values() -> None:
    text = (
        '"Method","Name","# requests","# failures","Median response time","Average response time",'
        '"Min response time","Max response time","Average Content Size","Requests/s"\n'
        '"GET","/items/1",10,1,17,32,8,203,171,7.5\n"POST","/upload",0,0,N/A,0,0,0,0,0.0\n'
        '"None","Total",10,1,17,32,8,203,171,7.5\n'
    )
    report = locust.parse(io.StringIO(text))
    first, second = report.endpoints
    assert (first.method, first.requests, first.failures, first.median_ms) == ("GET", 10, 1, 17.0)
    assert first.p50_ms == 17.0  # no percentile columns: the median stands in
    assert second.median_ms == 0.0
    assert report.aggregated is not None and report.aggregated.requests == 10


@pytest.mark.parametrize(
    ("relative", "message"),
    [
        ("locust/empty_stats.csv", "empty_stats.csv: empty file: no Locust stats header"),
        (
            "locust/malformed_stats.csv",
            r"line 2: column 'Request Count' should be a number, got 'many'",
        ),
        ("locust/nothing_here", "no Locust CSV files at 'nothing_here'"),
    ],
)
def test_locust_bad_input(relative: str, message: str) -> None:
    with pytest.raises(ArtifactParseError, match=message):
        locust.load(sample(relative))


def test_locust_truncated_row() -> None:
    header = sample("locust/one_stats.csv").read_text().splitlines()[0]
    with pytest.raises(ArtifactParseError, match=r"line 2: 4 columns where the header has 22"):
        locust.parse(io.StringIO(header + "\nGET,/api/rates,12,0\n"))


def test_locust_only_history_is_not_enough(tmp_path: Path) -> None:
    (tmp_path / "x_stats_history.csv").write_bytes(
        sample("locust/many_stats_history.csv").read_bytes()
    )
    (tmp_path / "x_failures.csv").write_bytes(sample("locust/many_failures.csv").read_bytes())
    with pytest.raises(ArtifactParseError, match=r"no Locust stats file \(PREFIX_stats.csv\)"):
        locust.load(tmp_path / "x")
