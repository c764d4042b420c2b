"""Route-level detectors on cases a one-annotation-per-line fixture cannot express: several
rules on one `def` line, messages, witnesses and declarations made outside decorators."""

from __future__ import annotations

import textwrap
from pathlib import Path

from scanners.detectors.registry import run_detectors
from scanners.findings import Finding, ScanOptions
from scanners.project.build import build_project

RULES = [
    "untyped-def-reachable-from-route",
    "route-without-response-model",
    "untyped-request-body",
    "deep-dependency-chain",
]

APP = """\
from typing import Annotated

from fastapi import Body, Depends, FastAPI, WebSocket
from fastapi.responses import PlainTextResponse
from fastapi.security import APIKeyHeader

app = FastAPI()
admin_key_header = APIKeyHeader(name="X-Admin-Token")


def read_admin_token(token: str = Depends(admin_key_header)) -> str:
    return token.strip()


def verify_admin(token: str = Depends(read_admin_token)) -> None:
    if not token:
        raise ValueError(token)


class AdminContext:
    def __init__(self, _: None = Depends(verify_admin)) -> None:
        self.ok = True


@app.get("/version")
def version():
    return {"version": "1"}


@app.put("/chapters/{episode_id}", response_model=int)
def set_chapters(episode_id: int, chapters=Body(...)) -> int:
    return episode_id + len(chapters)


@app.delete("/purge", status_code=204)
async def purge(ctx: AdminContext = Depends()) -> None:
    del ctx


@app.post("/rebuild", status_code=204)
async def rebuild(ctx: Annotated[AdminContext, Depends()]) -> None:
    del ctx


@app.get("/check", status_code=204)
async def check(_: None = Depends(verify_admin)) -> None:
    return None


@app.websocket("/ws")
async def stream(websocket: WebSocket) -> None:
    await websocket.accept()


def export_text():
    return "text"


app.add_api_route("/export", export_text, response_class=PlainTextResponse)
"""


def _scan(tmp_path: Path) -> list[Finding]:
    (tmp_path / "main.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    project = build_project(tmp_path, ScanOptions(jobs=1)).project
    findings, failures = run_detectors(project, only=RULES)
    assert failures == []
    return findings


def _line(text: str) -> int:
    return APP.splitlines().index(text) + 1


def test_route_without_annotations_is_untyped_and_has_no_response_model(tmp_path: Path) -> None:
    findings = _scan(tmp_path)
    on_version = {f.rule_id: f for f in findings if f.start_line == _line("def version():")}
    assert set(on_version) == {"untyped-def-reachable-from-route", "route-without-response-model"}
    assert "neither `response_model` nor a return annotation" in (
        on_version["route-without-response-model"].message
    )
    assert on_version["route-without-response-model"].reach == ("GET /version",)


def test_unannotated_body_parameter_is_an_untyped_endpoint_and_an_untyped_def(
    tmp_path: Path,
) -> None:
    findings = _scan(tmp_path)
    line = _line("def set_chapters(episode_id: int, chapters=Body(...)) -> int:")
    on_line = {f.rule_id: f for f in findings if f.start_line == line}
    assert set(on_line) == {"untyped-request-body", "untyped-def-reachable-from-route"}
    assert "`chapters`" in on_line["untyped-request-body"].message
    assert "parameter `chapters`" in on_line["untyped-def-reachable-from-route"].message


def test_deep_chain_counts_depends_class_and_security_scheme_levels(tmp_path: Path) -> None:
    findings = _scan(tmp_path)
    chains = [f for f in findings if f.rule_id == "deep-dependency-chain"]
    assert sorted(f.start_line for f in chains) == [
        _line("async def purge(ctx: AdminContext = Depends()) -> None:"),
        _line("async def rebuild(ctx: Annotated[AdminContext, Depends()]) -> None:"),
    ]
    chain = min(chains, key=lambda f: f.start_line)
    assert "AdminContext -> verify_admin -> read_admin_token -> admin_key_header" in chain.message
    assert [step.function for step in chain.witness] == [
        "main.purge",
        "main.AdminContext.__init__",
        "main.verify_admin",
        "main.read_admin_token",
    ]


def test_add_api_route_keywords_and_websockets_are_honoured(tmp_path: Path) -> None:
    findings = _scan(tmp_path)
    missing = {f.start_line for f in findings if f.rule_id == "route-without-response-model"}
    assert missing == {_line("def version():")}
    untyped = {f.enclosing for f in findings if f.rule_id == "untyped-def-reachable-from-route"}
    assert untyped == {"version", "set_chapters", "export_text"}
