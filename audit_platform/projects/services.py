"""Writes for projects: creation and settings changes (validated), and scheduled scans."""

from __future__ import annotations

import copy
import datetime
import logging
from typing import Any

from croniter import croniter
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from audit_platform.accounts.models import Organization
from audit_platform.accounts.services import require_admin
from audit_platform.projects.models import (
    DEFAULT_SLA_DAYS,
    NAMED_SCHEDULES,
    QUALITY_GATE_KEYS,
    Project,
    ReportCadence,
    SourceKind,
)
from audit_platform.scans.sources import SourceError, validate_git_url, validate_ref

logger = logging.getLogger(__name__)

# Settings a user may change with project_update, and their validators below.
EDITABLE_FIELDS = frozenset(
    {
        "name",
        "source_kind",
        "git_url",
        "default_branch",
        "latency_budget_ms",
        "sla_days",
        "report_recipients",
        "report_cadence",
        "scan_schedule",
        "exclude_globs",
        "quality_gate",
    }
)


def _clean_sla_days(value: Any) -> dict[str, int | None]:
    if not isinstance(value, dict):
        raise ValidationError("sla_days must be an object: severity -> days (or null)")
    unknown = set(value) - set(DEFAULT_SLA_DAYS)
    if unknown:
        raise ValidationError(f"sla_days has unknown severities: {', '.join(sorted(unknown))}")
    cleaned: dict[str, int | None] = dict(DEFAULT_SLA_DAYS)
    for severity, days in value.items():
        if days is not None and (not isinstance(days, int) or isinstance(days, bool) or days < 1):
            raise ValidationError(f"sla_days[{severity!r}] must be a positive whole number or null")
        cleaned[severity] = days
    return cleaned


def _clean_string_list(value: Any, what: str) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ValidationError(f"{what} must be a list of strings")
    return [item.strip() for item in value if item.strip()]


def _clean_recipients(value: Any) -> list[str]:
    recipients = _clean_string_list(value, "report_recipients")
    for address in recipients:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(f"{address!r} is not an email address") from None
    return recipients


def _clean_schedule(value: Any) -> str:
    schedule = str(value or "").strip()
    if schedule in ("", "none"):
        return ""
    if schedule in NAMED_SCHEDULES:
        return schedule
    if len(schedule.split()) != 5 or not croniter.is_valid(schedule):
        raise ValidationError(
            f"scan_schedule {schedule!r} is not 'daily', 'weekly' or a five-field cron expression"
        )
    return schedule


def _clean_quality_gate(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError("quality_gate must be an object")
    unknown = set(value) - QUALITY_GATE_KEYS
    if unknown:
        raise ValidationError(f"quality_gate has unknown rules: {', '.join(sorted(unknown))}")
    severity = value.get("fail_on_new_severity")
    if severity is not None and severity not in DEFAULT_SLA_DAYS:
        raise ValidationError(f"fail_on_new_severity must be one of {', '.join(DEFAULT_SLA_DAYS)}")
    blast = value.get("max_blast_radius")
    if blast is not None and (not isinstance(blast, int | float) or isinstance(blast, bool)):
        raise ValidationError("max_blast_radius must be a number")
    runtime = value.get("fail_on_runtime_confirmed")
    if runtime is not None and not isinstance(runtime, bool):
        raise ValidationError("fail_on_runtime_confirmed must be true or false")
    max_new = value.get("max_new_findings")
    if max_new is not None and (
        not isinstance(max_new, int) or isinstance(max_new, bool) or max_new < 0
    ):
        raise ValidationError("max_new_findings must be a whole number >= 0")
    return dict(value)


def _clean(field: str, value: Any) -> Any:
    cleaners = {
        "sla_days": _clean_sla_days,
        "report_recipients": _clean_recipients,
        "scan_schedule": _clean_schedule,
        "exclude_globs": lambda v: _clean_string_list(v, "exclude_globs"),
        "quality_gate": _clean_quality_gate,
    }
    if field in cleaners:
        return cleaners[field](value)
    if field == "latency_budget_ms" and (not isinstance(value, int) or value < 1):
        raise ValidationError("latency_budget_ms must be a positive whole number")
    if field == "report_cadence" and value not in ReportCadence.values:
        raise ValidationError(f"report_cadence must be one of {', '.join(ReportCadence.values)}")
    if field == "source_kind" and value not in SourceKind.values:
        raise ValidationError(f"source_kind must be one of {', '.join(SourceKind.values)}")
    if field == "name" and not str(value).strip():
        raise ValidationError("the project needs a name")
    return value


def _check_source(project: Project) -> None:
    try:
        if project.source_kind == SourceKind.GIT:
            project.git_url = validate_git_url(project.git_url)
        project.default_branch = validate_ref(project.default_branch)
    except SourceError as exc:
        raise ValidationError(str(exc)) from None


def project_create(
    *,
    organization: Organization,
    name: str,
    slug: str = "",
    created_by: User | None = None,
    **settings: Any,
) -> Project:
    """Create a project; ``settings`` are any of ``EDITABLE_FIELDS`` (validated)."""
    require_admin(created_by, organization)
    unknown = set(settings) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(f"unknown project settings: {', '.join(sorted(unknown))}")
    slug = slugify(slug or name)
    if not slug:
        raise ValidationError(f"cannot make a slug from {name!r}; give one")
    if Project.objects.filter(organization=organization, slug=slug).exists():
        raise ValidationError(f"{organization.slug} already has a project with slug {slug!r}")
    project = Project(
        organization=organization, name=_clean("name", name), slug=slug, created_by=created_by
    )
    for field, value in settings.items():
        setattr(project, field, _clean(field, value))
    _check_source(project)
    project.save()
    return project


def project_update(project: Project, *, actor: User | None = None, **changes: Any) -> Project:
    """Change project settings (any of ``EDITABLE_FIELDS``), validated as in project_create."""
    require_admin(actor, project.organization)
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(f"unknown project settings: {', '.join(sorted(unknown))}")
    # Validate on a copy, so a refused change leaves the caller's instance as it was.
    candidate = copy.copy(project)
    for field, value in changes.items():
        setattr(candidate, field, _clean(field, value))
    _check_source(candidate)
    for field in (*changes, "git_url", "default_branch"):
        setattr(project, field, getattr(candidate, field))
    project.save()
    return project


def project_next_scheduled_scan(
    project: Project, after: datetime.datetime
) -> datetime.datetime | None:
    """When the project's schedule next fires after ``after`` (UTC); None when unscheduled."""
    cron = project.schedule_cron
    if not cron:
        return None
    upcoming: datetime.datetime = croniter(cron, after).get_next(datetime.datetime)
    return upcoming


def projects_dispatch_scheduled_scans(now: datetime.datetime | None = None) -> list[int]:
    """Queue a scan of every scheduled project whose schedule fired since its last scheduled scan.

    Idempotent: ``last_scheduled_at`` is moved under a row lock in the same transaction that
    creates the scan, so a repeated or concurrent dispatch queues nothing twice. Returns the ids
    of the queued scans. Upload-only projects are skipped (there is nothing to fetch).
    """
    from audit_platform.scans.models import ScanTrigger  # noqa: PLC0415 (scans imports projects)
    from audit_platform.scans.services import scan_create  # noqa: PLC0415

    now = now or timezone.now()
    queued: list[int] = []
    candidates = Project.objects.exclude(scan_schedule="").filter(source_kind=SourceKind.GIT)
    for project_id in candidates.values_list("id", flat=True):
        with transaction.atomic():
            project = Project.objects.select_for_update().get(pk=project_id)
            since = project.last_scheduled_at or project.created_at
            due = project_next_scheduled_scan(project, since)
            if due is None or due > now:
                continue
            project.last_scheduled_at = now
            project.save(update_fields=["last_scheduled_at"])
            scan = scan_create(project=project, trigger=ScanTrigger.SCHEDULE)
            queued.append(scan.pk)
            logger.info("queued scheduled scan %s of %s", scan.number, project)
    return queued
