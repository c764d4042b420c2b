"""The CI client's parts that need no platform: packing, the HTTP client, progress output."""

from __future__ import annotations

import io
import json
import tarfile
import threading
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from audit_ci.http import ApiClient, ApiError, MultipartBody, UploadFile
from audit_ci.packing import is_ignored, list_files, pack, parse_gitignore
from audit_ci.progress import Progress


def test_pack_git_checkout_takes_tracked_and_unignored_files(git_repo_factory) -> None:
    repo = git_repo_factory(
        {"app/main.py": "x = 1\n", ".gitignore": "secrets.env\n", "README.md": "hi\n"}
    )
    (repo.path / "secrets.env").write_text("TOKEN=1\n")
    (repo.path / "app" / "new.py").write_text("y = 2\n")  # untracked, not ignored: included
    (repo.path / ".venv" / "lib").mkdir(parents=True)
    (repo.path / ".venv" / "lib" / "x.py").write_text("")
    packed = pack(repo.path, destination_dir=repo.path.parent)
    with tarfile.open(packed.path) as tar:
        names = sorted(tar.getnames())
    assert names == [".gitignore", "README.md", "app/main.py", "app/new.py"]
    assert packed.files == 4


def test_pack_plain_directory_honours_gitignore(tmp_path: Path) -> None:
    root = tmp_path / "src"
    (root / "pkg" / "__pycache__").mkdir(parents=True)
    (root / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    (root / "pkg" / "a.py").write_text("a = 1\n")
    (root / "logs").mkdir()
    (root / "logs" / "x.log").write_text("")
    (root / "keep.log").write_text("")
    (root / "node_modules").mkdir()
    (root / "node_modules" / "m.js").write_text("")
    (root / ".gitignore").write_text("# comment\n*.log\n!keep.log\nlogs/\n")
    assert list_files(root) == [".gitignore", "keep.log", "pkg/a.py"]


def test_gitignore_patterns_follow_git_semantics() -> None:
    rules = parse_gitignore("/build\ndocs/**/*.tmp\n*.py[co]\nout/\n")
    assert is_ignored(rules, "build", is_dir=True)
    assert not is_ignored(rules, "src/build", is_dir=True)  # anchored to the root
    assert is_ignored(rules, "docs/a/b/c.tmp", is_dir=False)
    assert is_ignored(rules, "docs/c.tmp", is_dir=False)
    assert is_ignored(rules, "pkg/m.pyc", is_dir=False)
    assert not is_ignored(rules, "pkg/m.py", is_dir=False)
    assert not is_ignored(rules, "out", is_dir=False)  # directory-only rule
    assert is_ignored(rules, "a/out", is_dir=True)


def test_pack_refuses_an_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nothing to upload"):
        pack(tmp_path)


def test_multipart_body_is_well_formed_and_streams_progress(tmp_path: Path) -> None:
    archive = tmp_path / "source.tar.gz"
    archive.write_bytes(b"\x1f\x8b" + bytes(range(256)) * 600)
    stats = tmp_path / "out_stats.csv"
    stats.write_text("Type,Name\n")
    seen: list[tuple[int, int]] = []
    body = MultipartBody(
        [("branch", "main"), ("artifact_kinds", "locust")],
        [UploadFile("archive", archive), UploadFile("artifacts", stats)],
        progress=lambda sent, total: seen.append((sent, total)),
    )
    blocks = []
    while block := body.read(8192):
        blocks.append(block)
    raw = b"".join(blocks)
    assert len(raw) == body.length
    assert seen[-1] == (body.length, body.length)
    assert len(seen) == len(blocks) > 10
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {body.content_type}\r\n\r\n".encode() + raw
    )
    parts = {
        part.get_param("name", header="content-disposition"): part for part in message.iter_parts()
    }
    assert parts["branch"].get_content() == "main"
    assert parts["archive"].get_filename() == "source.tar.gz"
    assert parts["archive"].get_payload(decode=True) == archive.read_bytes()
    assert parts["artifacts"].get_payload(decode=True) == b"Type,Name\n"


class _ScriptedHandler(BaseHTTPRequestHandler):
    """Answers each request with the next (status, body) of the server's script."""

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.server.bodies.append(self.rfile.read(length))  # type: ignore[attr-defined]
        self._answer()

    def _answer(self) -> None:
        server = self.server
        server.requests.append((self.command, self.path, dict(self.headers)))  # type: ignore[attr-defined]
        status, body = server.script.pop(0)  # type: ignore[attr-defined]
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ScriptedHandler)
    server.script = []  # type: ignore[attr-defined]
    server.requests = []  # type: ignore[attr-defined]
    server.bodies = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _client(server: ThreadingHTTPServer, delays: list[float], logs: list[str]) -> ApiClient:
    host, port = server.server_address[:2]
    return ApiClient(
        f"http://{host}:{port}/", "apt_x", retries=2, sleep=delays.append, log=logs.append
    )


def test_client_retries_transient_statuses_with_backoff(scripted_server) -> None:
    scripted_server.script[:] = [
        (503, b"busy"),
        (502, {"message": "bad gateway"}),
        (200, {"ok": 1}),
    ]
    delays: list[float] = []
    logs: list[str] = []
    assert _client(scripted_server, delays, logs).json("GET", "api/v1/x/") == {"ok": 1}
    assert delays == [1.0, 2.0]
    assert logs[0] == "HTTP 503: busy; retrying in 1s (1/2)"
    assert logs[1] == "HTTP 502: bad gateway; retrying in 2s (2/2)"
    method, path, headers = scripted_server.requests[0]
    assert (method, path, headers["Authorization"]) == ("GET", "/api/v1/x/", "Bearer apt_x")


def test_client_gives_up_after_the_retries_and_reports_the_last_error(scripted_server) -> None:
    scripted_server.script[:] = [(504, b"")] * 3
    with pytest.raises(ApiError) as caught:
        _client(scripted_server, [], []).json("GET", "x")
    assert caught.value.status == 504
    assert caught.value.message == "HTTP 504 without a body"


def test_client_never_retries_nor_hides_a_server_error(scripted_server) -> None:
    body = {"status": 400, "code": "invalid", "message": "Invalid input. branch: too long"}
    scripted_server.script[:] = [(400, body)]
    with pytest.raises(ApiError) as caught:
        _client(scripted_server, [], []).json("GET", "x")
    assert str(caught.value) == "HTTP 400: Invalid input. branch: too long"
    assert caught.value.body == body
    assert len(scripted_server.requests) == 1


def test_client_retries_connection_errors(tmp_path: Path) -> None:
    delays: list[float] = []
    client = ApiClient("http://127.0.0.1:9/", "t", retries=3, backoff=0.5, sleep=delays.append)
    with pytest.raises(ApiError, match=r"cannot reach http://127\.0\.0\.1:9"):
        client.json("GET", "x")
    assert delays == [0.5, 1.0, 2.0]


def test_client_upload_resends_the_whole_body_on_retry(scripted_server, tmp_path: Path) -> None:
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(b"abc" * 1000)
    scripted_server.script[:] = [(503, b""), (202, {"id": 7})]
    result = _client(scripted_server, [], []).upload(
        "scans/", [("branch", "main")], [UploadFile("archive", archive)], headers={"X-K": "1"}
    )
    assert result == {"id": 7}
    first, second = scripted_server.bodies
    assert len(first) == len(second) > 3000
    assert scripted_server.requests[1][2]["X-K"] == "1"


def test_client_rejects_non_http_urls() -> None:
    with pytest.raises(ValueError, match="http"):
        ApiClient("file:///etc/passwd", "t")


def test_progress_plain_lines_in_ci_logs_and_a_bar_on_a_terminal() -> None:
    plain = io.StringIO()
    progress = Progress(plain, interactive=False)
    for sent in range(0, 101, 5):
        progress.upload(sent, 100)
    assert plain.getvalue().splitlines() == [
        "upload: 0% (0.0 MB / 0.0 MB)",
        "upload: 25% (0.0 MB / 0.0 MB)",
        "upload: 50% (0.0 MB / 0.0 MB)",
        "upload: 75% (0.0 MB / 0.0 MB)",
        "upload: 100% (0.0 MB / 0.0 MB)",
    ]
    progress.scan("running", "analyse", 10)
    progress.scan("running", "analyse", 11)  # same stage within 5 s: no new line
    progress.scan("running", "store", 80)
    assert plain.getvalue().splitlines()[-2:] == [
        "scan running (analyse): 10%",
        "scan running (store): 80%",
    ]
    tty = io.StringIO()
    bar = Progress(tty, interactive=True)
    bar.upload(50, 100)
    assert "\rupload [###############...............]  50.0%" in tty.getvalue()
    assert "\n" not in tty.getvalue()
    bar.upload(100, 100)
    assert tty.getvalue().endswith("\n")
