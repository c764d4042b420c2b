"""Writes for scans and artifacts: create (and enqueue on commit), store uploads durably, cancel.

The pipeline itself is ``audit_platform.scans.pipeline``; the Celery tasks call into it.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from audit_platform.accounts.services import require_write
from audit_platform.projects.models import Project, SourceKind
from audit_platform.scans.models import (
    Artifact,
    Scan,
    ScanSourceKind,
    ScanStage,
    ScanStatus,
    ScanTrigger,
)
from audit_platform.scans.sources import SourceError, validate_ref

DEFAULT_MAX_ARCHIVE_BYTES = 100 * 1024 * 1024
DEFAULT_MAX_ARTIFACT_BYTES = 200 * 1024 * 1024
# Artifact kinds the engine ingests (scanners.ingest).
ARTIFACT_KINDS = ("pyspy", "asyncio-log", "locust", "mypy", "pyright", "sql-log", "sarif")
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_COPY_CHUNK = 1024 * 1024


def _enqueue_scan(scan: Scan) -> None:
    from audit_platform.scans.tasks import run_scan  # noqa: PLC0415 (tasks import services)

    scan_id = scan.pk
    transaction.on_commit(lambda: run_scan.delay(scan_id))


def _numbered_scan(project: Project, *, enqueue: bool, **fields: Any) -> Scan:
    """Create the project's next scan (1, 2, 3...) and enqueue it once committed."""
    with transaction.atomic():
        # The project row lock makes concurrent creations take turns for the next number.
        Project.objects.select_for_update().filter(pk=project.pk).first()
        highest = Scan.objects.filter(project=project).aggregate(n=Max("number"))["n"]
        scan = Scan.objects.create(project=project, number=(highest or 0) + 1, **fields)
        if enqueue:
            _enqueue_scan(scan)
    return scan


def scan_create(
    *,
    project: Project,
    ref: str = "",
    branch: str = "",
    created_by: User | None = None,
    trigger: str = ScanTrigger.MANUAL,
    enqueue: bool = True,
) -> Scan:
    """Queue a scan of the project's git source at ``ref`` (default: the default branch).

    ``branch`` names the line of history findings are reconciled on; it defaults to ``ref``
    (a branch name) or, for tags and commits, pass the branch explicitly. ``enqueue=False``
    leaves the scan queued for artifacts to be attached first (call ``scan_enqueue``).
    """
    require_write(created_by, project.organization)
    if project.source_kind != SourceKind.GIT or not project.git_url:
        raise ValidationError(f"{project} has no git source; upload an archive instead")
    try:
        ref = validate_ref(ref or project.default_branch)
        branch = validate_ref(branch or ref)
    except SourceError as exc:
        raise ValidationError(str(exc)) from None
    return _numbered_scan(
        project,
        enqueue=enqueue,
        source_kind=ScanSourceKind.GIT,
        ref=ref,
        branch=branch,
        trigger=trigger,
        created_by=created_by,
    )


def _store_upload(
    stream: IO[bytes], original_name: str, folder: str, max_bytes: int
) -> tuple[str, int, str]:
    """Write ``stream`` under MEDIA_ROOT/``folder``, fsync it; return (relative path, size, sha256).

    The file and its directory are synced before returning, so once the caller's row is
    committed the upload survives a crash.
    """
    safe_name = _UNSAFE_NAME_CHARS.sub("_", Path(original_name or "upload").name).strip("._")
    relative = Path(folder) / uuid.uuid4().hex / (safe_name or "upload")
    destination = Path(settings.MEDIA_ROOT) / relative
    destination.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    try:
        with destination.open("wb") as out:
            while chunk := stream.read(_COPY_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise ValidationError(f"{original_name!r} is larger than {max_bytes} bytes")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        directory = os.open(destination.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except BaseException:
        destination.unlink(missing_ok=True)
        raise
    if size == 0:
        destination.unlink(missing_ok=True)
        raise ValidationError(f"{original_name!r} is empty")
    return relative.as_posix(), size, digest.hexdigest()


def scan_create_from_archive(
    *,
    project: Project,
    archive: IO[bytes],
    archive_name: str,
    branch: str = "",
    commit_sha: str = "",
    commit_message: str = "",
    created_by: User | None = None,
    trigger: str = ScanTrigger.API,
    enqueue: bool = True,
) -> Scan:
    """Store an uploaded source archive durably and queue a scan of it.

    ``branch`` (default: the project's default branch) is what findings reconcile on;
    ``commit_sha``/``commit_message`` are recorded as given (CI knows them, the archive does not).
    """
    require_write(created_by, project.organization)
    try:
        branch = validate_ref(branch or project.default_branch)
    except SourceError as exc:
        raise ValidationError(str(exc)) from None
    if commit_sha and not re.fullmatch(r"[0-9a-fA-F]{7,64}", commit_sha):
        raise ValidationError(f"{commit_sha!r} is not a commit SHA")
    limit = int(getattr(settings, "AUDIT_MAX_ARCHIVE_BYTES", DEFAULT_MAX_ARCHIVE_BYTES))
    path, size, sha256 = _store_upload(archive, archive_name, f"archives/{project.pk}", limit)
    try:
        scan = _numbered_scan(
            project,
            enqueue=enqueue,
            source_kind=ScanSourceKind.ARCHIVE,
            branch=branch,
            archive_path=path,
            archive_name=archive_name[:255],
            archive_size=size,
            archive_sha256=sha256,
            commit_sha=commit_sha.lower(),
            commit_message=commit_message,
            trigger=trigger,
            created_by=created_by,
        )
    except BaseException:
        (Path(settings.MEDIA_ROOT) / path).unlink(missing_ok=True)
        raise
    return scan


def artifact_add(
    *,
    scan: Scan,
    stream: IO[bytes],
    original_name: str,
    kind: str,
    actor: User | None = None,
) -> Artifact:
    """Attach an uploaded artifact to a queued scan: file synced to disk, then the row committed."""
    require_write(actor, scan.project.organization)
    if kind not in ARTIFACT_KINDS:
        raise ValidationError(
            f"unknown artifact kind {kind!r}; use one of {', '.join(ARTIFACT_KINDS)}"
        )
    limit = int(getattr(settings, "AUDIT_MAX_ARTIFACT_BYTES", DEFAULT_MAX_ARTIFACT_BYTES))
    path, size, sha256 = _store_upload(stream, original_name, f"artifacts/{scan.project_id}", limit)
    try:
        with transaction.atomic():
            locked = Scan.objects.select_for_update().get(pk=scan.pk)
            if locked.status != ScanStatus.QUEUED or locked.attempts > 0:
                raise ValidationError(
                    f"scan {locked.number} has already started; artifacts go with a queued scan"
                )
            artifact = Artifact.objects.create(
                scan=locked,
                kind=kind,
                original_name=(original_name or "upload")[:255],
                size=size,
                sha256=sha256,
                stored_path=path,
            )
    except BaseException:
        (Path(settings.MEDIA_ROOT) / path).unlink(missing_ok=True)
        raise
    return artifact


def scan_enqueue(scan: Scan, *, actor: User | None = None) -> Scan:
    """Send a queued scan (created with ``enqueue=False``) to the worker."""
    require_write(actor, scan.project.organization)
    with transaction.atomic():
        locked = Scan.objects.select_for_update().get(pk=scan.pk)
        if locked.status != ScanStatus.QUEUED:
            raise ValidationError(f"scan {locked.number} is {locked.status}, not queued")
        _enqueue_scan(locked)
    return locked


def scan_cancel(scan: Scan, *, actor: User | None = None) -> Scan:
    """Cancel: a queued scan at once; a running one at its next stage boundary."""
    require_write(actor, scan.project.organization)
    with transaction.atomic():
        locked = Scan.objects.select_for_update().get(pk=scan.pk)
        if locked.is_final:
            return locked
        if locked.status == ScanStatus.QUEUED:
            locked.status = ScanStatus.CANCELLED
            locked.stage = ScanStage.DONE
            locked.finished_at = timezone.now()
            locked.error = "cancelled before it started"
        locked.cancel_requested = True
        locked.save(update_fields=["status", "stage", "finished_at", "error", "cancel_requested"])
        if locked.is_final:
            _enqueue_notify(locked)
    return locked


def _enqueue_notify(scan: Scan) -> None:
    from audit_platform.scans.tasks import notify_scan_finished  # noqa: PLC0415

    scan_id = scan.pk
    transaction.on_commit(lambda: notify_scan_finished.delay(scan_id))
