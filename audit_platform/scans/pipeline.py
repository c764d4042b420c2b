"""The scan pipeline: prepare source -> engine -> artifacts -> store + reconcile + finish -> notify.

Idempotent by state. ``scan_run`` locks the scan and returns at once unless it is queued or
running. Everything before the store step only reads and writes a temp dir, so a redelivered
task simply starts it again. The store step stores findings, reconciles them, records artifact
outcomes and counts, and marks the scan succeeded in ONE transaction that also records itself in
``completed_steps``: it happens exactly once, however often the task is delivered.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import shutil
import tempfile
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone

import scanners
from audit_platform.findings.selectors import findings_trend_snapshot
from audit_platform.findings.services import findings_store_scan
from audit_platform.projects.models import Project
from audit_platform.scans.hooks import scan_finished_hooks
from audit_platform.scans.models import (
    Artifact,
    EndpointLoadStat,
    ParseStatus,
    Scan,
    ScanSourceKind,
    ScanStage,
    ScanStatus,
)
from audit_platform.scans.sources import (
    SourceError,
    TransientSourceError,
    extract_archive,
    fetch_git_source,
    redact_url,
)
from scanners.findings import ArtifactInput, ArtifactOutcome, ScanOptions, ScanResult

logger = logging.getLogger(__name__)
STEP_STORE = "store"
WORKDIR_PREFIX = "audit-scan-"
PROGRESS_INTERVAL_SECONDS = 1.0
# Share of the progress bar each stage ends at.
_STAGE_END = {
    ScanStage.PREPARE: 10.0,
    ScanStage.ANALYSE: 75.0,
    ScanStage.ARTIFACTS: 80.0,
    ScanStage.STORE: 95.0,
    ScanStage.FINISH: 100.0,
}
_STAGE_START = {
    ScanStage.PREPARE: 0.0,
    ScanStage.ANALYSE: 10.0,
    ScanStage.ARTIFACTS: 75.0,
    ScanStage.STORE: 80.0,
    ScanStage.FINISH: 95.0,
}


class ScanCancelled(Exception):
    """A user asked to cancel; raised at a stage boundary."""


class EngineCrash(Exception):
    """The analysis engine raised; the scan fails with this message."""


def log_entry(level: str, stage: str, message: str, path: str = "") -> dict[str, str]:
    return {"level": level, "stage": stage, "message": message, "path": path}


class _Progress:
    """Writes stage, percent and stage timings onto the scan, at most once a second for percents."""

    def __init__(self, scan_id: int) -> None:
        self.scan_id = scan_id
        self.timings: dict[str, float] = {}
        self._last_write = 0.0
        self._stage = ScanStage.PREPARE

    def _write(self, **fields: Any) -> None:
        Scan.objects.filter(pk=self.scan_id).update(**fields)
        self._last_write = time.monotonic()

    @contextlib.contextmanager
    def stage(self, stage: ScanStage) -> Iterator[None]:
        self._stage = stage
        self._write(stage=stage, progress=_STAGE_START[stage], stage_timings=self.timings)
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage.value] = round(time.perf_counter() - started, 3)

    def engine(self, _engine_stage: str, percent: float) -> None:
        """The engine's callback: map its 0..100 onto the analyse stage's share, throttled."""
        if time.monotonic() - self._last_write < PROGRESS_INTERVAL_SECONDS:
            return
        start, end = _STAGE_START[ScanStage.ANALYSE], _STAGE_END[ScanStage.ANALYSE]
        self._write(progress=round(start + (end - start) * percent / 100.0, 1))


def _check_cancel(scan_id: int) -> None:
    if Scan.objects.filter(pk=scan_id, cancel_requested=True).exists():
        raise ScanCancelled


def _begin(scan_id: int) -> Scan | None:
    """Lock the scan and move it to running; None when there is nothing to do."""
    with transaction.atomic():
        scan = Scan.objects.select_for_update().filter(pk=scan_id).first()
        if scan is None:
            logger.warning("scan %s does not exist; nothing to run", scan_id)
            return None
        if scan.is_final:
            return None
        if scan.cancel_requested:
            # A queued scan is cancelled by scan_cancel itself; here an earlier attempt died.
            reason = (
                "cancelled before it started"
                if scan.status == ScanStatus.QUEUED
                else f"cancelled during '{scan.stage}'"
            )
            _finalize(scan, ScanStatus.CANCELLED, reason)
            return None
        scan.attempts += 1
        if scan.status == ScanStatus.QUEUED:
            scan.status = ScanStatus.RUNNING
            scan.started_at = timezone.now()
        else:
            scan.log = [
                *scan.log,
                log_entry(
                    "warning",
                    scan.stage,
                    f"attempt {scan.attempts}: the previous attempt stopped during "
                    f"'{scan.stage}' (worker lost or retried); starting again",
                ),
            ]
        scan.stage = ScanStage.PREPARE
        scan.progress = 0.0
        scan.save(update_fields=["attempts", "status", "started_at", "log", "stage", "progress"])
        return Scan.objects.select_related("project").get(pk=scan_id)


def _finalize(
    scan: Scan, status: str, error: str = "", extra_log: list[dict[str, str]] | None = None
) -> None:
    """Move a locked scan to a final state and queue the notify hooks after commit."""
    from audit_platform.scans.services import _enqueue_notify  # noqa: PLC0415

    scan.status = status
    scan.error = error
    scan.finished_at = timezone.now()
    if status != ScanStatus.SUCCEEDED:
        scan.log = [*scan.log, *(extra_log or [])]
    scan.save(update_fields=["status", "error", "finished_at", "log"])
    _enqueue_notify(scan)


def _fail(scan_id: int, status: str, reason: str, stage: str, detail: str = "") -> None:
    with transaction.atomic():
        scan = Scan.objects.select_for_update().filter(pk=scan_id).first()
        if scan is None or scan.is_final:
            return
        entries = [log_entry("error", stage, reason)]
        if detail:
            entries.append(log_entry("error", stage, detail))
        _finalize(scan, status, reason, entries)


def _remove_stale_workdirs(scan_id: int) -> None:
    """A worker killed mid-scan leaves its temp dir behind; the next attempt removes it."""
    for leftover in Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}{scan_id}-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _prepare(scan: Scan, workdir: Path, log: list[dict[str, str]]) -> Path:
    if scan.source_kind == ScanSourceKind.ARCHIVE:
        archive = Path(settings.MEDIA_ROOT) / scan.archive_path
        if not archive.is_file():
            raise SourceError(f"the uploaded archive {scan.archive_name!r} is missing from storage")
        report = extract_archive(archive, workdir / "src")
        log.extend(
            log_entry("warning", "prepare", f"not extracted: {reason}", name)
            for name, reason in report.skipped
        )
        log.append(
            log_entry("info", "prepare", f"extracted {report.files} files ({report.bytes} bytes)")
        )
        return report.root
    project = scan.project
    checkout = fetch_git_source(project.git_url, scan.ref or scan.branch, workdir / "src")
    Scan.objects.filter(pk=scan.pk).update(
        commit_sha=checkout.commit_sha, commit_message=checkout.commit_message
    )
    log.append(
        log_entry(
            "info",
            "prepare",
            f"fetched {scan.ref or scan.branch} of {redact_url(project.git_url)} "
            f"at {checkout.commit_sha[:12]}",
        )
    )
    return workdir / "src"


def _artifact_inputs(
    scan: Scan, log: list[dict[str, str]]
) -> tuple[list[Artifact], list[ArtifactInput]]:
    artifacts = list(Artifact.objects.filter(scan=scan).order_by("id"))
    inputs = []
    for artifact in artifacts:
        path = Path(settings.MEDIA_ROOT) / artifact.stored_path
        if path.is_file():
            inputs.append(ArtifactInput(kind=artifact.kind, path=path, name=artifact.original_name))
        else:
            log.append(
                log_entry("error", "artifacts", "file missing from storage", artifact.original_name)
            )
    return artifacts, inputs


def _match_outcomes(
    artifacts: list[Artifact], outcomes: list[ArtifactOutcome], log: list[dict[str, str]]
) -> None:
    """Put each engine outcome on its Artifact row (matched by kind and name, in order)."""
    unused = list(outcomes)
    for artifact in artifacts:
        outcome = next(
            (o for o in unused if o.kind == artifact.kind and o.name == artifact.original_name),
            None,
        )
        if outcome is None:
            artifact.parse_status = ParseStatus.FAILED
            artifact.parse_error = (
                f"the engine reported nothing for this {artifact.kind} artifact "
                "(no parser for this kind in this engine version, or the file is missing)"
            )
            artifact.summary = {}
        else:
            unused.remove(outcome)
            artifact.parse_status = ParseStatus.PARSED if outcome.ok else ParseStatus.FAILED
            artifact.parse_error = outcome.error
            artifact.summary = outcome.summary
        if artifact.parse_status == ParseStatus.FAILED:
            log.append(
                log_entry("error", "artifacts", artifact.parse_error, artifact.original_name)
            )
    Artifact.objects.bulk_update(artifacts, ["parse_status", "parse_error", "summary"])


def _number(row: dict[str, Any], *keys: str) -> float | None:
    for key in keys:
        value = row.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def endpoint_stat_rows(scan: Scan, load_test: dict[str, Any]) -> list[EndpointLoadStat]:
    """Per-endpoint rows from ``ScanResult.load_test`` (a list or a name->row dict of endpoints)."""
    endpoints = load_test.get("endpoints") or []
    if isinstance(endpoints, dict):
        endpoints = [
            {"name": name, **row} for name, row in endpoints.items() if isinstance(row, dict)
        ]
    rows = []
    for row in endpoints:
        if not isinstance(row, dict):
            continue
        name = str(row.get("name") or row.get("endpoint") or row.get("route") or "")[:500]
        if not name:
            continue
        requests, failures = (
            _number(row, "requests", "request_count"),
            _number(row, "failures", "failure_count"),
        )
        rows.append(
            EndpointLoadStat(
                scan=scan,
                method=str(row.get("method") or "")[:16],
                endpoint=name,
                requests=int(requests) if requests is not None else None,
                failures=int(failures) if failures is not None else None,
                rps=_number(row, "rps", "requests_per_s"),
                mean_ms=_number(row, "mean_ms", "avg_ms", "average_ms"),
                p50_ms=_number(row, "p50_ms", "p50", "median_ms"),
                p95_ms=_number(row, "p95_ms", "p95"),
                p99_ms=_number(row, "p99_ms", "p99"),
            )
        )
    return rows


def _store_and_finish(
    scan_id: int,
    result: ScanResult,
    artifacts: list[Artifact],
    log: list[dict[str, str]],
    progress: _Progress,
) -> None:
    """The one transaction that makes a scan's results visible, exactly once."""
    with transaction.atomic():
        scan = Scan.objects.select_for_update().select_related("project").get(pk=scan_id)
        if scan.is_final or STEP_STORE in scan.completed_steps:
            return
        if scan.cancel_requested:
            raise ScanCancelled
        # Stores of one project run one at a time, so each reconciles against the one before.
        Project.objects.select_for_update().filter(pk=scan.project_id).first()
        _match_outcomes(artifacts, result.artifacts, log)
        outcome = findings_store_scan(scan, result.findings)
        if outcome.duplicates_dropped:
            log.append(
                log_entry(
                    "warning", "store", f"{outcome.duplicates_dropped} duplicate findings dropped"
                )
            )
        EndpointLoadStat.objects.filter(scan=scan).delete()
        EndpointLoadStat.objects.bulk_create(endpoint_stat_rows(scan, result.load_test))
        scan.refresh_from_db(fields=["commit_sha", "commit_message", "log"])
        scan.log = [*scan.log, *log]
        scan.scanner_versions = dict(result.versions)
        scan.stats = dict(result.stats)
        scan.engine_timings = {key: round(value, 3) for key, value in result.timings.items()}
        scan.load_test = result.load_test
        scan.new_count, scan.open_count = outcome.new, outcome.still_open
        scan.fixed_count, scan.reopened_count = outcome.fixed, outcome.reopened
        scan.findings_count = outcome.seen
        scan.trend = findings_trend_snapshot(scan)
        scan.completed_steps = [*scan.completed_steps, STEP_STORE]
        scan.stage, scan.progress = ScanStage.DONE, 100.0
        scan.stage_timings = progress.timings
        scan.save()
        _finalize(scan, ScanStatus.SUCCEEDED)


@contextlib.contextmanager
def _children_allowed() -> Iterator[None]:
    """Let the engine start its parsing pool from inside a Celery prefork child.

    Pool children are daemonic, and multiprocessing refuses to start processes from a daemonic
    one; the rule protects orphans at interpreter exit, which cannot happen here because the
    engine joins its pool before returning. The flag is restored afterwards.
    """
    process = multiprocessing.current_process()
    config = getattr(process, "_config", {})
    was_daemon = bool(config.get("daemon"))
    if was_daemon:
        config["daemon"] = False
    try:
        yield
    finally:
        if was_daemon:
            config["daemon"] = True


def _analyse(
    scan: Scan, root: Path, inputs: list[ArtifactInput], progress: _Progress
) -> ScanResult:
    project = scan.project
    options = ScanOptions(
        exclude=tuple(project.exclude_globs or ()),
        artifacts=tuple(inputs),
        latency_budget_ms=float(project.latency_budget_ms),
        progress=progress.engine,
        # Operators can switch Semgrep off (it dominates the time of small scans).
        semgrep=bool(getattr(settings, "AUDIT_SEMGREP_ENABLED", True)),
    )
    try:
        with _children_allowed():
            return scanners.scan(root, options)
    except SoftTimeLimitExceeded:
        raise
    except Exception as exc:
        logger.exception("engine crashed on scan %s", scan.pk)
        raise EngineCrash(f"the engine crashed: {type(exc).__name__}: {exc}") from exc


def scan_run(scan_id: int, *, final_attempt: bool = True) -> str:
    """Run the pipeline for one scan; returns its final status (or "skipped").

    Raises TransientSourceError when a network failure should be retried and this is not the
    final attempt (the task's autoretry takes it from there).
    """
    scan = _begin(scan_id)
    if scan is None:
        return "skipped"
    _remove_stale_workdirs(scan_id)
    progress = _Progress(scan_id)
    stage: str = ScanStage.PREPARE
    log: list[dict[str, str]] = []
    try:
        with tempfile.TemporaryDirectory(prefix=f"{WORKDIR_PREFIX}{scan_id}-") as workdir:
            with progress.stage(ScanStage.PREPARE):
                root = _prepare(scan, Path(workdir), log)
            _check_cancel(scan_id)
            stage = ScanStage.ANALYSE
            artifacts, inputs = _artifact_inputs(scan, log)
            with progress.stage(ScanStage.ANALYSE):
                result = _analyse(scan, root, inputs, progress)
            log.extend(
                log_entry("warning", "analyse", f"skipped: {s.reason}", s.path)
                for s in result.skipped
            )
            log.extend(log_entry("warning", "analyse", warning) for warning in result.warnings)
            _check_cancel(scan_id)
            stage = ScanStage.STORE
            with progress.stage(ScanStage.STORE):
                _store_and_finish(scan_id, result, artifacts, log, progress)
            Scan.objects.filter(pk=scan_id).update(stage_timings=progress.timings)
    except ScanCancelled:
        _fail(scan_id, ScanStatus.CANCELLED, f"cancelled during '{stage}'", stage)
    except TransientSourceError as exc:
        if not final_attempt:
            Scan.objects.filter(pk=scan_id).update(
                log=[
                    *Scan.objects.get(pk=scan_id).log,
                    log_entry("warning", stage, f"will retry: {exc}"),
                ]
            )
            raise
        _fail(scan_id, ScanStatus.FAILED, str(exc), stage)
    except (SourceError, EngineCrash) as exc:
        _fail(
            scan_id,
            ScanStatus.FAILED,
            str(exc),
            stage,
            traceback.format_exc(limit=5) if isinstance(exc, EngineCrash) else "",
        )
    except SoftTimeLimitExceeded:
        _fail(scan_id, ScanStatus.FAILED, f"time limit exceeded during '{stage}'", stage)
    except OperationalError:
        if not final_attempt:
            raise  # the database went away: the task retries with backoff
        _fail(scan_id, ScanStatus.FAILED, f"database error during '{stage}'", stage)
        raise
    except Exception as exc:
        logger.exception("scan %s failed", scan_id)
        _fail(
            scan_id,
            ScanStatus.FAILED,
            f"internal error during '{stage}': {type(exc).__name__}: {exc}",
            stage,
            traceback.format_exc(limit=8),
        )
        raise
    status: str = Scan.objects.values_list("status", flat=True).get(pk=scan_id)
    return status


def scan_notify(scan_id: int) -> int:
    """Run the scan-finished hooks once per final scan; returns how many ran."""
    with transaction.atomic():
        scan = Scan.objects.select_for_update().select_related("project").filter(pk=scan_id).first()
        if scan is None or not scan.is_final or scan.notified_at is not None:
            return 0
        hooks = scan_finished_hooks()
        problems = []
        for name, hook in hooks:
            try:
                hook(scan)
            except Exception as exc:
                logger.exception("scan hook %s failed for scan %s", name, scan_id)
                problems.append(
                    log_entry("error", "notify", f"hook {name} failed: {type(exc).__name__}: {exc}")
                )
        scan.log = [*scan.log, *problems]
        scan.notified_at = timezone.now()
        scan.save(update_fields=["log", "notified_at"])
        return len(hooks)
