"""The per-street merchant notice of the 红/黄/黑 lists (gridsvc/ops/bulletins.merchants): a PNG image 1080 px wide
(a phone screen's width, for the street's WeChat group) and the same as plain text to paste under it. Drawn with
Pillow in Noto Sans CJK SC; the board colours are ratings.toml's [signs]."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

from .pdf_fonts import find_cjk_font

WIDTH = 1080
PAD = 48


def merchant_text(notice: dict) -> str:
    lines = [f"【{notice['title']}】", f"本{'月' if '-W' not in notice['period'] else '周'}辖内商户 {notice['units']} 户。"]
    for b in notice["boards"]:
        names = "、".join(b["units"]) if b["units"] else "无"
        lines.append(f"{b['zh']}（{b['meaning']}，{len(b['units'])} 户）：{names}")
    lines += notice["closing"]
    return "\n".join(lines) + "\n"


def _font(size: int, bold: bool = False):
    path, index = find_cjk_font("Bold" if bold else "Regular")
    return ImageFont.truetype(str(path), size, index=index)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    lines, line = [], ""
    for ch in text:
        if draw.textlength(line + ch, font=font) > width:
            lines.append(line)
            line = ch
        else:
            line += ch
    return [*lines, line] if line else lines


def merchant_png(notice: dict) -> bytes:
    title, head, body = _font(54, True), _font(40, True), _font(34)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    inner = WIDTH - 2 * PAD
    blocks = []
    for b in notice["boards"]:
        names = "、".join(b["units"]) if b["units"] else "（无）"
        blocks.append((b, _wrap(probe, names, body, inner - 40)))
    closing = [ln for c in notice["closing"] for ln in _wrap(probe, c, body, inner)]
    title_lines = _wrap(probe, notice["title"], title, inner)
    height = PAD + 72 * len(title_lines) + 60 + sum(90 + 48 * len(lines) + 28 for _, lines in blocks) \
        + 48 * len(closing) + PAD + 20
    img = Image.new("RGB", (WIDTH, height), "#FFFFFF")
    d = ImageDraw.Draw(img)
    y = PAD
    for ln in title_lines:
        d.text((WIDTH / 2, y), ln, font=title, fill="#263238", anchor="mt")
        y += 72
    d.text((WIDTH / 2, y), f"辖内商户 {notice['units']} 户", font=body, fill="#607D8B", anchor="mt")
    y += 60
    for b, lines in blocks:
        box_h = 90 + 48 * len(lines)
        d.rounded_rectangle((PAD, y, WIDTH - PAD, y + box_h), radius=18, fill=b["ink"])
        d.text((PAD + 20, y + 18), f"{b['zh']}（{b['meaning']}）{len(b['units'])} 户", font=head, fill=b["text"])
        ty = y + 76
        for ln in lines:
            d.text((PAD + 20, ty), ln, font=body, fill=b["text"])
            ty += 48
        y += box_h + 28
    for ln in closing:
        d.text((PAD, y), ln, font=body, fill="#263238")
        y += 48
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()
