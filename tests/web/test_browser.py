"""The dashboard in a real browser: Playwright driving Debian's Chromium against a live server.

Screenshots of the main pages go to test-artifacts/screenshots/ (git-ignored) for review.
`test_scan_to_pdf_flow` also needs the live Celery worker: it starts a real scan of the bundled
sample service from the browser and follows it to the PDF report.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
from django.contrib.auth.models import User

from audit_platform.accounts.models import Role
from audit_platform.findings.models import Finding, FindingStatus
from audit_platform.projects.models import Project
from tests.platform.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.web.conftest import World, make_world

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("AUDIT_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
SAMPLE_SERVICE = REPO_ROOT / "samples" / "inventory_service"
PASSWORD = "secret-password"  # tests.platform.factories.UserFactory's


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: no Chromium at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
    # test itself (fixtures, assertions) are still plain synchronous code.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: object) -> Iterator[object]:
    context = chromium.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)  # type: ignore[attr-defined]
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def shot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def sign_in(page: object, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")  # type: ignore[attr-defined]
    page.get_by_label("Username or email").fill(username)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(PASSWORD)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"/o/"))  # type: ignore[attr-defined]


@pytest.fixture
def committed_world(transactional_db: None) -> World:
    return make_world()


def test_main_pages_render_and_are_captured(
    page: object, live_server: object, committed_world: World
) -> None:
    world = committed_world
    base = str(live_server.url)  # type: ignore[attr-defined]
    page.goto(f"{base}/accounts/login/")  # type: ignore[attr-defined]
    shot(page, "00-sign-in")
    sign_in(page, base, world.owner.email)  # the e-mail works as well as the username

    assert page.get_by_role("heading", name="Acme").is_visible()  # type: ignore[attr-defined]
    assert page.get_by_role("link", name="Payments API").is_visible()  # type: ignore[attr-defined]
    shot(page, "01-organization")

    page.goto(base + world.url())  # type: ignore[attr-defined]
    page.wait_for_selector("[data-figure='fig-open_by_severity'] .main-svg")  # type: ignore[attr-defined]
    page.wait_for_selector("[data-figure='fig-load'] .main-svg")  # type: ignore[attr-defined]
    top_row = page.locator("table.data tbody tr").first  # type: ignore[attr-defined]
    assert world.top.title in top_row.inner_text()
    assert page.get_by_role("heading", name="Optimization stages").is_visible()  # type: ignore[attr-defined]
    shot(page, "02-project-dashboard")

    page.goto(base + world.url("findings/?severity=critical"))  # type: ignore[attr-defined]
    rows = page.locator("table.data tbody tr")  # type: ignore[attr-defined]
    assert rows.count() == 1
    assert "SQL built with an f-string" in rows.first.inner_text()
    assert "3 days overdue" in rows.first.inner_text()
    page.goto(base + world.url("findings/"))  # type: ignore[attr-defined]
    shot(page, "03-findings")

    page.goto(base + world.url(f"findings/{world.top.pk}/"))  # type: ignore[attr-defined]
    assert page.locator(".code-block .hll").inner_text().strip() == "response = requests.get(URL)"  # type: ignore[attr-defined]
    assert page.locator("ol.witness li").count() == 2  # type: ignore[attr-defined]
    assert (
        page.locator(".diff .add").inner_text().strip() == "+    response = await client.get(URL)"
    )  # type: ignore[attr-defined]
    shot(page, "04-finding")

    page.goto(base + world.url(f"scans/{world.scans[-1].number}/"))  # type: ignore[attr-defined]
    assert "syntax error at line 3" in page.locator("pre.log").inner_text()  # type: ignore[attr-defined]
    shot(page, "05-scan")
    page.goto(base + world.url("scans/"))  # type: ignore[attr-defined]
    shot(page, "06-scans")
    page.goto(base + world.url("settings/"))  # type: ignore[attr-defined]
    shot(page, "07-settings")
    page.goto(f"{base}/team/")  # type: ignore[attr-defined]
    shot(page, "08-team")
    page.goto(base + world.url(f"scans/{world.scans[-1].number}/report/"))  # type: ignore[attr-defined]
    page.wait_for_selector("[data-figure='rfig-open_by_severity'] .main-svg")  # type: ignore[attr-defined]
    shot(page, "09-report")

    sign_in(page, base, world.member.username)
    page.goto(f"{base}/mine/")  # type: ignore[attr-defined]
    rows = page.locator("table.data tbody tr")  # type: ignore[attr-defined]
    assert rows.count() == 2
    first = rows.first
    assert "SQL built with an f-string" in first.inner_text()  # overdue: due first
    assert "is-overdue" in (first.get_attribute("class") or "")
    shot(page, "10-my-findings")


def _git_repo_of_sample(tmp_path: Path) -> Path:
    from git import Repo  # noqa: PLC0415

    target = tmp_path / "inventory_service"
    shutil.copytree(SAMPLE_SERVICE, target, ignore=shutil.ignore_patterns("__pycache__"))
    repo = Repo.init(target, initial_branch="main")
    repo.git.add(A=True)
    repo.git.commit(m="sample service", author="Test <test@example.com>")
    repo.close()
    return target


@pytest.mark.worker
def test_scan_to_pdf_flow(
    page: object, live_server: object, live_worker: object, transactional_db: None, tmp_path: Path
) -> None:
    org = OrganizationFactory(name="Acme", slug="acme")
    lead: User = UserFactory(username="lena", first_name="Lena", last_name="Lead")
    MembershipFactory(organization=org, user=lead, role=Role.OWNER)
    project = Project.objects.create(
        organization=org,
        name="Inventory",
        slug="inventory",
        git_url=str(_git_repo_of_sample(tmp_path)),
        default_branch="main",
    )
    base = str(live_server.url)  # type: ignore[attr-defined]
    sign_in(page, base, "lena")

    page.goto(f"{base}/o/acme/inventory/")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Start a scan").click()  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"/scans/1/$"))  # type: ignore[attr-defined]
    shot(page, "20-scan-running")
    # htmx polls the progress fragment and reloads the page when the scan is final.
    page.wait_for_selector("[data-scan-status='succeeded']", timeout=240_000)  # type: ignore[attr-defined]
    assert page.get_by_role("progressbar").get_attribute("aria-valuenow") == "100"  # type: ignore[attr-defined]
    shot(page, "21-scan-done")

    page.goto(f"{base}/o/acme/inventory/")  # type: ignore[attr-defined]
    page.wait_for_selector("[data-figure='fig-categories'] .main-svg")  # type: ignore[attr-defined]
    shot(page, "22-dashboard-after-scan")
    top = (
        Finding.objects.filter(project=project).order_by("-blast_radius", "-severity", "id").first()
    )
    assert top is not None
    page.locator("table.data tbody tr").first.get_by_role("link").first.click()  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(rf"/findings/{top.pk}/$"))  # type: ignore[attr-defined]

    page.get_by_label("Assignee").select_option(label="Lena Lead (me)")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Assign").click()  # type: ignore[attr-defined]
    page.get_by_text("Assigned to lena.").wait_for()  # type: ignore[attr-defined]
    page.get_by_label("Status").select_option(value=FindingStatus.IN_PROGRESS)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Set status").click()  # type: ignore[attr-defined]
    page.get_by_text("Status set to in progress.").wait_for()  # type: ignore[attr-defined]
    assert "assigned it to lena" in page.locator("ol.timeline").inner_text()  # type: ignore[attr-defined]
    shot(page, "23-finding-triaged")
    top.refresh_from_db()
    assert top.assignee_id == lead.pk
    assert top.status == FindingStatus.IN_PROGRESS

    page.get_by_role("link", name="My findings").click()  # type: ignore[attr-defined]
    rows = page.locator("table.data tbody tr")  # type: ignore[attr-defined]
    assert rows.count() == 1
    assert top.title in rows.first.inner_text()
    shot(page, "24-my-findings")

    page.goto(f"{base}/o/acme/inventory/scans/1/report/")  # type: ignore[attr-defined]
    with page.expect_download() as download_info:  # type: ignore[attr-defined]
        page.get_by_role("link", name="Download PDF").click()  # type: ignore[attr-defined]
    download = download_info.value
    assert download.suggested_filename == "remediation-inventory-scan-1.pdf"
    pdf = Path(download.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert reader.metadata is not None
    assert reader.metadata.title == "Remediation report: Inventory, scan #1"
    text = "".join(p.extract_text() for p in reader.pages)
    assert "Executive summary" in text
    assert "Fix plan" in text
