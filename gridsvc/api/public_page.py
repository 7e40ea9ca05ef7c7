"""Server-rendered HTML of the public unit page (一户一码) and its 404: mobile first, inline CSS, no scripts.

Every value goes through Jinja2 autoescaping; the only markup let through unescaped is the zone sketch,
which gridsvc.maps.zone_sketch builds with its own labels escaped. The board's labels and colours come from
ratings.toml (gridsvc.ops.rules.ratings), as the checklist PDF's do; the page never loads reportlab.
"""

from __future__ import annotations

import jinja2
from markupsafe import Markup

from ..ops.rules.ratings import load_ratings

FONT_STACK = ('"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", '
              '"Microsoft YaHei", system-ui, sans-serif')
# The page loads nothing: styles are inline, images are inline SVG, and nothing else is allowed.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; " \
      "frame-ancestors 'none'"
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Cache-Control": "no-cache"}

CSS = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#EEF1F4;color:#1F2D3D;font:16px/1.55 $FONT}
.top{background:#B3261E;color:#fff;padding:14px 16px 12px}
.top .t{font-size:19px;font-weight:700;letter-spacing:.04em}
.top .s{font-size:13px;opacity:.9}
main{max-width:560px;margin:0 auto;padding:12px 12px 4px}
.card{background:#fff;border-radius:10px;padding:14px 16px;margin:0 0 12px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.kicker{margin:0;font-size:13px;color:#5F6B76}
h1{margin:2px 0 6px;font-size:24px;line-height:1.3;overflow-wrap:anywhere}
h2{margin:0 0 10px;font-size:18px;display:flex;align-items:baseline;gap:8px;flex-wrap:wrap}
h2 small{font-size:13px;font-weight:400;color:#5F6B76}
.en{color:#5F6B76;font-size:13px;line-height:1.45}
.muted{color:#5F6B76}
dl.kv{display:grid;grid-template-columns:auto 1fr;gap:6px 14px;margin:0}
dl.kv dt{color:#5F6B76;font-size:14px;line-height:1.4}
dl.kv dt span{display:block;font-size:12px}
dl.kv dd{margin:0;font-weight:600;overflow-wrap:anywhere}
.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;letter-spacing:.02em}
.board{display:flex;align-items:stretch;gap:12px;padding:0;overflow:hidden}
.board .plate{flex:0 0 42%;display:flex;flex-direction:column;justify-content:center;align-items:center;
  padding:16px 8px;text-align:center;border-right:1px solid rgba(0,0,0,.08)}
.board .plate b{font-size:36px;line-height:1.1;letter-spacing:.08em}
.board .plate span{font-size:13px;margin-top:4px;opacity:.95}
.board .facts{flex:1;padding:14px 14px 14px 4px;display:flex;flex-direction:column;justify-content:center}
.board .points{font-size:30px;font-weight:700;line-height:1.1}
.board .points small{font-size:14px;font-weight:400;color:#5F6B76}
.board.unrated .plate{border:2px dashed #9AA5B1;border-radius:10px 0 0 10px}
.sketch{margin:0 -4px}
.sketch svg{display:block;width:100%;height:auto;border-radius:6px;border:1px solid #D5DAE0}
.sketch svg text{font-family:$FONT}
.sketch .street-name{font-size:13px;fill:#44505C;paint-order:stroke;stroke:#fff;stroke-width:3.5px;
  stroke-linejoin:round}
.sketch .north-label,.sketch .scale-label{font-size:12px;fill:#1F2D3D;font-weight:600}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;margin:8px 0 4px;font-size:13px;color:#44505C}
.legend i{display:inline-block;width:14px;height:14px;margin-right:5px;vertical-align:-2px;border-radius:2px}
ul.zones{list-style:none;margin:8px 0 0;padding:0}
ul.zones li{padding:8px 0;border-top:1px solid #EEF1F4}
ol.duties{list-style:none;margin:0;padding:0;counter-reset:d}
ol.duties li{position:relative;padding:10px 0 10px 40px;border-top:1px solid #EEF1F4;counter-increment:d}
ol.duties li:first-child{border-top:0;padding-top:2px}
ol.duties li::before{content:counter(d);position:absolute;left:0;top:10px;width:28px;height:28px;
  border-radius:50%;background:#B3261E;color:#fff;font-weight:700;text-align:center;line-height:28px}
ol.duties li:first-child::before{top:2px}
ol.duties b{font-size:17px}
ol.duties .zh{margin:4px 0 0}
ol.duties .en{margin:2px 0 0}
.report{border-left:5px solid #B3261E}
.report p{margin:0 0 6px}
footer{max-width:560px;margin:0 auto;padding:4px 16px 24px;font-size:12px;color:#7A8691;text-align:center}
.notfound{text-align:center;padding:28px 18px}
.notfound .big{font-size:56px;font-weight:700;color:#B3261E;line-height:1}
""".replace("$FONT", FONT_STACK)

BASE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<meta name="referrer" content="no-referrer">
<title>{% block title %}{% endblock %}</title>
<style>{{ css }}</style>
</head>
<body>
<header class="top"><div class="t">门前三包 · 责任公示</div><div class="s">Frontage duties · public notice 一户一码</div></header>
<main>
{% block main %}{% endblock %}
</main>
<footer>gridsvc 城市网格化管理 · city grid management{% block footer %}{% endblock %}</footer>
</body>
</html>
"""

UNIT = """{% extends "base" %}
{% block title %}{{ unit.label }} · 门前三包责任公示{% endblock %}
{% block main %}
<section class="card">
  <p class="kicker">责任单位 <span class="en">Responsible unit</span></p>
  <h1 class="name">{{ unit.label }}</h1>
  {% if not unit.name %}<p class="muted">名称未登记，按类别显示 <span class="en">Name not recorded</span></p>{% endif %}
  <dl class="kv">
    <dt>地址<span>Address</span></dt><dd>{{ unit.address or "未登记" }}{% if not unit.address %} <span class="en">not recorded</span>{% endif %}</dd>
  </dl>
</section>

<section class="card board{% if rating.value is none %} unrated{% endif %}" aria-label="评级 Rating">
  <div class="plate" style="background:{{ board[0] }};color:{{ board[1] }}">
    <b class="rating">{{ rating.label }}</b><span>{{ rating.en }}</span>
  </div>
  <div class="facts">
    <div class="muted">当前评级 <span class="en">Current rating</span></div>
    <div>{{ rating.meaning_zh }} <span class="en">{{ rating.meaning_en }}</span></div>
    <div class="points">{{ rating.credit_points if rating.credit_points is not none else "—" }} <small>信用分 credit points</small></div>
    {% if rating.stars %}<div class="stars">{{ "★" * rating.stars }} <small>{{ rating.stars }}星商户 {{ rating.stars }}-star shop</small></div>{% endif %}
    {% if rating.rated_at %}<div class="en">评定日期 Rated on {{ rating.rated_at[:10] }}</div>{% endif %}
  </div>
</section>

<section class="card">
  <h2>责任区 <small>Duty zone</small></h2>
  <div class="sketch">{{ sketch }}</div>
  <div class="legend"><span><i style="background:rgba(229,57,53,.45);border:1.5px solid #B3261E"></i>责任区 zone</span>
    <span><i style="background:#90A4AE;border:1px solid #37474F"></i>本单位建筑 building</span>
    <span><i style="background:#fff;border:2px solid #B3261E;border-radius:50%"></i>单位位置 unit</span>
    <span><i style="background:#fff;border:1.5px solid #A9B2BC"></i>道路 street</span></div>
  {% if zones %}
  <ul class="zones">
  {% for z in zone_groups %}
    <li>沿<b>{{ z.street_name or "无名道路" }}</b>{% if z.frontage_m %}，长约 {{ "%.0f"|format(z.frontage_m) }} 米{% endif %}{% if z.area_m2 %}，面积约 {{ "%.0f"|format(z.area_m2) }} 平方米{% endif %}，进深{{ z.depth_zh }}。
      <div class="en">Along {{ z.street_name or "an unnamed street" }}{% if z.frontage_m %}, about {{ "%.0f"|format(z.frontage_m) }} m long{% endif %}{% if z.area_m2 %}, about {{ "%.0f"|format(z.area_m2) }} m²{% endif %}, reaching {{ z.depth_en }} · 责任区编号 zone no. {{ z.zone_ids|join(", ") }}</div></li>
  {% endfor %}
  </ul>
  {% else %}
  <p>尚未划定门前责任区。<span class="en">No frontage zone has been drawn for this unit yet.</span></p>
  {% endif %}
</section>

<section class="card">
  <h2>责任内容 <small>Duties{% if policy %} · {{ policy.label }}{% endif %}</small></h2>
  {% if duties %}
  <ol class="duties">
  {% for d in duties %}
    <li><b>{{ d.zh }}</b> <span class="en">{{ d.en }}</span><p class="zh">{{ d.description_zh }}</p><p class="en">{{ d.description }}</p></li>
  {% endfor %}
  </ol>
  {% else %}
  <p>尚无责任内容。<span class="en">No duties recorded yet.</span></p>
  {% endif %}
</section>

<section class="card">
  <h2>网格 <small>Grid and grid officer</small></h2>
  <dl class="kv">
    <dt>网格编码<span>Grid code</span></dt><dd class="mono">{{ grid.code or "—" }}</dd>
    <dt>网格员<span>Grid officer</span></dt><dd>{{ grid.officer.name if grid.officer else "暂未配备" }}{% if not grid.officer %} <span class="en">not assigned yet</span>{% endif %}</dd>
    {% if grid.officer and grid.officer.phone %}<dt>电话<span>Phone</span></dt><dd class="mono phone">{{ grid.officer.phone }}</dd>{% endif %}
  </dl>
</section>

<section class="card report">
  <h2>问题反映 <small>Report a problem</small></h2>
  <p>{{ report.zh }}</p>
  <p class="en">{{ report.en }}</p>
</section>
{% endblock %}
{% block footer %} · 编码 code <span class="mono">{{ code }}</span>{% endblock %}
"""

NOT_FOUND = """{% extends "base" %}
{% block title %}未找到责任单位 · Not found{% endblock %}
{% block main %}
<section class="card notfound">
  <div class="big">404</div>
  <h1>未找到该责任单位</h1>
  <p>此二维码对应的编码 <span class="mono">{{ code }}</span> 不存在或已停用。请核对责任牌上的编码，或联系所在社区。</p>
  <p class="en">No unit has this code. The board may have been replaced: check the code printed on it or ask the
  community office.</p>
</section>
{% endblock %}
"""

_ENV = jinja2.Environment(loader=jinja2.DictLoader({"base": BASE, "unit": UNIT, "not_found": NOT_FOUND}),
                          autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def zone_groups(zones: list[dict]) -> list[dict]:
    """The unit's zones added up per street and depth rule (OSM cuts one street into many ways)."""
    groups: dict[tuple, dict] = {}
    for z in zones:
        key = (z["street_name"] or f"#{z['street_id']}", z["depth_rule"])
        g = groups.setdefault(key, {"street_name": z["street_name"], "depth_zh": z["depth_zh"],
                                    "depth_en": z["depth_en"], "frontage_m": 0.0, "area_m2": 0.0, "zone_ids": []})
        g["frontage_m"] += z["frontage_m"] or 0.0
        g["area_m2"] += z["area_m2"] or 0.0
        g["zone_ids"].append(z["zone_id"])
    return list(groups.values())


def render_unit(data: dict, sketch_svg: str) -> str:
    """The page of one unit from public_units.public_unit(...).data and its sketch SVG (already safe)."""
    sign = load_ratings().sign_for(data["rating"]["value"])
    board = (sign.page, sign.page_text)  # board colours (ratings.toml [signs]): background, text
    return _ENV.get_template("unit").render(css=Markup(CSS), sketch=Markup(sketch_svg), board=board,
                                            zone_groups=zone_groups(data["zones"]), **data)


def render_not_found(code: str) -> str:
    """The 404 page for a code (shown escaped, cut to 64 characters)."""
    return _ENV.get_template("not_found").render(css=Markup(CSS), code=str(code)[:64])
