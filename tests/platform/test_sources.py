"""Git URL/ref validation, shallow fetches and safe extraction of real malicious archives."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_django import Settings as SettingsWrapper

from audit_platform.scans.sources import (
    SourceError,
    UnsafeArchiveError,
    extract_archive,
    fetch_git_source,
    redact_url,
    validate_git_url,
    validate_ref,
)
from tests.support.gitrepo import GitRepo


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/service.git",
        "ssh://git@github.com/acme/service.git",
        "git@github.com:acme/service.git",
        "https://user:token@gitlab.example.com/group/service",
    ],
)
def test_validate_git_url_accepts_remote_forms(url: str) -> None:
    assert validate_git_url(f"  {url} ", allow_local=False) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ext::sh -c touch% /tmp/pwned", "whitespace"),
        ("ext::sh", "transport helpers"),
        ("fd::17", "transport helpers"),
        ("--upload-pack=touch /tmp/pwned", "command-line option"),
        ("-uevil", "command-line option"),
        ("file:///etc", "local repositories are disabled"),
        ("/srv/git/repo", "local repositories are disabled"),
        ("http://github.com/acme/service.git", "use https://"),
        ("ftp://example.com/repo.git", "use https://"),
        ("https://", "no valid host"),
        ("https://github.com", "names no repository"),
        ("git@github.com:-oProxyCommand=evil", "use https://"),
        ("relative/path", "use https://"),
        ("", "empty"),
    ],
)
def test_validate_git_url_rejects_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(SourceError, match=reason):
        validate_git_url(url, allow_local=False)


def test_local_paths_need_the_setting_and_an_existing_directory(tmp_path: Path) -> None:
    assert validate_git_url(str(tmp_path), allow_local=True) == str(tmp_path)
    assert validate_git_url(f"file://{tmp_path}", allow_local=True) == f"file://{tmp_path}"
    with pytest.raises(SourceError, match="no such local directory"):
        validate_git_url(str(tmp_path / "missing"), allow_local=True)


def test_setting_switches_local_sources(settings: SettingsWrapper, tmp_path: Path) -> None:
    settings.AUDIT_ALLOW_LOCAL_GIT_SOURCES = False
    with pytest.raises(SourceError, match="AUDIT_ALLOW_LOCAL_GIT_SOURCES"):
        validate_git_url(str(tmp_path))
    settings.AUDIT_ALLOW_LOCAL_GIT_SOURCES = True
    assert validate_git_url(str(tmp_path)) == str(tmp_path)


def test_rejection_messages_never_show_credentials() -> None:
    with pytest.raises(SourceError) as caught:
        validate_git_url("http://alice:s3cret@example.com/repo.git", allow_local=False)
    assert "s3cret" not in str(caught.value)
    assert redact_url("https://alice:s3cret@example.com/r.git") == "https://***@example.com/r.git"


@pytest.mark.parametrize("ref", ["main", "release/1.2", "v1.0.0", "a" * 40, "feature_x-2"])
def test_validate_ref_accepts_branch_tag_and_sha(ref: str) -> None:
    assert validate_ref(ref) == ref


@pytest.mark.parametrize(
    "ref",
    ["-b", "--upload-pack=x", "a..b", "a b", "x~1", "HEAD^", "ref:", "x.lock", "a/", "@{1}", ""],
)
def test_validate_ref_rejects(ref: str) -> None:
    with pytest.raises(SourceError):
        validate_ref(ref)


def test_fetch_git_source_checks_out_branch_tag_and_commit(
    git_repo_factory: Callable[..., GitRepo], tmp_path: Path
) -> None:
    repo = git_repo_factory({"a.py": "x = 1\n"}, message="first")
    first = repo.head_sha()
    repo.git("tag", "v1")
    repo.commit({"b.py": "y = 2\n"}, "second")

    head = fetch_git_source(str(repo.path), "main", tmp_path / "head")
    assert head.commit_sha == repo.head_sha()
    assert head.commit_message == "second"
    assert sorted(p.name for p in (tmp_path / "head").iterdir()) == ["a.py", "b.py"]

    for ref in ("v1", first):
        checkout = fetch_git_source(str(repo.path), ref, tmp_path / ref)
        assert (checkout.commit_sha, checkout.commit_message) == (first, "first")
        assert sorted(p.name for p in (tmp_path / ref).iterdir()) == ["a.py"]


def test_fetch_git_source_reports_a_missing_ref(
    git_repo_factory: Callable[..., GitRepo], tmp_path: Path
) -> None:
    repo = git_repo_factory({"a.py": "x = 1\n"})
    with pytest.raises(SourceError, match="couldn't find remote ref nope"):
        fetch_git_source(str(repo.path), "nope", tmp_path / "out")


# --- archives ------------------------------------------------------------------------------------


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str) -> tarfile.TarInfo:
    return tarfile.TarInfo(name)


def _special(name: str, kind: bytes, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def test_extract_tar_keeps_files_and_strips_one_top_folder(tmp_path: Path) -> None:
    archive = _tar(
        tmp_path / "src.tar.gz",
        [(_file("service-main/app/main.py"), b"print(1)\n"), (_file("service-main/README"), b"hi")],
    )
    report = extract_archive(archive, tmp_path / "out")
    assert report.root == tmp_path / "out" / "service-main"
    assert (report.root / "app" / "main.py").read_bytes() == b"print(1)\n"
    assert (report.files, report.bytes, report.skipped) == (2, 11, [])


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.py", r"outside the archive \('..'\)"),
        ("app/../../evil.py", r"outside the archive"),
        ("/etc/cron.d/evil", "absolute path"),
        ("C:/Windows/evil.py", "absolute path"),
    ],
)
def test_extract_tar_rejects_paths_outside_the_target(
    tmp_path: Path, name: str, reason: str
) -> None:
    archive = _tar(tmp_path / "evil.tar.gz", [(_file("ok.py"), b"x"), (_file(name), b"boom")])
    with pytest.raises(UnsafeArchiveError, match=reason):
        extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "evil.py").exists()


def test_extract_tar_skips_links_and_devices_and_lists_them(tmp_path: Path) -> None:
    archive = _tar(
        tmp_path / "links.tar.gz",
        [
            (_file("app.py"), b"x = 1\n"),
            (_special("passwd", tarfile.SYMTYPE, "/etc/passwd"), None),
            (_special("up", tarfile.SYMTYPE, "../../.."), None),
            (_special("hard", tarfile.LNKTYPE, "/etc/shadow"), None),
            (_special("null", tarfile.CHRTYPE), None),
            (_special("pipe", tarfile.FIFOTYPE), None),
        ],
    )
    report = extract_archive(archive, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["app.py"]
    assert report.skipped == [
        ("passwd", "link (links are never extracted)"),
        ("up", "link (links are never extracted)"),
        ("hard", "link (links are never extracted)"),
        ("null", "device, FIFO or other special file"),
        ("pipe", "device, FIFO or other special file"),
    ]


def test_extract_zip_rejects_zip_slip(tmp_path: Path) -> None:
    archive = tmp_path / "slip.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("ok.py", "x = 1\n")
        bundle.writestr("..\\..\\evil.py", "boom")
    with pytest.raises(UnsafeArchiveError, match="outside the archive"):
        extract_archive(archive, tmp_path / "out")


def test_extract_zip_skips_symlinks(tmp_path: Path) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("app.py", "x = 1\n")
        link = zipfile.ZipInfo("secrets")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        bundle.writestr(link, "/etc/passwd")
    report = extract_archive(archive, tmp_path / "out")
    assert report.skipped == [("secrets", "link (links are never extracted)")]
    assert not (tmp_path / "out" / "secrets").exists()
    assert (tmp_path / "out" / "app.py").read_text() == "x = 1\n"


def test_zip_bomb_is_stopped_by_the_unpacked_size_limit(
    tmp_path: Path, settings: SettingsWrapper
) -> None:
    settings.AUDIT_MAX_UNPACKED_BYTES = 1024 * 1024
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("zeros.bin", b"\0" * (8 * 1024 * 1024))
    assert archive.stat().st_size < 64 * 1024  # tiny on disk, 8 MiB unpacked
    with pytest.raises(UnsafeArchiveError, match="more than 1048576 bytes once unpacked"):
        extract_archive(archive, tmp_path / "out")


def test_file_count_limit(tmp_path: Path, settings: SettingsWrapper) -> None:
    settings.AUDIT_MAX_ARCHIVE_FILES = 5
    archive = _tar(tmp_path / "many.tar.gz", [(_file(f"f{i}.py"), b"x") for i in range(6)])
    with pytest.raises(UnsafeArchiveError, match="more than 5 files"):
        extract_archive(archive, tmp_path / "out")


def test_not_an_archive_and_empty_archive(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(SourceError, match="neither a zip nor a tar"):
        extract_archive(text, tmp_path / "out1")
    empty = _tar(tmp_path / "empty.tar.gz", [])
    with pytest.raises(SourceError, match="no files"):
        extract_archive(empty, tmp_path / "out2")
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(b"PK\x03\x04" + b"\0" * 20)
    with pytest.raises(SourceError, match="could not be read as zip"):
        extract_archive(truncated, tmp_path / "out3")
