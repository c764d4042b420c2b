"""E-mailed PDF reports through a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import datetime
import email
import io
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import pypdf
import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from audit_platform.projects.models import ReportCadence
from audit_platform.reports import delivery
from audit_platform.reports.hooks import queue_after_scan_report
from audit_platform.reports.models import DeliveryStatus, ReportDelivery, ReportPreference
from audit_platform.reports.tasks import send_project_report
from audit_platform.scans.models import ScanStatus
from tests.platform.factories import ScanFactory
from tests.web.conftest import World

pytestmark = pytest.mark.django_db

MONDAY = datetime.datetime(2026, 11, 23, 7, 0, tzinfo=datetime.UTC)


@dataclass
class Inbox:
    """Collects what the SMTP server receives (an aiosmtpd handler)."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    """A loopback port nobody listens on (yet)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[Inbox]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    settings.DEFAULT_FROM_EMAIL = "audit@example.com"
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def text_only_reports(settings: Any) -> None:
    """Reports without chart images: these tests are about delivery, not drawing (the first
    test here renders the charts through Chromium)."""
    settings.REPORT_CHART_IMAGES = False


def _weekly(world: World) -> None:
    world.project.report_recipients = ["lead@example.com", "cto@example.com"]
    world.project.report_cadence = ReportCadence.WEEKLY
    world.project.save()


def test_weekly_report_reaches_the_smtp_server_with_its_pdf(
    world: World, smtp_server: Inbox
) -> None:
    _weekly(world)
    result = send_project_report.apply(args=[world.project.pk, "weekly"])
    assert result.successful(), result.traceback
    assert result.get() == DeliveryStatus.SENT

    ((recipients, message),) = smtp_server.messages
    assert recipients == ["lead@example.com", "cto@example.com"]
    assert message["From"] == "audit@example.com"
    assert (
        message["Subject"] == "[Audit] Payments API: Weekly remediation report, risk 196, 1 overdue"
    )
    parts = {part.get_content_type(): part for part in message.walk() if not part.is_multipart()}
    text = parts["text/plain"].get_payload(decode=True).decode()
    html = parts["text/html"].get_payload(decode=True).decode()
    assert "OVERDUE (past the SLA due date):" in text
    assert "3 days late: [critical] SQL built with an f-string in search_orders" in text
    assert "REOPENED (came back after a fix):" in text
    assert "Session opened without a guaranteed close" in html
    assert "http://localhost:8000/o/acme/payments/" in html

    pdf_part = parts["application/pdf"]
    assert pdf_part.get_filename() == "remediation-payments-scan-3.pdf"
    pdf = pdf_part.get_payload(decode=True)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert reader.metadata is not None
    assert reader.metadata.title == "Remediation report: Payments API, scan #3"
    pdf_text = "".join(page.extract_text() for page in reader.pages)
    assert "Executive summary" in pdf_text
    assert "Optimization stages" in pdf_text
    assert "requests.get blocks the event loop in get_rates" in pdf_text

    row = ReportDelivery.objects.get(project=world.project)
    assert (row.status, row.attempts, row.error) == (DeliveryStatus.SENT, 1, "")
    assert row.risk == pytest.approx(195.5)
    assert row.open_findings == 5
    assert row.pdf_bytes == len(pdf)


def test_a_period_is_sent_once_and_next_week_compares_with_it(
    world: World, smtp_server: Inbox, text_only_reports: None
) -> None:
    _weekly(world)
    first = delivery.report_delivery_send(world.project, kind="weekly", now=MONDAY)
    again = delivery.report_delivery_send(
        world.project, kind="weekly", now=MONDAY + datetime.timedelta(hours=3)
    )
    assert first is not None and again is not None
    assert first.pk == again.pk
    assert first.period == "2026-W48"
    assert len(smtp_server.messages) == 1

    world.top.status = "fixed"
    world.top.fixed_at = timezone.now()
    world.top.save()
    ReportDelivery.objects.filter(pk=first.pk).update(sent_at=MONDAY)
    next_week = delivery.report_delivery_send(
        world.project, kind="weekly", now=MONDAY + datetime.timedelta(days=7)
    )
    assert next_week is not None and next_week.period == "2026-W49"
    assert len(smtp_server.messages) == 2
    subject = " ".join(str(smtp_server.messages[1][1]["Subject"]).split())  # unfold the header
    assert subject == "[Audit] Payments API: Weekly remediation report, risk 108 (-45%), 1 overdue"


def test_a_failed_send_is_recorded_raised_and_retried(
    world: World, smtp_server: Inbox, settings: Any, text_only_reports: None
) -> None:
    _weekly(world)
    working_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = _free_port()
    with pytest.raises(delivery.DeliveryFailed):
        delivery.report_delivery_send(world.project, kind="weekly", now=MONDAY)
    row = ReportDelivery.objects.get(project=world.project)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)
    assert "ConnectionRefusedError" in row.error

    settings.EMAIL_PORT = working_port
    sent = delivery.report_delivery_send(world.project, kind="weekly", now=MONDAY)
    assert sent is not None
    assert (sent.pk, sent.status, sent.attempts, sent.error) == (row.pk, DeliveryStatus.SENT, 2, "")
    assert len(smtp_server.messages) == 1


def test_nothing_is_sent_without_recipients_or_a_succeeded_scan(
    world: World, smtp_server: Inbox
) -> None:
    assert delivery.report_delivery_send(world.project, kind="weekly") is None
    _weekly(world)
    assert delivery.report_delivery_send(world.other_project, kind="weekly") is None
    assert smtp_server.messages == []


def test_scheduled_reports_are_due_on_mondays_and_the_first(world: World) -> None:
    _weekly(world)
    assert delivery.projects_due_for_report(MONDAY.date()) == [(world.project.pk, "weekly")]
    assert delivery.projects_due_for_report(MONDAY.date() + datetime.timedelta(days=1)) == []
    world.project.report_cadence = ReportCadence.MONTHLY
    world.project.save()
    assert delivery.projects_due_for_report(datetime.date(2026, 12, 1)) == [
        (world.project.pk, "monthly")
    ]
    assert delivery.projects_due_for_report(MONDAY.date()) == []
    assert delivery.period_key("monthly", MONDAY) == "2026-11"


def test_after_scan_hook_queues_a_report_only_when_asked(
    world: World, django_capture_on_commit_callbacks
) -> None:
    _weekly(world)
    scan = world.scans[-1]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queue_after_scan_report(scan)
    assert callbacks == []
    ReportPreference.objects.create(project=world.project, send_after_scan=True)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queue_after_scan_report(scan)
        queue_after_scan_report(
            ScanFactory(project=world.project, number=9, status=ScanStatus.FAILED)
        )
    assert len(callbacks) == 1


def test_after_scan_report_is_keyed_by_the_scan(
    world: World, smtp_server: Inbox, text_only_reports: None
) -> None:
    _weekly(world)
    sent = delivery.report_delivery_send(world.project, kind="after_scan", scan=world.scans[1])
    assert sent is not None
    assert sent.period == "scan-2"
    assert smtp_server.messages[0][1]["Subject"].startswith(
        "[Audit] Payments API: Scan remediation report"
    )
    parts = [
        p for p in smtp_server.messages[0][1].walk() if p.get_content_type() == "application/pdf"
    ]
    assert parts[0].get_filename() == "remediation-payments-scan-2.pdf"
