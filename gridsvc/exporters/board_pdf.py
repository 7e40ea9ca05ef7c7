"""责任牌 responsibility boards: one A5 landscape page per unit with its duties, zone sketch and QR code."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import segno
import shapely
from reportlab.lib import colors
from reportlab.lib.pagesizes import A5, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepInFrame, Paragraph, Spacer
from shapely.geometry.base import BaseGeometry

from ..errors import InputError, MissingColumnsError
from ..maps.zone_sketch import nice_length
from .checklist_pdf import normalise_duties, officer_parts, policy_family
from .pdf_fonts import CjkFonts, render_with_cjk

PAGE = landscape(A5)
CODE_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32 in lower case: no i, l, o, u
CODE_LENGTH = 10  # 50 bits
CODE_RE = re.compile(r"^[0-9a-z_-]{4,64}$")
RED = colors.HexColor("#B3261E")
INK = colors.HexColor("#1F2D3D")
GREY = colors.HexColor("#5F6B76")
LIGHT = colors.HexColor("#9AA5B1")
ZONE_FILL, ZONE_LINE = colors.HexColor("#E53935"), colors.HexColor("#B3261E")
BUILDING_FILL, BUILDING_LINE = colors.HexColor("#CFD8DC"), colors.HexColor("#455A64")
STREET_LINE = colors.HexColor("#78909C")
LABELS = "门前责任牌区单位名称地址责任内容示意图面积约平方米建筑道路北网格员电话监督扫码查看举报编号无一户范围与评级²"


def unit_code(unit_id: int, secret: str) -> str:
    """Short, unguessable, URL-safe public code of a unit (一户一码): HMAC-SHA256, 10 base32 characters."""
    if isinstance(unit_id, bool) or not isinstance(unit_id, int):
        raise InputError(f"unit id must be an integer, got {unit_id!r}", source="unit_code")
    if not isinstance(secret, str) or not secret:
        raise InputError("a non-empty secret is needed to make unit codes", source="unit_code")
    digest = hmac.new(secret.encode("utf-8"), f"gridsvc-unit:{unit_id}".encode(), hashlib.sha256).digest()
    bits = int.from_bytes(digest[:8], "big") >> (64 - 5 * CODE_LENGTH)
    return "".join(CODE_ALPHABET[(bits >> (5 * (CODE_LENGTH - 1 - i))) & 31] for i in range(CODE_LENGTH))


def unit_url(base_url: str, code: str) -> str:
    """The URL a unit's QR code encodes: {base_url}/u/{code}."""
    if not re.match(r"^https?://[^\s/]+", base_url or ""):
        raise InputError(f"base_url must be an http(s) URL, got {base_url!r}", source="base_url")
    if not CODE_RE.match(code):
        raise InputError(f"unit code must be URL-safe (0-9, a-z, '-', '_'), got {code!r}", source="units")
    return f"{base_url.rstrip('/')}/u/{code}"


def qr_matrix(url: str) -> tuple[tuple[bool, ...], ...]:
    """Dark modules of the QR code (error level M, no quiet zone) for url, row by row from the top."""
    qr = segno.make(url, error="m", micro=False, boost_error=False)
    return tuple(tuple(bool(v) for v in row) for row in qr.matrix)


def _draw_qr(c: Canvas, matrix, x: float, y: float, size: float) -> None:
    """Draw a QR matrix as vector squares in a size x size box (quiet zone of 4 modules included)."""
    n = len(matrix)
    module = size / (n + 8)
    c.saveState()
    c.setFillColor(colors.white)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColor(colors.black)
    path = c.beginPath()
    for r, row in enumerate(matrix):
        top = y + size - (r + 4 + 1) * module
        col = 0
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                path.rect(x + (start + 4) * module, top, (col - start) * module, module)
            else:
                col += 1
    c.drawPath(path, stroke=0, fill=1)
    c.restoreState()


def _geoms(unit: Mapping) -> dict[str, BaseGeometry]:
    """The unit's zone, building and street geometries that are present and non-empty."""
    out = {}
    for key in ("zone", "building", "street"):
        g = unit.get(key)
        if g is None:
            continue
        if not isinstance(g, BaseGeometry):
            raise InputError(f"{key!r} must be a shapely geometry in a metric CRS, got {type(g).__name__}",
                             source="units", where=f"unit {unit.get('name')!r}")
        if not g.is_empty:
            out[key] = g
    return out


def _path_for(c: Canvas, geom: BaseGeometry, to_page):
    """A reportlab path of a (multi)polygon or (multi)line, in page coordinates."""
    path = c.beginPath()
    parts = getattr(geom, "geoms", [geom])
    for part in parts:
        rings = [part.exterior, *part.interiors] if part.geom_type == "Polygon" else [part]
        for ring in rings:
            pts = [to_page(x, y) for x, y in ring.coords]
            if len(pts) < 2:
                continue
            path.moveTo(*pts[0])
            for p in pts[1:]:
                path.lineTo(*p)
            if part.geom_type == "Polygon":
                path.close()
    return path


def _draw_sketch(c: Canvas, unit: Mapping, fonts: CjkFonts, x: float, y: float, w: float, h: float) -> None:
    """Zone sketch in a w x h box: street line, building, zone, north arrow and scale bar."""
    c.saveState()
    c.setFillColor(colors.HexColor("#FBFBF8"))
    c.setStrokeColor(LIGHT)
    c.setLineWidth(0.6)
    c.rect(x, y, w, h, stroke=1, fill=1)
    geoms = _geoms(unit)
    focus = [g for k, g in geoms.items() if k != "street"] or list(geoms.values())
    if not focus:
        c.setFont(fonts.regular, 9)
        c.setFillColor(GREY)
        c.drawCentredString(x + w / 2, y + h / 2, "（无责任区示意图）")
        c.restoreState()
        return
    minx, miny, maxx, maxy = shapely.total_bounds(focus)
    pad = max(4.0, 0.25 * max(maxx - minx, maxy - miny))
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    scale = min(w / (maxx - minx), h / (maxy - miny))  # points per metre
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half_w, half_h = w / scale / 2, h / scale / 2
    view = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)

    def to_page(px, py):
        return x + (px - view[0]) * scale, y + (py - view[1]) * scale

    clip = c.beginPath()
    clip.rect(x, y, w, h)
    c.clipPath(clip, stroke=0, fill=0)
    street = geoms.get("street")
    if street is not None:
        street = shapely.clip_by_rect(street, *view)
        c.setStrokeColor(STREET_LINE)
        c.setLineWidth(2.2)
        c.setLineCap(1)
        c.drawPath(_path_for(c, street, to_page), stroke=1, fill=0)
    if "building" in geoms:
        c.setFillColor(BUILDING_FILL)
        c.setStrokeColor(BUILDING_LINE)
        c.setLineWidth(0.9)
        c.drawPath(_path_for(c, geoms["building"], to_page), stroke=1, fill=1, fillMode=0)
    if "zone" in geoms:
        c.setFillColor(ZONE_FILL)
        c.setFillAlpha(0.35)
        c.setStrokeColor(ZONE_LINE)
        c.setLineWidth(1.2)
        c.drawPath(_path_for(c, geoms["zone"], to_page), stroke=1, fill=1, fillMode=0)
        c.setFillAlpha(1)
    if street is not None and not street.is_empty and unit.get("street_name"):
        _street_label(c, street, str(unit["street_name"]), fonts, to_page, shapely.union_all(focus).centroid)
    _north_arrow(c, fonts, x + w - 7 * mm, y + h - 12 * mm)
    _scale_bar(c, fonts, x + 3 * mm, y + 3 * mm, scale, w * 0.3)
    c.restoreState()


def _street_label(c: Canvas, street: BaseGeometry, name: str, fonts: CjkFonts, to_page, away) -> None:
    """Street name along the longest visible part of the street line, upright, on the side away from away."""
    parts = getattr(street, "geoms", [street])
    line = max(parts, key=lambda g: g.length)
    if line.geom_type != "LineString" or line.length == 0:
        return
    a, b = line.interpolate(0.45, normalized=True), line.interpolate(0.55, normalized=True)
    mid = line.interpolate(0.5, normalized=True)
    (ax, ay), (bx, by) = to_page(a.x, a.y), to_page(b.x, b.y)
    angle = math.degrees(math.atan2(by - ay, bx - ax))
    if angle > 90 or angle < -90:
        angle -= 180 if angle > 0 else -180
    px, py = to_page(mid.x, mid.y)
    fx, fy = to_page(away.x, away.y)
    dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    base = -11.5 if dx * (fy - py) - dy * (fx - px) > 0 else 2.5  # below the line if the unit is above it
    c.saveState()
    c.translate(px, py)
    c.rotate(angle)
    c.setFont(fonts.regular, 7.5)
    width = stringWidth(name, fonts.regular, 7.5)
    c.setFillColor(colors.white)
    c.rect(-width / 2 - 1.5, base, width + 3, 9, stroke=0, fill=1)
    c.setFillColor(GREY)
    c.drawCentredString(0, base + 2, name)
    c.restoreState()


def _north_arrow(c: Canvas, fonts: CjkFonts, x: float, y: float) -> None:
    """A north arrow centred on x with its foot at y."""
    c.saveState()
    c.setFillColor(INK)
    c.setStrokeColor(INK)
    c.setLineWidth(0.6)
    p = c.beginPath()
    p.moveTo(x, y + 7 * mm)
    p.lineTo(x - 2.2 * mm, y)
    p.lineTo(x, y + 1.6 * mm)
    p.close()
    c.drawPath(p, stroke=1, fill=1)
    p = c.beginPath()
    p.moveTo(x, y + 7 * mm)
    p.lineTo(x + 2.2 * mm, y)
    p.lineTo(x, y + 1.6 * mm)
    p.close()
    c.setFillColor(colors.white)
    c.drawPath(p, stroke=1, fill=1)
    c.setFillColor(INK)
    c.setFont(fonts.bold, 7.5)
    c.drawCentredString(x, y + 8 * mm, "北 N")
    c.restoreState()


def _scale_bar(c: Canvas, fonts: CjkFonts, x: float, y: float, scale: float, max_w: float) -> None:
    """A two-segment scale bar at (x, y) no wider than max_w points."""
    metres = nice_length(max_w / scale)
    width = metres * scale
    c.saveState()
    c.setLineWidth(0.5)
    c.setStrokeColor(INK)
    for i in range(2):
        c.setFillColor(INK if i == 0 else colors.white)
        c.rect(x + i * width / 2, y, width / 2, 1.6 * mm, stroke=1, fill=1)
    c.setFillColor(INK)
    c.setFont(fonts.regular, 6.5)
    c.drawString(x, y + 2.3 * mm, "0")
    label = f"{metres:g} m"
    c.drawRightString(x + width + stringWidth(label, fonts.regular, 6.5) / 2, y + 2.3 * mm, label)
    c.restoreState()


def _fit_name(c: Canvas, name: str, fonts: CjkFonts, x: float, top: float, width: float) -> float:
    """Draw the unit's name as big as fits on one line (two lines if very long); returns the bottom y."""
    size = min(30.0, width / max(stringWidth(name, fonts.bold, 1.0), 1e-6))
    c.setFillColor(INK)
    if size >= 17:
        c.setFont(fonts.bold, size)
        c.drawString(x, top - size, name)
        return top - size * 1.25
    style = ParagraphStyle("name", fontName=fonts.bold, fontSize=17, leading=21, textColor=INK, wordWrap="CJK")
    box = KeepInFrame(width, 44, [Paragraph(escape(name), style)], mode="shrink")
    _, h = box.wrapOn(c, width, 44)
    box.drawOn(c, x, top - h)
    return top - h - 4


def _duties_block(duties: list[dict], fonts: CjkFonts, width: float, height: float) -> KeepInFrame:
    """The duties in Chinese (label and description_zh; a board on a Chinese door carries no English),
    shrunk to fit width x height."""
    zh = ParagraphStyle("zh", fontName=fonts.bold, fontSize=13.5, leading=18, textColor=INK, wordWrap="CJK")
    desc = ParagraphStyle("desc", fontName=fonts.regular, fontSize=10, leading=13.5, textColor=GREY,
                          leftIndent=16, wordWrap="CJK", spaceAfter=7)
    flow: list = []
    for i, d in enumerate(duties, start=1):
        flow.append(Paragraph(f'<font color="#B3261E">{i}.</font> {escape(d["zh"])}', zh))
        if d.get("description_zh"):
            flow.append(Paragraph(escape(d["description_zh"]), desc))
        else:
            flow.append(Spacer(1, 4))
    return KeepInFrame(width, height, flow, mode="shrink", vAlign="TOP")


def _board_title(family: str, title: str | None) -> str:
    """The board's heading: the given title, else 门前N包责任牌 by the policy's family."""
    return title or (f"门前{family}责任牌" if family else "门前责任区责任牌")


def _draw_board(c: Canvas, unit: dict, fonts: CjkFonts) -> None:
    """One board page."""
    w, h = PAGE
    m = 5 * mm
    c.setStrokeColor(RED)
    c.setLineWidth(2.2)
    c.rect(m, m, w - 2 * m, h - 2 * m, stroke=1, fill=0)
    c.setLineWidth(0.5)
    c.rect(m + 1.6 * mm, m + 1.6 * mm, w - 2 * m - 3.2 * mm, h - 2 * m - 3.2 * mm, stroke=1, fill=0)
    band_y = h - m - 1.6 * mm - 17 * mm
    c.setFillColor(RED)
    c.rect(m + 1.6 * mm, band_y, w - 2 * m - 3.2 * mm, 17 * mm, stroke=0, fill=1)
    c.setFillColor(colors.white)
    c.setFont(fonts.bold, 21)
    c.drawString(m + 7 * mm, band_y + 5.6 * mm, unit["title"])
    c.setFont(fonts.regular, 8.5)
    c.drawRightString(w - m - 7 * mm, band_y + 9.5 * mm, "一户一码")
    c.setFont(fonts.bold, 10)
    c.drawRightString(w - m - 7 * mm, band_y + 4.5 * mm, f"编号 {unit['code']}")

    left, right_x, right_w = m + 7 * mm, w - m - 7 * mm - 64 * mm, 64 * mm
    col_w = right_x - left - 7 * mm
    bottom = _fit_name(c, unit["name"], fonts, left, band_y - 5 * mm, col_w)
    if unit["address"]:
        c.setFont(fonts.regular, 9)
        c.setFillColor(GREY)
        c.drawString(left, bottom - 9, unit["address"])
        bottom -= 14
    c.setStrokeColor(LIGHT)
    c.setLineWidth(0.5)
    c.line(left, bottom - 3, left + col_w, bottom - 3)
    c.setFont(fonts.bold, 9)
    c.setFillColor(RED)
    c.drawString(left, bottom - 15, "责任内容")
    foot = m + 1.6 * mm + 15 * mm
    block = _duties_block(unit["duties"], fonts, col_w, bottom - 20 - foot - 3 * mm)
    _, bh = block.wrapOn(c, col_w, bottom - 20 - foot)
    block.drawOn(c, left, bottom - 20 - bh)

    sketch_h = 50 * mm
    sketch_y = band_y - 5 * mm - sketch_h
    _draw_sketch(c, unit, fonts, right_x, sketch_y, right_w, sketch_h)
    if _geoms(unit):
        _sketch_caption(c, unit, fonts, right_x, sketch_y - 4 * mm)
    qr = 30 * mm
    qr_y = foot + 2 * mm
    _draw_qr(c, qr_matrix(unit["url"]), right_x - 2.5 * mm, qr_y, qr)
    c.setFillColor(INK)
    c.setFont(fonts.bold, 9.5)
    tx = right_x + qr
    c.drawString(tx, qr_y + qr - 8 * mm, "扫码查看")
    c.setFont(fonts.regular, 8)
    c.setFillColor(GREY)
    for i, line in enumerate(("责任区范围与评级", "监督举报")):
        c.drawString(tx, qr_y + qr - 13 * mm - i * 11, line)
    shown = unit["url"].split("://", 1)[-1]
    room = PAGE[0] - 5 * mm - 7 * mm - tx
    size = min(6.5, room / max(stringWidth(shown, fonts.regular, 1.0), 1e-6))
    if size >= 4.5:  # the URL in print, for phones that cannot scan; left out when it would be unreadable
        c.setFont(fonts.regular, size)
        c.drawString(tx, qr_y + 3.5 * mm, shown)

    c.setStrokeColor(LIGHT)
    c.line(left, foot, w - m - 7 * mm, foot)
    parts = [unit["standing"]] if unit.get("standing") else []
    if unit["officer"]:
        parts.append(f"网格员：{unit['officer']}" + (f"　电话：{unit['phone']}" if unit["phone"] else ""))
    if unit["hotline"]:
        parts.append(f"监督电话：{unit['hotline']}")
    if unit["grid_code"]:
        parts.append(f"网格：{unit['grid_code']}")
    c.setFillColor(INK)
    c.setFont(fonts.regular, 9.5)
    c.drawString(left, foot - 5.5 * mm, "　｜　".join(parts))


def _sketch_caption(c: Canvas, unit: Mapping, fonts: CjkFonts, x: float, y: float) -> None:
    """Legend under the sketch: zone, building, street swatches and the zone's area."""
    c.saveState()
    c.setFont(fonts.regular, 7)
    items = [("责任区", ZONE_FILL, 0.35, ZONE_LINE), ("建筑", BUILDING_FILL, 1, BUILDING_LINE),
             ("道路", None, 1, STREET_LINE)]
    for label, fill, alpha, line in items:
        if fill is None:
            c.setStrokeColor(line)
            c.setLineWidth(2)
            c.line(x, y + 1.2 * mm, x + 4 * mm, y + 1.2 * mm)
        else:
            c.setFillColor(fill)
            c.setFillAlpha(alpha)
            c.setStrokeColor(line)
            c.setLineWidth(0.6)
            c.rect(x, y, 4 * mm, 2.6 * mm, stroke=1, fill=1)
            c.setFillAlpha(1)
        c.setFillColor(GREY)
        c.drawString(x + 5 * mm, y + 0.3 * mm, label)
        x += 5 * mm + stringWidth(label, fonts.regular, 7) + 3 * mm
    zone = unit.get("zone")
    if isinstance(zone, BaseGeometry) and not zone.is_empty and zone.area > 0:
        c.drawString(x + 1 * mm, y + 0.3 * mm, f"面积约 {zone.area:.0f} m²")
    c.restoreState()


def standing(unit: Mapping) -> str:
    """The current rating and stars as printed on the board (评级：红牌　3星), from the unit's stored board and credit
    balance (ratings.toml); "" when the unit carries neither."""
    from ..ops.rules.ratings import load_ratings

    rules = load_ratings()
    points = unit.get("credit_points")
    has_points = points is not None and points == points  # NaN from a frame
    if "rating" not in unit and not has_points:
        return ""
    text = f"评级：{rules.rating_label(unit.get('rating'))}"
    stars = rules.stars_for(points) if has_points else 0
    return text + (f"　{stars}星商户" if stars else "")


def _board_units(units: Sequence[Mapping], base_url: str, policy, hotline, secret, title) -> list[dict]:
    """Units checked and completed with their code, URL, duties, officer and hotline."""
    if isinstance(units, Mapping) or not isinstance(units, Sequence) or not units:
        raise InputError("units must be a non-empty list of dicts", source="units")
    default_duties = normalise_duties(policy)[0] if policy is not None else None
    boards = []
    for i, u in enumerate(units):
        where = f"unit {i + 1}"
        name = str(u.get("name") or "").strip()
        if not name:
            raise MissingColumnsError("unit has no 'name'", source="units", where=where)
        code = u.get("code")
        if not code:
            if secret is None or u.get("id") is None:
                raise MissingColumnsError("unit has no 'code' (or give secret= and an 'id')", source="units",
                                          where=where)
            code = unit_code(u["id"], secret)
        if u.get("duties") is not None:
            duties, family = normalise_duties(u["duties"])[0], policy_family(u["duties"])
        elif default_duties is not None:
            duties, family = default_duties, policy_family(policy)
        else:
            raise InputError("no duties: pass policy= or give each unit 'duties'", source="units", where=where)
        officer, phone = officer_parts(u.get("officer") if u.get("officer") is not None else
                                       (u.get("officer_name"), u.get("officer_phone")))
        boards.append({**u, "name": name, "code": str(code), "url": unit_url(base_url, str(code)),
                       "duties": duties, "officer": officer, "phone": phone,
                       "hotline": str(u.get("hotline") or hotline or ""), "grid_code": str(u.get("grid_code") or ""),
                       "address": str(u.get("address") or ""),
                       "title": _board_title(family, title), "standing": standing(u)})
        _geoms(boards[-1])
    return boards


def boards_pdf(units: Sequence[Mapping], out: Path, *, base_url: str, policy=None, hotline: str | None = None,
               secret: str | None = None, title: str | None = None) -> Path:
    """Write one A5 landscape 责任牌 page per unit (name, duties, zone sketch, QR of {base_url}/u/{code})."""
    boards = _board_units(units, base_url, policy, hotline, secret, title)
    text = " ".join([LABELS, "（）：｜", *(str(b.get("street_name") or "") for b in boards),
                     *(str(b[k]) for b in boards for k in ("name", "address", "officer", "phone", "hotline",
                                                           "grid_code", "title", "code", "url")),
                     *(d[k] for b in boards for d in b["duties"] for k in ("zh", "description_zh"))])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def render(fonts: CjkFonts) -> Path:
        c = Canvas(str(out), pagesize=PAGE, invariant=1, initialFontName=fonts.regular)
        c.setTitle(boards[0]["title"] if len(boards) == 1 else f"{boards[0]['title']}（{len(boards)} 户）")
        c.setAuthor("gridsvc")
        for board in boards:
            _draw_board(c, board, fonts)
            c.showPage()
        c.save()
        return out

    return render_with_cjk(text, render)
