"""Noto Sans CJK SC for reportlab: find it, subset it to a document's text and embed it as TrueType."""

from __future__ import annotations

import hashlib
import io
import logging
import shutil
import string
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, newTable
from fontTools.ttLib import TTFont as OpenTypeFont
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from ..errors import MissingDependencyError

log = logging.getLogger(__name__)
T = TypeVar("T")

FAMILY = "Noto Sans CJK SC"
INSTALL_HINT = "apt-get install fonts-noto-cjk"
# Debian's fonts-noto-cjk (the SC face is one subfont of each collection).
KNOWN_FILES = {
    "Regular": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",),
    "Bold": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",),
}
# Always in the subset, so that page furniture and wrapped text never fall back to .notdef (tofu).
BASE_CHARS = string.printable + "，。：；！？（）、—·…《》“”‘’【】￥×第页共"


@dataclass(frozen=True)
class CjkFonts:
    """Names of the regular and bold CJK fonts registered with reportlab for one document."""

    regular: str
    bold: str


class _TrackedTTFont(TTFont):
    """A reportlab TrueType font that remembers the characters drawn with it that it has no glyph for."""

    def __init__(self, name, filename):
        super().__init__(name, filename)
        self.missing: set[str] = set()

    def splitString(self, text, doc, encoding="utf-8"):
        chars = self.face.charToGlyph
        self.missing.update(c for c in text if ord(c) >= 32 and c != "\xa0" and ord(c) not in chars)
        return super().splitString(text, doc, encoding)


def _fc_match(style: str) -> list[tuple[Path, int | None]]:
    """(file, subfont index) that fontconfig picks for Noto Sans CJK SC in style; [] without fc-match."""
    exe = shutil.which("fc-match")
    if not exe:
        return []
    try:
        out = subprocess.run([exe, "-f", "%{file}\t%{index}", f"{FAMILY}:style={style}"],
                             capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    path, _, index = out.partition("\t")
    if "NotoSansCJK" not in Path(path).name and "NotoSansSC" not in Path(path).name:
        return []  # fontconfig fell back to some other font
    return [(Path(path), int(index) if index.strip().isdigit() else None)]


def _sc_index(path: Path) -> int | None:
    """Index of the Noto Sans CJK SC face in a font file (0 for a single font), None if absent."""
    try:
        if path.suffix.lower() != ".ttc":
            return 0 if FAMILY in OpenTypeFont(path, lazy=True)["name"].getDebugName(1) else None
        for i, face in enumerate(TTCollection(path, lazy=True).fonts):
            if face["name"].getDebugName(1) == FAMILY:
                return i
    except Exception:  # noqa: BLE001 - an unreadable file is just not a candidate
        return None
    return None


@lru_cache(maxsize=4)
def find_cjk_font(style: str = "Regular") -> tuple[Path, int]:
    """File and subfont index of Noto Sans CJK SC in style ('Regular'/'Bold'); MissingDependencyError if none."""
    candidates = _fc_match(style) + [(Path(p), None) for p in KNOWN_FILES.get(style, ())]
    for path, _index in candidates:
        if not path.is_file():
            continue
        found = _sc_index(path)  # checked by name: fontconfig's index and the known layout are hints only
        if found is not None:
            return path, found
    searched = ", ".join(str(p) for p, _ in candidates) or "fc-match and the Debian font folder"
    raise MissingDependencyError(
        f"font {FAMILY} ({style}) not found (searched {searched}); install it: {INSTALL_HINT}",
        font=FAMILY, style=style,
    )


def _to_truetype(font) -> None:
    """Replace a font's CFF outlines by quadratic TrueType ones (reportlab embeds only TrueType)."""
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(None)
        # CFF contours run counter-clockwise, TrueType ones clockwise.
        glyphs[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr, value in (("maxZones", 1), ("maxTwilightPoints", 0), ("maxStorage", 0), ("maxFunctionDefs", 0),
                        ("maxInstructionDefs", 0), ("maxStackElements", 0), ("maxSizeOfInstructions", 0),
                        ("maxComponentElements", 0), ("maxComponentDepth", 0), ("maxPoints", 0),
                        ("maxContours", 0), ("maxCompositePoints", 0), ("maxCompositeContours", 0)):
        setattr(maxp, attr, value)
    font["head"].glyphDataFormat = 0
    font["post"].formatType = 3.0
    font.sfntVersion = "\x00\x01\x00\x00"


@lru_cache(maxsize=32)
def truetype_subset(path: Path, index: int, chars: str, ps_name: str) -> bytes:
    """A TrueType font named ps_name with just the glyphs of chars, cut from the (CFF) font at path/index."""
    font = OpenTypeFont(path, fontNumber=index)
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.desubroutinize = True
    options.notdef_outline = True
    options.drop_tables = [*options.drop_tables, "GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx", "DSIG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    _to_truetype(font)
    # reportlab keeps one font per PostScript name, so every subset needs its own.
    names = font["name"]
    names.names = [n for n in names.names if n.nameID != 6]
    names.setName(ps_name, 6, 3, 1, 0x409)
    names.setName(ps_name, 6, 1, 0, 0)
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def register_cjk_fonts(text: str) -> CjkFonts:
    """Register regular and bold Noto Sans CJK SC subsets covering text with reportlab; returns their names."""
    chars = "".join(sorted(set(text) | set(BASE_CHARS)))
    key = hashlib.sha1(chars.encode("utf-8")).hexdigest()[:10]
    names = {}
    for style in ("Regular", "Bold"):
        try:
            path, index = find_cjk_font(style)
        except MissingDependencyError:
            if style == "Regular":
                raise
            names[style] = names["Regular"]  # no bold file: bold text is set in the regular face
            continue
        name = f"NotoSansSC-{style}-{key}"
        if name not in pdfmetrics.getRegisteredFontNames():
            data = truetype_subset(path, index, chars, name)
            pdfmetrics.registerFont(_TrackedTTFont(name, io.BytesIO(data)))
        names[style] = name
    pdfmetrics.registerFontFamily(names["Regular"], normal=names["Regular"], bold=names["Bold"],
                                  italic=names["Regular"], boldItalic=names["Bold"])
    return CjkFonts(regular=names["Regular"], bold=names["Bold"])


def missing_chars(fonts: CjkFonts) -> str:
    """Characters drawn so far with fonts that they have no glyph for (printed as .notdef boxes)."""
    found: set[str] = set()
    for name in {fonts.regular, fonts.bold}:
        found |= getattr(pdfmetrics.getFont(name), "missing", set())
    return "".join(sorted(found))


def unsupported_chars(text: str) -> str:
    """The characters of text that Noto Sans CJK SC itself has no glyph for."""
    path, index = find_cjk_font("Regular")
    cmap = _full_cmap(path, index)
    return "".join(sorted({c for c in text if ord(c) >= 32 and ord(c) not in cmap}))


@lru_cache(maxsize=2)
def _full_cmap(path: Path, index: int) -> frozenset[int]:
    """Code points the font at path/index covers."""
    return frozenset(OpenTypeFont(path, fontNumber=index, lazy=True).getBestCmap())


def render_with_cjk(text: str, render: Callable[[CjkFonts], T]) -> T:
    """render(fonts) with fonts covering text, redone once if it drew characters beyond text; warns on tofu."""
    fonts = register_cjk_fonts(text)
    result = render(fonts)
    gap = missing_chars(fonts)
    unsupported = unsupported_chars(gap) if gap else ""
    if any(c not in unsupported for c in gap):
        log.debug("redrawing with the characters %r missing from the first font subset", gap)
        fonts = register_cjk_fonts(text + gap)
        result = render(fonts)
        gap = missing_chars(fonts)
    if gap:
        log.warning("%s has no glyph for %r; printed as empty boxes", FAMILY, gap)
    return result
