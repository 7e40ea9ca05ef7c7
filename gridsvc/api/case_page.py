"""Server-rendered HTML of the party's case page (`/c/{token}`, behind a notice's QR code): mobile first, Chinese
first, inline CSS, no scripts, nothing loaded from elsewhere. The public unit page's styles and rules
(gridsvc/api/public_page.py), with two differences in the policy: images from this server (the case's photos,
re-encoded) and a form posting back to it (the rectification).
"""

from __future__ import annotations

import jinja2
from markupsafe import Markup

from .public_page import BASE as PUBLIC_BASE
from .public_page import CSS as PUBLIC_CSS

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Cache-Control": "no-store", "X-Robots-Tag": "noindex"}

CSS = PUBLIC_CSS + """
.state{display:inline-block;padding:2px 10px;border-radius:999px;font-size:14px;font-weight:700;
  background:#E8EEF5;color:#1F4E79;vertical-align:3px}
.state.done{background:#E6F4EA;color:#1E6B34}
.due{font-size:18px;font-weight:700}
.due.late{color:#B3261E}
.left{display:inline-block;margin-left:6px;font-size:14px;font-weight:600;color:#1E6B34}
.left.late{color:#B3261E}
.photos{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:8px;margin:6px 0 0}
.photos img{display:block;width:100%;height:auto;border-radius:6px;border:1px solid #D5DAE0}
form label{display:block;font-weight:600;margin:10px 0 4px}
form textarea{width:100%;min-height:88px;font:inherit;padding:8px;border:1px solid #A9B2BC;border-radius:8px}
form input[type=file]{width:100%;font:inherit;padding:8px 0}
form button{width:100%;margin-top:14px;padding:12px;font:inherit;font-size:18px;font-weight:700;color:#fff;
  background:#B3261E;border:0;border-radius:10px}
.hint{font-size:13px;color:#5F6B76;margin:4px 0 0}
.ok{border-left:5px solid #1E6B34}
.ok h2{color:#1E6B34}
.err{border-left:5px solid #B3261E;color:#B3261E}
ol.events{list-style:none;margin:0;padding:0;font-size:14px}
ol.events li{padding:6px 0;border-top:1px solid #EEF1F4;display:flex;justify-content:space-between;gap:10px}
ol.events li:first-child{border-top:0}
"""

_HEADER = ('<header class="top"><div class="t">门前三包 · 责任公示</div><div class="s">Frontage duties · public notice '
           '一户一码</div></header>')
_FOOTER = "<footer>gridsvc 城市网格化管理 · city grid management{% block footer %}{% endblock %}</footer>"
assert _HEADER in PUBLIC_BASE and _FOOTER in PUBLIC_BASE


def skinned(title: str, subtitle: str, footer: str) -> str:
    """The public page's skeleton with another banner and footer (fixed markup of gridsvc's, never data)."""
    return PUBLIC_BASE.replace(_HEADER, f'<header class="top"><div class="t">{title}</div><div class="s">{subtitle}'
                                        '</div></header>').replace(_FOOTER, f"<footer>{footer}</footer>")


BASE = skinned("门前责任 · 整改反馈", "Your case · report it rectified",
               "gridsvc 城市网格化管理 · 本页面仅用于此案件，请勿转发 · this link opens this one case only")

CASE = """{% extends "base" %}
{% block title %}案件 {{ c.code }} · {{ c.state_zh }}{% endblock %}
{% block main %}
{% if error %}<section class="card err" role="alert"><b>提交未成功：</b>{{ error }}</section>{% endif %}
<section class="card">
  <p class="kicker">案件编号 <span class="en">Case</span> <span class="mono">{{ c.code }}</span></p>
  <h1>{{ c.category.zh or c.category.code }} <span class="state{% if c.submitted or c.state in ('verified', 'closed') %} done{% endif %}">{{ c.state_zh }}</span></h1>
  <dl class="kv">
    {% if c.party %}<dt>责任单位<span>Party</span></dt><dd>{{ c.party }}</dd>{% endif %}
    <dt>问题<span>Problem</span></dt><dd>{{ c.description }}</dd>
    <dt>类别<span>Category</span></dt><dd>{{ c.category.major_zh or "" }}{% if c.category.major_zh %} · {% endif %}{{ c.category.zh or c.category.code }}</dd>
    <dt>发现时间<span>Found</span></dt><dd>{{ c.reported_at_zh }}</dd>
    <dt>地点<span>Place</span></dt><dd>网格 <span class="mono">{{ c.grid_code or "—" }}</span>{% if c.grid_officer %}，网格员 {{ c.grid_officer }}{% endif %}</dd>
    {% if c.deadline_zh %}<dt>整改期限<span>Deadline</span></dt><dd><span class="due{% if c.overdue %} late{% endif %}">{{ c.deadline_zh }}</span>{% if c.time_left_zh %} <span class="left{% if c.overdue %} late{% endif %}">{{ c.time_left_zh }}</span>{% endif %}</dd>{% endif %}
  </dl>
</section>
{% if c.photos_before %}
<section class="card">
  <h2>现场照片 <small>Photos of the problem</small></h2>
  <div class="photos">{% for p in c.photos_before %}<img src="/c/{{ token }}/photos/{{ p }}.jpg" alt="现场照片 {{ loop.index }}" loading="lazy">{% endfor %}</div>
</section>
{% endif %}
{% if c.submitted %}
<section class="card ok" id="submitted">
  <h2>已提交整改，待核查 <small>Submitted, waiting for verification</small></h2>
  <p>感谢您的配合！网格员或核查人员将到现场核查，核查结果会在本页显示。</p>
  {% if c.photos_after %}<div class="photos">{% for p in c.photos_after %}<img src="/c/{{ token }}/photos/{{ p }}.jpg" alt="整改后照片 {{ loop.index }}">{% endfor %}</div>{% endif %}
</section>
{% elif c.can_rectify %}
<section class="card">
  <h2>整改反馈 <small>Report it rectified</small></h2>
  <form method="post" action="/c/{{ token }}/rectify" enctype="multipart/form-data">
    <input type="hidden" name="version" value="{{ c.version }}">
    <label for="note">整改说明 <span class="en">What was done</span></label>
    <textarea id="note" name="note" maxlength="2000" required placeholder="例如：门前垃圾已清扫干净，杂物已搬回店内。"></textarea>
    <label for="photo">整改后照片 <span class="en">Photo after</span></label>
    <input id="photo" name="photo" type="file" accept="image/jpeg,image/png,image/webp" capture="environment" required>
    <p class="hint">请拍摄整改后的现场照片。照片的拍摄位置等附加信息会被去除。</p>
    <button type="submit">提交整改</button>
  </form>
</section>
{% elif c.state in ('verified', 'closed') %}
<section class="card ok"><h2>已核查通过 <small>Verified</small></h2><p>本案已核查通过，感谢您的配合。</p></section>
{% else %}
<section class="card"><h2>当前状态：{{ c.state_zh }}</h2><p class="muted">本案当前无需您操作。如有疑问，请联系网格员。</p></section>
{% endif %}
<section class="card">
  <h2>办理记录 <small>History</small></h2>
  <ol class="events">{% for e in c.events %}<li><span>{{ e.to_state_zh or e.action }}</span><span class="muted">{{ e.at_zh }}</span></li>{% endfor %}</ol>
</section>
{% endblock %}
"""

GONE = """{% extends "base" %}
{% block title %}{{ title }}{% endblock %}
{% block main %}
<section class="card notfound">
  <div class="big">{{ status }}</div>
  <h1>{{ title }}</h1>
  <p>{{ zh }}</p>
  <p class="en">{{ en }}</p>
</section>
{% endblock %}
"""

_ENV = jinja2.Environment(loader=jinja2.DictLoader({"base": BASE, "case": CASE, "gone": GONE}),
                          autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_case(view: dict, token: str, error: str | None = None) -> str:
    """The page of a case from party_cases.party_view."""
    return _ENV.get_template("case").render(css=Markup(CSS), c=view, token=token, error=error)


def render_gone(status: int) -> str:
    """The page of a link that is not valid (404) or has expired (410)."""
    if status == 410:
        return _ENV.get_template("gone").render(
            css=Markup(CSS), status=410, title="链接已过期",
            zh="此案件链接已超过有效期。请联系网格员或通知单上的发文单位重新获取。",
            en="This case link has expired: ask the grid officer or the office on the notice for a new one.")
    return _ENV.get_template("gone").render(
        css=Markup(CSS), status=404, title="链接无效",
        zh="未找到此链接对应的案件。请重新扫描通知单上的二维码，或联系网格员。",
        en="This link opens no case: scan the QR code on the notice again, or ask the grid officer.")
