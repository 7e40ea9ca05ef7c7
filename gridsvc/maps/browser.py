"""Open a page in headless Chromium with the network cut off, and report what happened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gridsvc.errors import MissingDependencyError

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


@dataclass
class PageReport:
    """What a page did when opened offline."""

    url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    interactive_count: int = 0
    overlay_path_count: int = 0
    title: str = ""
    screenshot: Path | None = None
    action_result: Any = None


def to_url(url_or_path: str | Path) -> str:
    """A URL as-is, or a filesystem path as an absolute file:// URL."""
    text = str(url_or_path)
    if isinstance(url_or_path, str) and "://" in text or text.startswith(("data:", "about:")):
        return text
    return Path(text).resolve().as_uri()


def is_local(url: str) -> bool:
    """True for file:, data:, blob:, about: URLs and for 127.0.0.1/localhost."""
    parts = urlsplit(url)
    if parts.scheme in ("file", "data", "blob", "about"):
        return True
    return parts.scheme in ("http", "https", "ws", "wss") and (parts.hostname or "") in LOCAL_HOSTS


def _require_chromium(executable: Path) -> None:
    """Raise MissingDependencyError unless Chromium and playwright are installed."""
    if not executable.exists():
        raise MissingDependencyError(
            f"Chromium not found at {executable}; install it with `sudo apt-get install chromium`",
            program="chromium",
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as err:
        raise MissingDependencyError(
            "Python playwright is not installed; run `pip install -e '.[test]'` (browsers are not needed)",
            program="playwright",
        ) from err


def open_page(
    url_or_path: str | Path,
    screenshot: Path | None = None,
    width: int = 1280,
    height: int = 800,
    *,
    wait_for: str | None = ".leaflet-container",
    actions: Callable[[Page], Any] | None = None,
    timeout_ms: int = 15_000,
    executable: Path = CHROMIUM,
) -> PageReport:
    """Open a page with every non-local request aborted; collect errors, count Leaflet features, screenshot.

    `actions(page)` runs after load (before counting and the screenshot); its return value is kept in
    `action_result`. Dialogs (alert/confirm) are recorded and dismissed.
    """
    _require_chromium(executable)
    from playwright.sync_api import sync_playwright

    report = PageReport(url=to_url(url_or_path))

    def route(r: Route) -> None:
        if is_local(r.request.url):
            r.continue_()
        else:
            report.blocked_requests.append(r.request.url)
            r.abort("blockedbyclient")

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": width, "height": height}, service_workers="block"
            )
            context.route("**/*", route)
            page = context.new_page()
            page.set_default_timeout(timeout_ms)
            page.on("console", lambda m: report.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: report.page_errors.append(str(e)))
            page.on("dialog", lambda d: (report.dialogs.append(f"{d.type}: {d.message}"), d.dismiss()))
            page.goto(report.url, wait_until="networkidle")
            if wait_for:
                page.wait_for_selector(wait_for, state="attached")
            if actions is not None:
                report.action_result = actions(page)
            report.overlay_path_count = page.locator(".leaflet-overlay-pane path").count()
            report.interactive_count = page.locator(".leaflet-interactive").count()
            report.title = page.title()
            if screenshot is not None:
                screenshot = Path(screenshot)
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot))
                report.screenshot = screenshot
        finally:
            browser.close()
    return report
