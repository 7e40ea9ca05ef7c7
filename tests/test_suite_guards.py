"""Guards on the test suite itself: a check that did not run must fail, never pass or skip quietly.

Browser checks (XSS shown as text, pages without errors) need Chromium; where it is missing they fail with the
reason (support.require_chromium, the `chromium` fixture), and the workspace's editing tests fail when the
zone-editing API answers anything but its own 422 to a bad body. These guards keep it so.
"""

from __future__ import annotations

import re
from pathlib import Path

from support import CHROMIUM, require_chromium

TESTS = Path(__file__).resolve().parent
SKIPS = re.compile(r"pytest\.skip\(|\.skipif\(|importorskip\(|pytest\.xfail\(")
# what a skip (or an `if`) must not hinge on: the browser, playwright, or an endpoint answering 405
BROWSER_OR_MISSING_API = re.compile(r"chromium|playwright|browser|\b405\b|not available", re.I)
EXISTS_CHECK = re.compile(r"(?i)chromium[\"')\w.]*\.exists\(\)")


def _sources() -> list[Path]:
    files = sorted(p for p in TESTS.rglob("*.py") if p.name != Path(__file__).name)
    assert len(files) > 40, "the suite's modules were found"
    return files


def test_no_browser_check_is_skipped_or_silently_left_out():
    found = []
    for path in _sources():
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            window = "\n".join(lines[max(0, i - 3):i + 1])  # the skip and the condition just above it
            if SKIPS.search(line) and BROWSER_OR_MISSING_API.search(window):
                found.append(f"{path.relative_to(TESTS)}:{i + 1}: {line.strip()}")
            elif EXISTS_CHECK.search(line) and path.name != "support.py":
                found.append(f"{path.relative_to(TESTS)}:{i + 1}: {line.strip()} (use support.require_chromium)")
    assert not found, "browser checks that pass or skip without running:\n" + "\n".join(found)


def test_a_missing_chromium_fails_the_test_with_the_reason(monkeypatch, tmp_path):
    import pytest
    import support

    monkeypatch.setattr(support, "CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(pytest.fail.Exception, match="Chromium is not installed at .*no-chromium.*apt-get install"):
        support.require_chromium()
    monkeypatch.undo()
    assert require_chromium() == CHROMIUM  # here it is installed: `make setup` put it there
