"""Scans: create from a ref or by upload, artifacts, start, cancel, read, limits."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit_platform.api.errors import UploadTooLarge
from audit_platform.api.models import IdempotentUpload
from audit_platform.api.uploads import LimitedTemporaryFileUploadHandler
from audit_platform.scans.models import Artifact, Scan, ScanStatus
from tests.api.conftest import World, engine_finding, store_scan

APP = b"import time\n\nasync def handler():\n    time.sleep(1)\n"
LOCUST = b"Type,Name,Request Count,Failure Count,95%,Requests/s\nGET,/items,10,0,120,5.0\n"


def tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in files.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_create_from_ref_answers_202_with_the_scan_url(world: World, client_for) -> None:
    response = client_for("shop_ci").post(
        "/api/v1/projects/shop/scans/", {"ref": "release-1", "branch": "main"}, format="json"
    )
    assert response.status_code == 202, response.content
    body = response.json()
    scan = Scan.objects.get(pk=body["id"])
    assert (scan.ref, scan.branch, scan.status, scan.trigger) == (
        "release-1",
        "main",
        "queued",
        "api",
    )
    assert scan.created_by is None  # a CI token acts as the system
    assert response["Location"] == body["url"]
    assert body["url"] == f"http://testserver/api/v1/projects/{world.shop.pk}/scans/{scan.pk}/"
    assert body["links"]["gate"] == body["url"] + "gate/"
    assert body["counts"] == {"new": 0, "open": 0, "fixed": 0, "reopened": 0, "total": 0}


def test_people_are_recorded_as_the_scan_creator(world: World, client_for) -> None:
    body = client_for("mike").post("/api/v1/projects/shop/scans/", {}, format="json").json()
    scan = Scan.objects.get(pk=body["id"])
    assert (scan.created_by, scan.ref) == (world.mike, "main")


def test_bad_ref_is_a_400_on_the_field(world: World, client_for) -> None:
    response = client_for("shop_ci").post(
        "/api/v1/projects/shop/scans/", {"ref": "--upload-pack=evil"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "ref": ["refused ref '--upload-pack=evil': it starts with '-'"]
    }
    assert not Scan.objects.exists()


def test_upload_archive_with_artifacts_is_stored_before_202(world: World, client_for) -> None:
    archive = tar_gz({"app/main.py": APP})
    response = client_for("shop_ci").post(
        "/api/v1/projects/shop/scans/",
        {
            "archive": upload("source.tar.gz", archive),
            "artifacts": [upload("out_stats.csv", LOCUST), upload("mypy.json", b"{}\n")],
            "artifact_kinds": ["locust", "mypy"],
            "branch": "feature/x",
            "commit_sha": "A" * 40,
            "commit_message": "Fix the thing",
        },
        format="multipart",
    )
    assert response.status_code == 202, response.content
    scan = Scan.objects.get(pk=response.json()["id"])
    assert (scan.source_kind, scan.branch, scan.commit_sha, scan.commit_message) == (
        "archive",
        "feature/x",
        "a" * 40,
        "Fix the thing",
    )
    assert scan.archive_sha256 == hashlib.sha256(archive).hexdigest()
    assert scan.archive_size == len(archive)
    from django.conf import settings  # noqa: PLC0415

    assert (Path(settings.MEDIA_ROOT) / scan.archive_path).read_bytes() == archive
    artifacts = list(scan.artifacts.order_by("id"))
    assert [(a.kind, a.original_name, a.size) for a in artifacts] == [
        ("locust", "out_stats.csv", len(LOCUST)),
        ("mypy", "mypy.json", 3),
    ]
    assert (Path(settings.MEDIA_ROOT) / artifacts[0].stored_path).read_bytes() == LOCUST
    assert artifacts[0].sha256 == hashlib.sha256(LOCUST).hexdigest()
    listed = response.json()["artifacts"]
    assert [a["kind"] for a in listed] == ["locust", "mypy"]


def test_zip_archives_are_accepted(world: World, client_for) -> None:
    response = client_for("shop_ci").post(
        "/api/v1/projects/shop/scans/",
        {"archive": upload("src.zip", zip_bytes({"a.py": APP}))},
        format="multipart",
    )
    assert response.status_code == 202
    assert Scan.objects.get().archive_name == "src.zip"


@pytest.mark.parametrize(
    ("fields", "error_field", "message"),
    [
        ({"archive": ("notes.txt", b"hello")}, "archive", "is not a tar"),
        (
            {"archive": ("s.tar.gz", None), "artifacts": [("a.csv", LOCUST)]},
            "artifact_kinds",
            "Give one kind per artifact file: 1 file(s), 0 kind(s).",
        ),
        (
            {
                "archive": ("s.tar.gz", None),
                "artifacts": [("a.csv", LOCUST)],
                "artifact_kinds": ["flamegraph"],
            },
            "artifact_kinds",
            '"flamegraph" is not a valid choice.',
        ),
        ({"archive": ("s.tar.gz", None), "ref": "main"}, "ref", "An archive upload has no ref"),
        ({"archive": ("s.tar.gz", None), "commit_sha": "xyz"}, "commit_sha", "does not match"),
        ({"commit_sha": "abcdef1"}, "commit_sha", "A git scan resolves its own commit"),
    ],
)
def test_bad_uploads_are_400_naming_the_field(
    world: World, client_for, fields: dict, error_field: str, message: str
) -> None:
    data: dict = {}
    for key, value in fields.items():
        if key == "archive":
            name, content = value
            data[key] = upload(name, content if content is not None else tar_gz({"a.py": APP}))
        elif key == "artifacts":
            data[key] = [upload(name, content) for name, content in value]
        else:
            data[key] = value
    response = client_for("shop_ci").post("/api/v1/projects/shop/scans/", data, format="multipart")
    assert response.status_code == 400, response.content
    errors = response.json()["fields"][error_field]
    assert message in str(errors), errors
    assert not Scan.objects.filter(status=ScanStatus.QUEUED).exists()


def test_empty_artifact_is_refused_before_any_scan_exists(world: World, client_for) -> None:
    response = client_for("shop_ci").post(
        "/api/v1/projects/shop/scans/",
        {
            "archive": upload("s.tar.gz", tar_gz({"a.py": APP})),
            "artifacts": [upload("empty.csv", b"")],
            "artifact_kinds": ["locust"],
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"artifacts": {"0": ["The submitted file is empty."]}}
    assert not Scan.objects.exists()


def test_uploads_over_the_limit_are_413(world: World, client_for, settings) -> None:
    settings.AUDIT_API_MAX_UPLOAD_BYTES = 50_000
    big = upload("s.tar.gz", b"\x1f\x8b" + bytes(60_000))
    response = client_for("shop_ci").post(
        "/api/v1/projects/shop/scans/", {"archive": big}, format="multipart"
    )
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "too_large"
    assert "limit of 0.1 MB (AUDIT_API_MAX_UPLOAD_BYTES)" in body["message"]
    assert not Scan.objects.exists()


def test_archive_over_its_own_limit_is_413(world: World, client_for, settings) -> None:
    settings.AUDIT_MAX_ARCHIVE_BYTES = 1000
    archive = tar_gz({"blob.bin": os.urandom(5000)})  # incompressible
    response = client_for("shop_ci").post(
        "/api/v1/projects/shop/scans/", {"archive": upload("s.tar.gz", archive)}, format="multipart"
    )
    assert response.status_code == 413
    assert "AUDIT_MAX_ARCHIVE_BYTES" in response.json()["message"]


def test_upload_handler_counts_bytes_across_files(settings) -> None:
    """The running count is what stops bodies whose declared length cannot be trusted."""
    settings.AUDIT_API_MAX_UPLOAD_BYTES = 10_000
    handler = LimitedTemporaryFileUploadHandler()
    handler.new_file("archive", "s.tar.gz", "application/gzip", None)
    assert handler.receive_data_chunk(b"x" * 6000, 0) is None  # written to its temp file
    handler.new_file("artifacts", "a.csv", "text/csv", None)
    handler.receive_data_chunk(b"y" * 4000, 0)
    with pytest.raises(UploadTooLarge, match=r"limit of 0\.0 MB"):
        handler.receive_data_chunk(b"z", 4000)


def test_idempotency_key_returns_the_same_scan(world: World, client_for) -> None:
    client = client_for("shop_ci")
    data = lambda: {"archive": upload("s.tar.gz", tar_gz({"a.py": APP}))}  # noqa: E731
    first = client.post(
        "/api/v1/projects/shop/scans/", data(), format="multipart", HTTP_IDEMPOTENCY_KEY="k1"
    )
    again = client.post(
        "/api/v1/projects/shop/scans/", data(), format="multipart", HTTP_IDEMPOTENCY_KEY="k1"
    )
    other = client.post(
        "/api/v1/projects/shop/scans/", data(), format="multipart", HTTP_IDEMPOTENCY_KEY="k2"
    )
    assert first.status_code == again.status_code == other.status_code == 202
    assert first.json()["id"] == again.json()["id"] != other.json()["id"]
    assert Scan.objects.count() == 2
    assert IdempotentUpload.objects.count() == 2


def test_artifacts_go_with_a_queued_scan_only(world: World, client_for) -> None:
    client = client_for("shop_ci")
    created = client.post(
        "/api/v1/projects/shop/scans/",
        {"archive": upload("s.tar.gz", tar_gz({"a.py": APP})), "start": "false"},
        format="multipart",
    ).json()
    url = f"/api/v1/projects/shop/scans/{created['id']}/"
    added = client.post(
        url + "artifacts/",
        {
            "artifacts": [upload("loop.log", b"Executing <Task> took 0.2 seconds\n")],
            "artifact_kinds": ["asyncio-log"],
        },
        format="multipart",
    )
    assert added.status_code == 201, added.content
    assert [(a["kind"], a["original_name"]) for a in added.json()] == [("asyncio-log", "loop.log")]
    assert [a["kind"] for a in client.get(url + "artifacts/").json()] == ["asyncio-log"]
    assert client.post(url + "start/").status_code == 202
    Scan.objects.filter(pk=created["id"]).update(status=ScanStatus.RUNNING)
    late = client.post(
        url + "artifacts/",
        {"artifacts": [upload("x.log", b"x\n")], "artifact_kinds": ["asyncio-log"]},
        format="multipart",
    )
    assert late.status_code == 409
    assert late.json()["message"] == (
        f"Scan {created['number']} is running; artifacts go with a queued scan."
    )
    assert Artifact.objects.count() == 1
    assert client.post(url + "start/").status_code == 409


def test_cancel(world: World, client_for) -> None:
    client = client_for("shop_ci")
    queued = client.post("/api/v1/projects/shop/scans/", {}, format="json").json()
    cancelled = client.post(f"/api/v1/projects/shop/scans/{queued['id']}/cancel/")
    assert cancelled.status_code == 202
    assert (cancelled.json()["status"], cancelled.json()["error"]) == (
        "cancelled",
        "cancelled before it started",
    )
    running = client.post("/api/v1/projects/shop/scans/", {}, format="json").json()
    Scan.objects.filter(pk=running["id"]).update(status=ScanStatus.RUNNING)
    body = client.post(f"/api/v1/projects/shop/scans/{running['id']}/cancel/").json()
    assert (body["status"], body["cancel_requested"]) == ("running", True)


def test_read_scan_and_list(world: World, client_for) -> None:
    scan = store_scan(world.shop, [engine_finding(), engine_finding(line=20)])
    Scan.objects.filter(pk=scan.pk).update(
        stage_timings={"prepare": 0.5, "analyse": 2.0},
        log=[{"level": "warning", "stage": "analyse", "message": "syntax error", "path": "b.py"}],
        scanner_versions={"engine": "0.1.0"},
    )
    other = store_scan(world.shop, [], branch="dev")
    client = client_for("shop_read")
    body = client.get(f"/api/v1/projects/shop/scans/{scan.pk}/").json()
    assert body["status"] == "succeeded" and body["progress"] == 100.0
    assert body["counts"] == {"new": 2, "open": 0, "fixed": 0, "reopened": 0, "total": 2}
    assert body["stage_timings"] == {"prepare": 0.5, "analyse": 2.0}
    assert body["log"] == [
        {"level": "warning", "stage": "analyse", "message": "syntax error", "path": "b.py"}
    ]
    listed = client.get("/api/v1/projects/shop/scans/").json()
    assert [row["id"] for row in listed["results"]] == [other.pk, scan.pk]
    assert "log" not in listed["results"][0]
    only_dev = client.get("/api/v1/projects/shop/scans/?branch=dev").json()["results"]
    assert [row["id"] for row in only_dev] == [other.pk]
    assert client.get("/api/v1/projects/shop/scans/999999/").status_code == 404
