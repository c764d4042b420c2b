r"""Benchmark: uploading a 20 MB source archive with artifacts through the REST API (gunicorn on
loopback), the way ``audit-ci`` does: streamed multipart, stored and fsync'ed before the 202.

    .venv/bin/python -m tests.support.services -- .venv/bin/python benchmarks/api_upload.py

Prints the time to 202 per upload (sequential) and with a few pipelines uploading at once.
"""

from __future__ import annotations

import argparse
import io
import os
import tarfile
import tempfile
import threading
from pathlib import Path

from api_common import Server, load_average, prepare_database, run_clients, summary

from audit_ci.http import ApiClient, UploadFile
from audit_platform.accounts.models import Organization
from audit_platform.api.services import project_token_create
from audit_platform.projects.models import Project, SourceKind
from audit_platform.scans.models import Scan

SLUG = "bench-upload"


def make_files(folder: Path, megabytes: int) -> tuple[Path, list[tuple[str, Path]]]:
    """A tar.gz of about ``megabytes`` (incompressible data plus source files) and artifacts."""
    archive = folder / "source.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        blob = os.urandom(megabytes * 1_000_000)
        info = tarfile.TarInfo("assets/blob.bin")
        info.size = len(blob)
        tar.addfile(info, io.BytesIO(blob))
        for n in range(200):
            source = f"async def handler_{n}():\n    return {n}\n".encode() * 20
            info = tarfile.TarInfo(f"app/module_{n}.py")
            info.size = len(source)
            tar.addfile(info, io.BytesIO(source))
    locust = folder / "out_stats.csv"
    locust.write_text(
        "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
        "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
        "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n"
        + "".join(
            f"GET,/items/{n},1000,0,20,25,5,300,120,50.0,0.0,20,25,30,35,50,80,120,150,250,300,300\n"
            for n in range(500)
        )
    )
    profile = folder / "profile.txt"
    profile.write_text(
        "".join(f"main (app.py:1);handler_{n} (app/module_{n}.py:2) {n + 1}\n" for n in range(5000))
    )
    return archive, [("locust", locust), ("pyspy", profile)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=20)
    parser.add_argument("--uploads", type=int, default=5, help="sequential uploads")
    parser.add_argument("--parallel", type=int, default=4, help="pipelines uploading at once")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    prepare_database()
    Organization.objects.filter(slug=SLUG).delete()
    organization = Organization.objects.create(name="Bench upload", slug=SLUG)
    project = Project.objects.create(
        organization=organization, name="Upload", slug="upload", source_kind=SourceKind.UPLOADS
    )
    token = project_token_create(project=project, name="ci", created_by=None)[1]
    folder = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    archive, artifacts = make_files(folder, args.megabytes)
    total = archive.stat().st_size + sum(path.stat().st_size for _, path in artifacts)
    print(f"archive {archive.stat().st_size / 1e6:.1f} MB + {len(artifacts)} artifacts "
          f"({total / 1e6:.1f} MB in all)", flush=True)  # fmt: skip
    server = Server(args.workers)
    lock = threading.Lock()

    def one_upload(client: int, index: int) -> None:
        api = ApiClient(server.url, token, retries=0)
        fields = [("branch", "main"), ("start", "false")]
        files = [UploadFile("archive", archive)]
        for kind, path in artifacts:
            fields.append(("artifact_kinds", kind))
            files.append(UploadFile("artifacts", path))
        scan = api.upload(f"api/v1/projects/{project.pk}/scans/", fields, files)
        with lock:
            assert scan["archive_size"] == archive.stat().st_size
            assert len(scan["artifacts"]) == len(artifacts)

    try:
        sequential, wall = run_clients(1, args.uploads, one_upload)
        parallel, parallel_wall = run_clients(args.parallel, 2, one_upload)
    finally:
        server.stop()
    print(summary("upload to 202, one at a time", sequential, wall))
    print(summary(f"upload to 202, {args.parallel} at once", parallel, parallel_wall))
    mb_per_s = total / 1e6 * len(sequential) / wall
    stored = Scan.objects.filter(project=project).count()
    print(f"sequential throughput {mb_per_s:.0f} MB/s; {stored} scans stored ({load_average()})")


if __name__ == "__main__":
    main()
