"""``audit-ci``: upload the working tree and artifacts, wait for the scan, print the quality gate
and the top findings, write SARIF if asked.

Exit status: 0 the gate passed, 1 the gate failed, 2 anything else went wrong (bad arguments,
network, server error, failed or cancelled scan, timeout).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from audit_ci import __version__
from audit_ci.http import ApiClient, ApiError, UploadFile
from audit_ci.packing import pack
from audit_ci.progress import Progress

EXIT_PASSED = 0
EXIT_GATE_FAILED = 1
EXIT_ERROR = 2
ARTIFACT_KINDS = ("pyspy", "asyncio-log", "locust", "mypy", "pyright", "sql-log", "sarif")
COUNT_KEYS = ("new", "open", "fixed", "reopened")
FINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
# Branch and commit as CI systems expose them (GitHub Actions, GitLab CI), before asking git.
_BRANCH_ENV = ("AUDIT_BRANCH", "GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME")
_COMMIT_ENV = ("AUDIT_COMMIT", "GITHUB_SHA", "CI_COMMIT_SHA")


class UsageError(Exception):
    pass


def _parse_artifact(value: str) -> tuple[str, Path]:
    kind, sep, filename = value.partition("=")
    if not sep or not filename:
        raise argparse.ArgumentTypeError(f"expected KIND=FILE, got {value!r}")
    if kind not in ARTIFACT_KINDS:
        raise argparse.ArgumentTypeError(
            f"unknown artifact kind {kind!r}; one of: {', '.join(ARTIFACT_KINDS)}"
        )
    return kind, Path(filename)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="audit-ci",
        description="Upload this repository to the audit platform, wait for the scan and apply "
        "the project's quality gate. Exit 0: gate passed, 1: gate failed, 2: error.",
    )
    parser.add_argument(
        "--url",
        default=os.environ.get("AUDIT_URL", ""),
        help="server URL, e.g. https://audit.example.com (env AUDIT_URL)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("AUDIT_TOKEN", ""),
        help="project CI token apt_… (env AUDIT_TOKEN)",
    )
    parser.add_argument(
        "--project",
        default=os.environ.get("AUDIT_PROJECT", ""),
        help="project slug or id (env AUDIT_PROJECT)",
    )
    parser.add_argument(
        "--path",
        type=Path,
        default=Path(),
        help="directory to pack (default: the current directory)",
    )
    parser.add_argument(
        "--artifact",
        action="append",
        type=_parse_artifact,
        default=[],
        metavar="KIND=FILE",
        help="runtime or tool output to attach, repeatable; KIND is one of "
        + ", ".join(ARTIFACT_KINDS),
    )
    parser.add_argument("--branch", default="", help="branch name (default: from CI env or git)")
    parser.add_argument("--commit", default="", help="commit SHA (default: from CI env or git)")
    parser.add_argument("--sarif", type=Path, help="write the scan's findings as SARIF here")
    parser.add_argument("--top", type=int, default=10, help="findings to print (default 10)")
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="seconds to wait for the scan (default 1800)"
    )
    parser.add_argument("--poll-interval", type=float, default=2.0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--retries", type=int, default=4, help="retries of transient network errors (default 4)"
    )
    parser.add_argument("--version", action="version", version=f"audit-ci {__version__}")
    return parser  # fmt: skip


def _git(root: Path, *args: str) -> str:
    try:
        completed = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return completed.stdout.strip() if completed.returncode == 0 else ""


def detect_branch(root: Path) -> str:
    for name in _BRANCH_ENV:
        if os.environ.get(name):
            return os.environ[name]
    branch = _git(root, "rev-parse", "--abbrev-ref", "HEAD")
    return "" if branch == "HEAD" else branch


def detect_commit(root: Path) -> tuple[str, str]:
    sha = next((os.environ[name] for name in _COMMIT_ENV if os.environ.get(name)), "")
    sha = sha or _git(root, "rev-parse", "HEAD")
    message = _git(root, "log", "-1", "--format=%B", sha) if sha else ""
    return sha, message


class Runner:
    def __init__(
        self,
        args: argparse.Namespace,
        client: ApiClient,
        progress: Progress,
        out: TextIO,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.args = args
        self.client = client
        self.progress = progress
        self.out = out
        self.sleep = sleep
        self.clock = clock
        self.project_path = f"api/v1/projects/{urllib.parse.quote(str(args.project), safe='')}"

    def print(self, text: str = "") -> None:
        self.progress.finish()
        self.out.write(text + "\n")
        self.out.flush()

    def upload(self) -> dict[str, Any]:
        root: Path = self.args.path
        packed = pack(root)
        try:
            self.progress.line(
                f"packed {packed.files} files from {root.resolve()} ({packed.bytes / 1e6:.1f} MB)"
            )
            branch = self.args.branch or detect_branch(root)
            sha, message = (self.args.commit, "") if self.args.commit else detect_commit(root)
            fields = [("branch", branch), ("commit_sha", sha), ("commit_message", message[:2000])]
            files = [UploadFile("archive", packed.path, "source.tar.gz")]
            for kind, path in self.args.artifact:
                fields.append(("artifact_kinds", kind))
                files.append(UploadFile("artifacts", path, path.name))
            # The same key on every retry: a scan the server already created is returned again.
            headers = {"Idempotency-Key": uuid.uuid4().hex}
            scan: dict[str, Any] = self.client.upload(
                f"{self.project_path}/scans/", fields, files, self.progress.upload, headers
            )
        finally:
            shutil.rmtree(packed.path.parent, ignore_errors=True)
        self.progress.line(f"scan {scan['id']} queued: {scan.get('url', '')}")
        return scan

    def wait(self, scan: dict[str, Any]) -> dict[str, Any]:
        deadline = self.clock() + self.args.timeout
        scan_path = f"{self.project_path}/scans/{scan['id']}/"
        while scan["status"] not in FINAL_STATUSES:
            if self.clock() >= deadline:
                raise TimeoutError(
                    f"scan {scan['id']} still {scan['status']} after {self.args.timeout:.0f}s"
                )
            self.sleep(self.args.poll_interval)
            scan = self.client.json("GET", scan_path)
            percent = float(scan.get("progress", 0))
            self.progress.scan(scan["status"], scan.get("stage", ""), percent)
        self.progress.finish()
        return scan

    def report(self, scan: dict[str, Any]) -> int:
        counts = scan.get("counts") or {}
        summary = ", ".join(f"{counts.get(key, 0)} {key}" for key in COUNT_KEYS)
        self.print(f"scan {scan['id']} {scan['status']}: {summary}")
        gate = self.client.json("GET", f"{self.project_path}/scans/{scan['id']}/gate/")
        result = str(gate.get("result", "unknown"))
        self.print(f"quality gate: {result.upper()}")
        for reason in gate.get("reasons", []):
            self.print(f"  - {reason['message']}")
        self.print_top_findings(scan)
        if self.args.sarif:
            size = self.client.download(
                f"{self.project_path}/scans/{scan['id']}/sarif/",
                self.args.sarif,
                "application/sarif+json, application/json",
            )
            self.print(f"SARIF written to {self.args.sarif} ({size} bytes)")
        if result == "passed":
            return EXIT_PASSED
        # "pending"/"error" cannot happen after a succeeded scan; never count them as a pass.
        return EXIT_GATE_FAILED if result == "failed" else EXIT_ERROR

    def print_top_findings(self, scan: dict[str, Any]) -> None:
        if self.args.top <= 0:
            return
        query = urllib.parse.urlencode(
            {"seen_in_scan": scan["id"], "ordering": "-blast_radius", "page_size": self.args.top}
        )
        page = self.client.json("GET", f"{self.project_path}/findings/?{query}")
        findings = page.get("results", [])
        if not findings:
            self.print("no findings in this scan")
            return
        self.print(f"top {len(findings)} findings by blast radius:")
        for finding in findings:
            marker = "  [new]" if finding.get("first_seen_scan") == scan["id"] else ""
            self.print(
                f"  {finding['blast_radius']:6.1f}  {finding['severity'].upper():8}"
                f" {finding['category']:28} {finding['path']}:{finding['start_line']}"
                f"  {finding['title']}{marker}"
            )

    def run(self) -> int:
        scan = self.upload()
        scan = self.wait(scan)
        if scan["status"] != "succeeded":
            reason = scan.get("error") or "no reason given"
            self.print(f"scan {scan['id']} {scan['status']}: {reason}")
            return EXIT_ERROR
        return self.report(scan)


def _validate(args: argparse.Namespace) -> None:
    missing = [name for name in ("url", "token", "project") if not getattr(args, name)]
    if missing:
        flags = ", ".join(f"--{name} (or AUDIT_{name.upper()})" for name in missing)
        raise UsageError(f"missing {flags}")
    for kind, path in args.artifact:
        if not path.is_file():
            raise UsageError(f"artifact {kind}={path}: no such file")
    if args.sarif is not None and not args.sarif.parent.resolve().is_dir():
        raise UsageError(f"--sarif {args.sarif}: the folder does not exist")


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:  # fmt: skip
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = build_parser().parse_args(argv)
    progress = Progress(err)
    try:
        _validate(args)
        client = ApiClient(args.url, args.token, retries=args.retries, log=progress.line)
        return Runner(args, client, progress, out).run()
    except UsageError as exc:
        progress.line(f"audit-ci: error: {exc}")
    except ApiError as exc:
        progress.line(f"audit-ci: server error: {exc}")
        if isinstance(exc.body, dict) and exc.body.get("fields"):
            progress.line(json.dumps(exc.body["fields"], indent=2))
    except (OSError, ValueError, TimeoutError, KeyError) as exc:
        progress.line(f"audit-ci: error: {exc}")
    except KeyboardInterrupt:
        progress.line("audit-ci: interrupted")
    return EXIT_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
