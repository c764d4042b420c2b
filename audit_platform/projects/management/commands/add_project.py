"""``manage.py add_project --org acme --name "Billing API" --git-url https://... [--branch main]``.

Safe to run again: when the organization already has the slug, the given settings are applied to
the existing project instead.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.text import slugify

from audit_platform.accounts.models import Organization
from audit_platform.projects.models import Project, SourceKind
from audit_platform.projects.services import project_create, project_update


class Command(BaseCommand):
    help = "Add a project to an organization (or update the settings of an existing one)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", default="")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--git-url", help="https://, ssh://, git@host:path (or a local path)")
        source.add_argument("--uploads", action="store_true", help="scanned from uploads only")
        parser.add_argument("--branch", default="main", help="default branch")
        parser.add_argument("--latency-budget-ms", type=int, default=None)
        parser.add_argument("--schedule", default=None, help="'daily', 'weekly' or cron")
        parser.add_argument("--exclude", action="append", default=None, help="glob (repeatable)")
        parser.add_argument("--sla-days", default=None, help='JSON, e.g. {"high": 14}')
        parser.add_argument("--quality-gate", default=None, help="JSON, see projects.models")
        parser.add_argument("--recipient", action="append", default=None, help="report email")

    def _settings(self, options: dict[str, Any]) -> dict[str, Any]:
        settings: dict[str, Any] = {"default_branch": options["branch"]}
        if options["uploads"]:
            settings.update(source_kind=SourceKind.UPLOADS, git_url="")
        else:
            settings.update(source_kind=SourceKind.GIT, git_url=options["git_url"])
        optional = {
            "latency_budget_ms": options["latency_budget_ms"],
            "scan_schedule": options["schedule"],
            "exclude_globs": options["exclude"],
            "report_recipients": options["recipient"],
        }
        settings.update({key: value for key, value in optional.items() if value is not None})
        for key in ("sla_days", "quality_gate"):
            raw = options[key]
            if raw is not None:
                try:
                    settings[key] = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise CommandError(f"--{key.replace('_', '-')} is not JSON: {exc}") from None
        return settings

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"no organization with slug {options['org']!r}")
        slug = slugify(options["slug"] or options["name"])
        settings = self._settings(options)
        try:
            existing = Project.objects.filter(organization=organization, slug=slug).first()
            if existing is None:
                project = project_create(
                    organization=organization, name=options["name"], slug=slug, **settings
                )
                verb = "created"
            else:
                project = project_update(existing, name=options["name"], **settings)
                verb = "updated"
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"{verb} project {project} (id {project.pk})"))
