"""Vendored front-end assets as inline <script>/<style> blocks, and a check for external references."""

from __future__ import annotations

import base64
import mimetypes
import re
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

from gridsvc.errors import MissingDependencyError

VENDOR_DIR = Path(__file__).resolve().parent.parent / "static" / "vendor"
LEAFLET_VERSION = "1.9.4"
GEOMAN_VERSION = "2.20.2"
LEAFLET_DIR = VENDOR_DIR / f"leaflet-{LEAFLET_VERSION}"
GEOMAN_DIR = VENDOR_DIR / f"leaflet-geoman-{GEOMAN_VERSION}"

_CSS_URL = re.compile(r"""url\(\s*(?:'([^']*)'|"([^"]*)"|([^'")\s]*))\s*\)""")
_SOURCE_MAP = re.compile(r"^\s*/[/*][#@] sourceMappingURL=.*$", re.MULTILINE)
_EXTERNAL = re.compile(r"^\s*([a-z][a-z0-9+.-]*:|//|\\\\)", re.IGNORECASE)
_LOCAL_SCHEMES = ("data:", "blob:", "about:", "javascript:", "mailto:", "tel:")
_CSS_REF = re.compile(
    r"""url\(\s*(?:'([^']*)'|"([^"]*)"|([^'")\s]*))\s*\)|@import\s+(?:'([^']*)'|"([^"]*)")""", re.IGNORECASE
)


def vendor_path(relative: str) -> Path:
    """Absolute path of a vendored file; raises if the install lacks it."""
    path = VENDOR_DIR / relative
    if not path.is_file():
        raise MissingDependencyError(
            f"vendored asset missing: {path}; reinstall gridsvc (pip install -e .) to restore gridsvc/static/vendor",
            path=str(path),
        )
    return path


@lru_cache
def read_vendor(relative: str) -> str:
    """Text of a vendored file (UTF-8)."""
    return vendor_path(relative).read_text(encoding="utf-8")


@lru_cache
def data_uri(relative: str) -> str:
    """A vendored binary file (e.g. a PNG) as a base64 data: URI."""
    path = vendor_path(relative)
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def inline_css_urls(css: str, base: str) -> str:
    """Rewrite relative url(...) in CSS (resolved against vendor folder `base`) to data: URIs."""

    def swap(match: re.Match) -> str:
        url = next(g for g in match.groups() if g is not None)
        if not url or url.startswith(("#", "%23")) or _EXTERNAL.match(url):
            return match.group(0)
        return f'url("{data_uri(f"{base}/{url}")}")'

    return _CSS_URL.sub(swap, css)


def script_block(js: str) -> str:
    """JS as an inline <script> block (source-map comment dropped, `</script` neutralised)."""
    js = _SOURCE_MAP.sub("", js)
    return "<script>" + re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE) + "</script>"


def style_block(css: str) -> str:
    """CSS as an inline <style> block (source-map comment dropped, `</style` neutralised)."""
    css = _SOURCE_MAP.sub("", css)
    return "<style>" + re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE) + "</style>"


def leaflet_css() -> str:
    """Leaflet's CSS with its control and marker images inlined as data: URIs."""
    base = LEAFLET_DIR.name
    return inline_css_urls(read_vendor(f"{base}/leaflet.css"), base)


def leaflet_icon_fix() -> str:
    """JS pointing L.Icon.Default at data: URIs (its path detection fails once the CSS is inlined)."""
    base = LEAFLET_DIR.name
    urls = {
        "iconUrl": data_uri(f"{base}/images/marker-icon.png"),
        "iconRetinaUrl": data_uri(f"{base}/images/marker-icon-2x.png"),
        "shadowUrl": data_uri(f"{base}/images/marker-shadow.png"),
    }
    opts = ",".join(f'{k}:"{v}"' for k, v in urls.items())
    return f"L.Icon.Default.imagePath='';L.Icon.Default.mergeOptions({{{opts}}});"


def leaflet_head() -> str:
    """Inline <style>+<script> blocks for Leaflet, ready for an HTML <head>."""
    js = read_vendor(f"{LEAFLET_DIR.name}/leaflet.js")
    return "\n".join([style_block(leaflet_css()), script_block(js), script_block(leaflet_icon_fix())])


def geoman_head() -> str:
    """Inline <style>+<script> blocks for Leaflet-Geoman (include after leaflet_head())."""
    base = GEOMAN_DIR.name
    css = inline_css_urls(read_vendor(f"{base}/leaflet-geoman.css"), base)
    return "\n".join([style_block(css), script_block(read_vendor(f"{base}/leaflet-geoman.min.js"))])


def _is_external(url: str) -> bool:
    """True for a reference that leaves the document (any scheme but data:/blob:/..., or //host)."""
    url = url.strip()
    return bool(url) and not url.lower().startswith(_LOCAL_SCHEMES) and bool(_EXTERNAL.match(url))


class _RefFinder(HTMLParser):
    """Collects URLs that an HTML page would load or link to outside itself."""

    _URL_ATTRS = {
        "src",
        "href",
        "srcset",
        "poster",
        "data",
        "action",
        "formaction",
        "background",
        "xlink:href",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if value is None:
                continue
            if name in self._URL_ATTRS:
                urls = (
                    [part.split()[0] for part in value.split(",") if part.split()]
                    if name == "srcset"
                    else [value]
                )
                self.refs += [u for u in urls if _is_external(u)]
            elif name == "style":
                self._css(value)
            elif name == "http-equiv" and value.lower() == "refresh":
                self.refs.append("meta refresh")

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self._css(data)

    def _css(self, css: str) -> None:
        for match in _CSS_REF.finditer(css):
            url = next((g for g in match.groups() if g is not None), "")
            if _is_external(url):
                self.refs.append(url)


def external_refs(html: str) -> list[str]:
    """External URLs an HTML page loads or links to via tags, attributes or CSS (script text is not scanned)."""
    finder = _RefFinder()
    finder.feed(html)
    finder.close()
    return finder.refs
