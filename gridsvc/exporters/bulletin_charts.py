"""The bulletin's charts drawn once as plain shapes, then written as inline SVG (HTML) or as a reportlab Drawing
(PDF): the trend of an indicator over the last periods, and the H3 heat map of the cases on the district's outline
(hexagons coloured by count; no tiles, nothing fetched).

Shapes are tuples in a box of w × h points, y downwards:
("poly", points, fill, stroke, width), ("line", points, stroke, width), ("rect", x, y, w, h, fill, stroke),
("circle", x, y, r, fill), ("text", x, y, text, size, anchor, fill).
"""

from __future__ import annotations

import math
from html import escape

import h3
from shapely.geometry.base import BaseGeometry

INK = "#263238"
GRID = "#CFD8DC"
LINE_COLOURS = ("#1565C0", "#2E7D32", "#EF6C00", "#6A1B9A", "#00838F", "#AD1457", "#5D4037", "#9E9D24")
HEAT = ("#FFF3C4", "#FFD180", "#FF9E40", "#F4511E", "#B71C1C")  # few → many


def trend_shapes(trend: dict, w: float = 520, h: float = 230) -> list[tuple]:
    """The first ranking indicator (%) per period: the district (thick) and each 街道, with a legend."""
    periods = trend["periods"]
    series = [("全区", trend["total"][trend["indicator"]], INK, 2.4)]
    series += [(s["name"], s["values"], LINE_COLOURS[i % len(LINE_COLOURS)], 1.2)
               for i, s in enumerate(trend["subdistricts"])]
    left, right, top, bottom = 40, 10, 24, 48
    pw, ph = w - left - right, h - top - bottom
    out: list[tuple] = [("text", left, 14, f"{trend['indicator_zh']}走势（%）", 10, "start", INK)]
    for v in range(0, 101, 25):
        y = top + ph * (1 - v / 100)
        out.append(("line", [(left, y), (left + pw, y)], GRID, 0.6))
        out.append(("text", left - 4, y + 3, str(v), 7, "end", INK))
    step = pw / max(len(periods) - 1, 1)
    for i, p in enumerate(periods):
        out.append(("text", left + i * step, top + ph + 12, p, 7, "middle", INK))
    for _name, values, colour, width in series:
        run: list[tuple[float, float]] = []
        for i, v in enumerate([*values, None]):
            if v is None:
                if len(run) > 1:
                    out.append(("line", run, colour, width))
                run = []
                continue
            pt = (left + i * step, top + ph * (1 - min(max(v, 0), 100) / 100))
            run.append(pt)
            out.append(("circle", pt[0], pt[1], 2.2 if width > 2 else 1.6, colour))
    x, y = left, h - 18
    for name, _values, colour, width in series:
        label_w = 14 + 9 * len(name)
        if x + label_w > w - right:
            x, y = left, y + 11
        out.append(("line", [(x, y - 3), (x + 10, y - 3)], colour, width))
        out.append(("text", x + 13, y, name, 7.5, "start", INK))
        x += label_w + 8
    return out


def _project(bounds, w, h, pad=8):
    minx, miny, maxx, maxy = bounds
    kx = math.cos(math.radians((miny + maxy) / 2))
    gw, gh = max((maxx - minx) * kx, 1e-9), max(maxy - miny, 1e-9)
    scale = min((w - 2 * pad) / gw, (h - 2 * pad) / gh)
    ox = pad + (w - 2 * pad - gw * scale) / 2
    oy = pad + (h - 2 * pad - gh * scale) / 2

    def xy(lng, lat):
        return ox + (lng - minx) * kx * scale, oy + (maxy - lat) * scale
    return xy


def _rings(geom: BaseGeometry):
    polys = getattr(geom, "geoms", [geom])
    for p in polys:
        if hasattr(p, "exterior"):
            yield list(p.exterior.coords)


def heat_class(count: int, top: int) -> int:
    """0..4: the count's class among 1..top (equal steps)."""
    return 0 if top <= 1 else min(len(HEAT) - 1, int((count - 1) * len(HEAT) / top))


def heat_shapes(heat_map: dict, district: BaseGeometry | None, subdistricts: list, w: float = 520,
                h: float = 360) -> list[tuple]:
    """The district's outline (and its 街道 thin), the H3 cells of the cases coloured by count, a legend."""
    cells = heat_map["cells"]
    boundaries = {c["h3"]: [(lng, lat) for lat, lng in h3.cell_to_boundary(c["h3"])] for c in cells}
    xs = [x for b in boundaries.values() for x, _ in b]
    ys = [y for b in boundaries.values() for _, y in b]
    if district is not None:
        minx, miny, maxx, maxy = district.bounds
        xs += [minx, maxx]
        ys += [miny, maxy]
    if not xs:
        return [("text", w / 2, h / 2, "本期无案件", 10, "middle", INK)]
    legend_h = 30
    xy = _project((min(xs), min(ys), max(xs), max(ys)), w, h - legend_h)
    out: list[tuple] = []
    if district is not None:
        for ring in _rings(district):
            out.append(("poly", [xy(*p) for p in ring], "#F5F7F8", "#455A64", 1.2))
    for g in subdistricts:
        for ring in _rings(g):
            out.append(("poly", [xy(*p) for p in ring], None, "#90A4AE", 0.5))
    top = max((c["count"] for c in cells), default=0)
    for c in sorted(cells, key=lambda c: c["count"]):
        out.append(("poly", [xy(*p) for p in boundaries[c["h3"]]], HEAT[heat_class(c["count"], top)], "#5D4037", 0.3))
    # legend: the classes with their count ranges
    y = h - legend_h + 8
    out.append(("text", 8, y + 9, f"案件数（H3 分辨率 {heat_map['res']}，共 {heat_map['cases']} 件）", 8, "start", INK))
    x = 8 + 8 * 21
    if top:
        bounds = [min(c["count"] for c in cells if heat_class(c["count"], top) == k)
                  for k in range(len(HEAT)) if any(heat_class(c["count"], top) == k for c in cells)]
        for k, lo in zip(sorted({heat_class(c["count"], top) for c in cells}), bounds, strict=True):
            out.append(("rect", x, y, 12, 12, HEAT[k], "#5D4037"))
            out.append(("text", x + 15, y + 9, f"≥{lo}", 8, "start", INK))
            x += 42
    return out


# ---- writers ----

def to_svg(shapes: list[tuple], w: float, h: float, title: str) -> str:
    """Inline SVG (scales to its container's width)."""
    parts = [f'<svg viewBox="0 0 {w:g} {h:g}" role="img" '
             f'aria-label="{escape(title)}" style="width:100%;height:auto;max-width:{w * 1.6:g}px" '
             f'font-family="Noto Sans CJK SC, Noto Sans SC, PingFang SC, Microsoft YaHei, sans-serif">'
             f"<title>{escape(title)}</title>"]
    for s in shapes:
        kind = s[0]
        if kind == "poly":
            _, pts, fill, stroke, width = s
            d = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            parts.append(f'<polygon points="{d}" fill="{fill or "none"}" stroke="{stroke}" stroke-width="{width}"/>')
        elif kind == "line":
            _, pts, stroke, width = s
            d = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            parts.append(f'<polyline points="{d}" fill="none" stroke="{stroke}" stroke-width="{width}"/>')
        elif kind == "rect":
            _, x, y, rw, rh, fill, stroke = s
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{rw}" height="{rh}" fill="{fill}" stroke="{stroke}" '
                         'stroke-width="0.5"/>')
        elif kind == "circle":
            _, x, y, r, fill = s
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{fill}"/>')
        elif kind == "text":
            _, x, y, text, size, anchor, fill = s
            parts.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
                         f'fill="{fill}">{escape(str(text))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def to_drawing(shapes: list[tuple], w: float, h: float, font: str):
    """A reportlab Drawing of the shapes (y flipped), text in the CJK font."""
    from reportlab.graphics.shapes import Circle, Drawing, Polygon, PolyLine, Rect, String
    from reportlab.lib import colors

    def c(v):
        return None if v is None else colors.HexColor(v)

    d = Drawing(w, h)
    for s in shapes:
        kind = s[0]
        if kind == "poly":
            _, pts, fill, stroke, width = s
            d.add(Polygon([v for x, y in pts for v in (x, h - y)], fillColor=c(fill), strokeColor=c(stroke),
                          strokeWidth=width))
        elif kind == "line":
            _, pts, stroke, width = s
            d.add(PolyLine([v for x, y in pts for v in (x, h - y)], strokeColor=c(stroke), strokeWidth=width))
        elif kind == "rect":
            _, x, y, rw, rh, fill, stroke = s
            d.add(Rect(x, h - y - rh, rw, rh, fillColor=c(fill), strokeColor=c(stroke), strokeWidth=0.5))
        elif kind == "circle":
            _, x, y, r, fill = s
            d.add(Circle(x, h - y, r, fillColor=c(fill), strokeColor=None))
        elif kind == "text":
            _, x, y, text, size, anchor, fill = s
            d.add(String(x, h - y, str(text), fontName=font, fontSize=size, textAnchor=anchor, fillColor=c(fill)))
    return d
