"""Getting a scan's source onto disk safely: git URLs and refs, shallow fetches, archive extraction.

Everything here raises ``SourceError`` (a clear, user-facing reason) for bad input and
``TransientSourceError`` for network trouble worth retrying. Credentials never reach a message:
URLs are redacted before they are logged or stored.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from git import Git
from git.exc import GitCommandError

DEFAULT_MAX_ARCHIVE_FILES = 20_000
DEFAULT_MAX_UNPACKED_BYTES = 500 * 1024 * 1024
DEFAULT_GIT_TIMEOUT = 300
_COPY_CHUNK = 1024 * 1024

_SCP_LIKE = re.compile(
    r"^(?P<user>[A-Za-z0-9._-]+)@(?P<host>[A-Za-z0-9][A-Za-z0-9.-]*):(?P<path>.+)$"
)
_FORBIDDEN_REF_CHARS = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")
# git's stderr for failures that may succeed on a later attempt.
_TRANSIENT_GIT_ERRORS = re.compile(
    r"could not resolve host|connection timed out|connection refused|connection reset|"
    r"early eof|rpc failed|the remote end hung up unexpectedly|operation timed out|"
    r"temporary failure in name resolution|network is unreachable|failed to connect|"
    r"couldn't connect to server",
    re.IGNORECASE,
)


class SourceError(Exception):
    """The source cannot be used; the message says why and is safe to show to the user."""


class TransientSourceError(SourceError):
    """A network failure that may go away: the task retries it with backoff."""


class UnsafeArchiveError(SourceError):
    """The archive tries to escape its directory or exceeds the limits."""


def allow_local_sources() -> bool:
    return bool(getattr(settings, "AUDIT_ALLOW_LOCAL_GIT_SOURCES", False))


def redact_url(url: str) -> str:
    """``https://user:token@host/x`` -> ``https://***@host/x``; other forms are returned as is."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme and "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))
    return url


def validate_git_url(url: str, *, allow_local: bool | None = None) -> str:
    """Return the URL stripped, or raise SourceError saying why it is refused.

    Accepted: ``https://host/...``, ``ssh://host/...``, ``user@host:path`` and, only when
    ``AUDIT_ALLOW_LOCAL_GIT_SOURCES`` is on, ``file://`` URLs and absolute local paths.
    """
    allow_local = allow_local_sources() if allow_local is None else allow_local
    value = (url or "").strip()
    if not value:
        raise SourceError("the git URL is empty")
    shown = redact_url(value)
    if value.startswith("-"):
        raise SourceError(f"refused git URL {shown!r}: it looks like a command-line option")
    if any(ord(char) < 0x20 or ord(char) == 0x7F or char.isspace() for char in value):
        raise SourceError(
            f"refused git URL {shown!r}: it contains whitespace or control characters"
        )
    if "::" in value.split("/", 1)[0] or value.lower().startswith("ext::"):
        raise SourceError(
            f"refused git URL {shown!r}: transport helpers (ext::, fd::) are not allowed"
        )
    lowered = value.lower()
    if lowered.startswith(("https://", "ssh://")):
        parts = urlsplit(value)
        if not parts.hostname or parts.hostname.startswith("-"):
            raise SourceError(f"refused git URL {shown!r}: it has no valid host")
        if not parts.path.strip("/"):
            raise SourceError(f"refused git URL {shown!r}: it names no repository")
        return value
    if lowered.startswith("file://") or value.startswith("/"):
        if not allow_local:
            raise SourceError(
                f"refused git URL {shown!r}: local repositories are disabled on this server "
                "(AUDIT_ALLOW_LOCAL_GIT_SOURCES)"
            )
        path = Path(value[len("file://") :] if lowered.startswith("file://") else value)
        if not path.is_absolute() or not path.is_dir():
            raise SourceError(f"refused git URL {shown!r}: no such local directory")
        return value
    match = _SCP_LIKE.match(value)
    if match and not match["path"].startswith("-"):
        return value
    raise SourceError(
        f"refused git URL {shown!r}: use https://, ssh:// or user@host:path"
        + (" or a local path" if allow_local else "")
    )


def validate_ref(ref: str) -> str:
    """A branch, tag or commit name that git accepts and that cannot act as an option."""
    value = (ref or "").strip()
    if not value:
        raise SourceError("the branch or ref is empty")
    problems = (
        (value.startswith("-"), "starts with '-'"),
        (bool(_FORBIDDEN_REF_CHARS.search(value)), "contains a space or one of ~^:?*[\\"),
        (".." in value or "@{" in value or "//" in value, "contains '..', '@{' or '//'"),
        (value.startswith("/") or value.endswith(("/", ".", ".lock")), "has a bad start or end"),
        (len(value) > 255, "is longer than 255 characters"),
    )
    for failed, reason in problems:
        if failed:
            raise SourceError(f"refused ref {value!r}: it {reason}")
    return value


@dataclass(frozen=True)
class Checkout:
    commit_sha: str
    commit_message: str


def _git_env(allow_local: bool) -> dict[str, str]:
    protocols = "https:ssh" + (":file" if allow_local else "")
    return {
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ALLOW_PROTOCOL": protocols,  # also binds submodules and redirects
        "GIT_SSH_COMMAND": "ssh -o BatchMode=yes",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }


def fetch_git_source(url: str, ref: str, target: Path) -> Checkout:
    """Shallow-fetch ``ref`` (branch, tag or commit) of ``url`` into the empty dir ``target``."""
    allow_local = allow_local_sources()
    url = validate_git_url(url, allow_local=allow_local)
    ref = validate_ref(ref)
    timeout = int(getattr(settings, "AUDIT_GIT_TIMEOUT", DEFAULT_GIT_TIMEOUT))
    env = _git_env(allow_local)
    target.mkdir(parents=True, exist_ok=True)
    git = Git(str(target))
    try:
        git.init("--quiet", env=env, kill_after_timeout=timeout)
        # "--" ends the options: neither the URL nor the ref can be read as one.
        git.fetch(
            "--quiet", "--depth=1", "--no-tags", "--", url, ref, env=env, kill_after_timeout=timeout
        )
        git.checkout("--quiet", "--detach", "FETCH_HEAD", env=env, kill_after_timeout=timeout)
        sha = git.rev_parse("HEAD", env=env)
        message = git.log("-1", "--format=%B", env=env)
    except GitCommandError as exc:
        detail = str(exc.stderr or exc).replace(url, redact_url(url)).strip()
        detail = re.sub(r"\s+", " ", detail)[:500]
        shown = redact_url(url)
        if _TRANSIENT_GIT_ERRORS.search(detail):
            raise TransientSourceError(f"fetching {ref!r} from {shown} failed: {detail}") from None
        raise SourceError(f"fetching {ref!r} from {shown} failed: {detail}") from None
    shutil.rmtree(target / ".git", ignore_errors=True)  # the engine scans files, not history
    return Checkout(commit_sha=sha.strip(), commit_message=message.strip())


@dataclass
class ExtractionReport:
    """What came out of an archive, and what was left out on purpose (for the scan log)."""

    root: Path
    files: int = 0
    bytes: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (member name, reason)


def _safe_member_path(name: str) -> PurePosixPath | None:
    """The member's relative path (``None`` for the root entry); raises if it is unsafe."""
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or re.match(r"^[A-Za-z]:", normalized):
        raise UnsafeArchiveError(f"unsafe archive: member {name!r} has an absolute path")
    parts = [part for part in normalized.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(
            f"unsafe archive: member {name!r} points outside the archive ('..')"
        )
    return PurePosixPath(*parts) if parts else None


class _Budget:
    def __init__(self, max_files: int, max_bytes: int) -> None:
        self.max_files, self.max_bytes = max_files, max_bytes
        self.files = 0
        self.bytes = 0

    def add_file(self) -> None:
        self.files += 1
        if self.files > self.max_files:
            raise UnsafeArchiveError(f"archive rejected: more than {self.max_files} files")

    def add_bytes(self, count: int) -> None:
        self.bytes += count
        if self.bytes > self.max_bytes:
            raise UnsafeArchiveError(
                f"archive rejected: more than {self.max_bytes} bytes once unpacked (zip bomb?)"
            )


def _copy_limited(source: IO[bytes], destination: Path, budget: _Budget) -> None:
    with destination.open("wb") as out:
        while chunk := source.read(_COPY_CHUNK):
            budget.add_bytes(len(chunk))  # counts real bytes: headers can lie about sizes
            out.write(chunk)


def _target_for(root: Path, relative: PurePosixPath) -> Path:
    destination = root.joinpath(*relative.parts)
    # Belt and braces: nothing above created a link, but check the resolved location anyway.
    if not destination.resolve().is_relative_to(root.resolve()):
        raise UnsafeArchiveError(f"unsafe archive: member {relative} resolves outside the target")
    destination.parent.mkdir(parents=True, exist_ok=True)
    return destination


def _extract_tar(archive: Path, root: Path, budget: _Budget, report: ExtractionReport) -> None:
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            for member in tar:
                relative = _safe_member_path(member.name)
                if relative is None or member.isdir():
                    continue
                if member.issym() or member.islnk():
                    report.skipped.append((member.name, "link (links are never extracted)"))
                    continue
                if not member.isfile():
                    report.skipped.append((member.name, "device, FIFO or other special file"))
                    continue
                budget.add_file()
                stream = tar.extractfile(member)
                if stream is None:
                    report.skipped.append((member.name, "unreadable member"))
                    continue
                with stream:
                    _copy_limited(stream, _target_for(root, relative), budget)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise SourceError(f"the archive could not be read as tar: {exc}") from None


def _extract_zip(archive: Path, root: Path, budget: _Budget, report: ExtractionReport) -> None:
    try:
        with zipfile.ZipFile(archive) as bundle:
            for info in bundle.infolist():
                relative = _safe_member_path(info.filename)
                if relative is None or info.is_dir():
                    continue
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    report.skipped.append((info.filename, "link (links are never extracted)"))
                    continue
                # Zips written without a file type (only permission bits) hold regular files.
                if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
                    report.skipped.append((info.filename, "device, FIFO or other special file"))
                    continue
                budget.add_file()
                with bundle.open(info) as stream:
                    _copy_limited(stream, _target_for(root, relative), budget)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        OSError,
        NotImplementedError,
    ) as exc:
        raise SourceError(f"the archive could not be read as zip: {exc}") from None


def extract_archive(archive: Path, target: Path) -> ExtractionReport:
    """Extract a .zip or .tar(.gz/.bz2/.xz) into ``target`` under the configured limits.

    Absolute paths and ``..`` reject the whole archive; links and special files are skipped
    and reported. When everything sits in one top-level folder (``repo-main/``, as GitHub
    archives do), that folder is the root, so paths match those of a git scan.
    """
    budget = _Budget(
        int(getattr(settings, "AUDIT_MAX_ARCHIVE_FILES", DEFAULT_MAX_ARCHIVE_FILES)),
        int(getattr(settings, "AUDIT_MAX_UNPACKED_BYTES", DEFAULT_MAX_UNPACKED_BYTES)),
    )
    target.mkdir(parents=True, exist_ok=True)
    report = ExtractionReport(root=target)
    with archive.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        _extract_zip(archive, target, budget, report)
    elif tarfile.is_tarfile(archive):
        _extract_tar(archive, target, budget, report)
    else:
        raise SourceError("the archive is neither a zip nor a tar(.gz) file")
    report.files, report.bytes = budget.files, budget.bytes
    if report.files == 0:
        raise SourceError("the archive contains no files")
    entries = list(target.iterdir())
    if len(entries) == 1 and entries[0].is_dir():
        report.root = entries[0]
    return report
