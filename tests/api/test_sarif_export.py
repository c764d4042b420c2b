"""SARIF export of a stored scan, for GitHub code scanning."""

from __future__ import annotations

from audit_platform.findings.models import Finding, FindingStatus
from audit_platform.scans.models import Scan, ScanStatus
from tests.api.conftest import World, engine_finding, store_scan


def test_export_a_scan_as_sarif(world: World, client_for) -> None:
    store_scan(world.shop, [engine_finding("app/old.py", 3)])
    finding = engine_finding("app/api/items.py", 12, blast_radius=80.0, evidence=True)
    finding.suggested_fix = (
        "--- a/app/api/items.py\n+++ b/app/api/items.py\n@@ -12 +12 @@\n"
        "-    time.sleep(1)\n+    await asyncio.sleep(1)\n"
    )
    scan = store_scan(world.shop, [finding, engine_finding("app/api/users.py", 30)])
    response = client_for("shop_ci").get(f"/api/v1/projects/shop/scans/{scan.pk}/sarif/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/sarif+json"
    assert response["Content-Disposition"] == 'attachment; filename="scan-2.sarif"'
    document = response.json()
    assert document["version"] == "2.1.0"
    run = document["runs"][0]
    results = run["results"]
    # Only what this scan saw (app/old.py was fixed by it), highest blast radius first.
    locations = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results]
    assert locations == ["app/api/items.py", "app/api/users.py"]
    first = results[0]
    assert first["ruleId"] == "async-blocking-sleep"
    assert first["properties"]["category"] == "ASYNC-BLOCKING-SLEEP"
    assert first["properties"]["blast_radius"] == 80.0
    assert first["locations"][0]["physicalLocation"]["region"]["startLine"] == 12
    stored = Finding.objects.get(path="app/api/items.py")
    assert stored.fingerprint in str(first["partialFingerprints"])
    assert first["fixes"][0]["artifactChanges"][0]["artifactLocation"]["uri"] == "app/api/items.py"
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["async-blocking-sleep"]


def test_triaged_findings_are_left_out_unless_asked(world: World, client_for) -> None:
    scan = store_scan(world.shop, [engine_finding("a.py"), engine_finding("b.py")])
    Finding.objects.filter(path="a.py").update(status=FindingStatus.FALSE_POSITIVE)
    client = client_for("shop_read")
    url = f"/api/v1/projects/shop/scans/{scan.pk}/sarif/"

    def uris(response) -> list[str]:
        return [
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in response.json()["runs"][0]["results"]
        ]

    assert uris(client.get(url)) == ["b.py"]
    assert sorted(uris(client.get(url + "?include_triaged=true"))) == ["a.py", "b.py"]
    assert client.get(url + "?include_triaged=maybe").status_code == 400


def test_unfinished_scans_have_no_sarif(world: World, client_for) -> None:
    scan = Scan.objects.create(
        project=world.shop, number=1, source_kind="git", branch="main", status=ScanStatus.RUNNING
    )
    response = client_for("shop_read").get(f"/api/v1/projects/shop/scans/{scan.pk}/sarif/")
    assert response.status_code == 409
    assert response.json()["message"] == "Scan 1 is running; SARIF needs a succeeded scan."
