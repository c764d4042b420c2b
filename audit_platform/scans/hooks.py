"""Things to do when a scan ends (email, reports, webhooks): a small registry other apps plug into.

    from audit_platform.scans.hooks import register_scan_finished_hook

    @register_scan_finished_hook("email-digest")
    def send_digest(scan: Scan) -> None: ...

Hooks run in the ``scans.notify_scan_finished`` task once per finished scan (succeeded, failed or
cancelled). A failing hook is logged on the scan and does not stop the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audit_platform.scans.models import Scan

ScanHook = Callable[["Scan"], None]
_HOOKS: dict[str, ScanHook] = {}


def register_scan_finished_hook(name: str) -> Callable[[ScanHook], ScanHook]:
    """Register ``hook`` under ``name``; registering the same name again replaces it."""

    def decorator(hook: ScanHook) -> ScanHook:
        _HOOKS[name] = hook
        return hook

    return decorator


def unregister_scan_finished_hook(name: str) -> None:
    _HOOKS.pop(name, None)


def scan_finished_hooks() -> list[tuple[str, ScanHook]]:
    return sorted(_HOOKS.items())
