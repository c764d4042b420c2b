"""``manage.py run_scan --project acme/billing [--ref main] [--archive src.tgz] [--wait]``.

Without ``--wait`` the scan is queued for the worker and the command returns. ``--wait`` polls
until the scan is final, printing stage and progress, then a summary (exit status 1 unless it
succeeded). ``--inline`` runs the pipeline in this process, for machines without a worker.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit_platform.projects.models import Project
from audit_platform.scans.models import Scan, ScanStatus
from audit_platform.scans.pipeline import scan_run
from audit_platform.scans.services import (
    ARTIFACT_KINDS,
    artifact_add,
    scan_create,
    scan_create_from_archive,
    scan_enqueue,
)


class Command(BaseCommand):
    help = "Queue a scan of a project (git ref or source archive); --wait follows it to the end."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="ORG_SLUG/PROJECT_SLUG")
        parser.add_argument("--ref", default="", help="branch, tag or commit (git projects)")
        parser.add_argument("--branch", default="", help="branch to reconcile findings on")
        parser.add_argument("--archive", type=Path, default=None, help=".zip or .tar.gz source")
        parser.add_argument(
            "--artifact",
            action="append",
            default=[],
            metavar="KIND=PATH",
            help=f"runtime/tool output to ingest (repeatable); kinds: {', '.join(ARTIFACT_KINDS)}",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--wait", action="store_true", help="follow the scan until it ends")
        mode.add_argument("--inline", action="store_true", help="run here, not in the worker")
        parser.add_argument("--timeout", type=float, default=1800.0, help="seconds for --wait")

    def handle(self, *args: Any, **options: Any) -> None:
        org_slug, _, project_slug = str(options["project"]).partition("/")
        project = Project.objects.filter(organization__slug=org_slug, slug=project_slug).first()
        if project is None:
            raise CommandError(f"no project {options['project']!r} (use ORG_SLUG/PROJECT_SLUG)")
        artifacts = [self._artifact(value) for value in options["artifact"]]
        deferred = bool(artifacts) or options["inline"]
        try:
            scan = self._create(project, options, enqueue=not deferred)
            for kind, path in artifacts:
                with path.open("rb") as stream:
                    artifact_add(scan=scan, stream=stream, original_name=path.name, kind=kind)
            if options["inline"]:
                scan_run(scan.pk)
            elif deferred:
                scan_enqueue(scan)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"scan {scan.number} of {project} (id {scan.pk}) queued")
        if options["wait"]:
            scan = self._follow(scan, options["timeout"])
        if options["wait"] or options["inline"]:
            scan.refresh_from_db()
            self._summary(scan)
            if scan.status != ScanStatus.SUCCEEDED:
                raise CommandError(f"scan {scan.number} {scan.status}: {scan.error}")

    def _artifact(self, value: str) -> tuple[str, Path]:
        kind, _, raw_path = value.partition("=")
        path = Path(raw_path)
        if kind not in ARTIFACT_KINDS or not raw_path:
            raise CommandError(f"--artifact {value!r}: use KIND=PATH with KIND in {ARTIFACT_KINDS}")
        if not path.is_file():
            raise CommandError(f"--artifact {value!r}: no such file")
        return kind, path

    def _create(self, project: Project, options: dict[str, Any], *, enqueue: bool) -> Scan:
        archive: Path | None = options["archive"]
        if archive is None:
            return scan_create(
                project=project, ref=options["ref"], branch=options["branch"], enqueue=enqueue
            )
        if not archive.is_file():
            raise CommandError(f"--archive {archive}: no such file")
        with archive.open("rb") as stream:
            return scan_create_from_archive(
                project=project,
                archive=stream,
                archive_name=archive.name,
                branch=options["branch"],
                enqueue=enqueue,
            )

    def _follow(self, scan: Scan, timeout: float) -> Scan:
        deadline = time.monotonic() + timeout
        shown = ("", -1.0)
        while True:
            scan.refresh_from_db()
            if (scan.stage, scan.progress) != shown:
                shown = (scan.stage, scan.progress)
                self.stdout.write(f"  {scan.status:<9} {scan.stage:<9} {scan.progress:5.1f}%")
            if scan.is_final:
                return scan
            if time.monotonic() > deadline:
                raise CommandError(
                    f"scan {scan.number} still {scan.status} after {timeout:.0f} s "
                    "(is a worker running? ./dev up starts one)"
                )
            time.sleep(0.5)

    def _summary(self, scan: Scan) -> None:
        self.stdout.write(
            f"scan {scan.number}: {scan.status}"
            + (f" at {scan.commit_sha[:12]}" if scan.commit_sha else "")
            + f" in {scan.duration_seconds or 0:.1f} s"
        )
        self.stdout.write(
            f"  findings seen {scan.findings_count}: new {scan.new_count}, still open "
            f"{scan.open_count}, reopened {scan.reopened_count}; fixed {scan.fixed_count}"
        )
        for severity, count in sorted(scan.trend.get("seen_by_severity", {}).items()):
            self.stdout.write(f"  {severity}: {count}")
        problems = [entry for entry in scan.log if entry.get("level") in ("warning", "error")]
        if problems:
            self.stdout.write(f"  log: {len(problems)} warnings/errors (see the scan page)")
