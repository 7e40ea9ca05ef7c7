"""Server-rendered HTML of a reporter's status page (`/r/{code}`): mobile first, Chinese, inline CSS, no scripts,
nothing loaded from elsewhere; the public unit page's skeleton and the party's case page's policy (images from
this server only: the report's photos, re-encoded). Nothing personal is rendered (ops.citizens.reports.status has none).
"""

from __future__ import annotations

import jinja2
from markupsafe import Markup

from .case_page import CSS as CASE_CSS
from .case_page import HEADERS as CASE_HEADERS
from .case_page import skinned

HEADERS = dict(CASE_HEADERS) | {"Content-Security-Policy": CASE_HEADERS["Content-Security-Policy"].replace(
    "form-action 'self'", "form-action 'none'")}

CSS = CASE_CSS + """
.top{background:#0B5CAD}
ol.steps{list-style:none;margin:4px 0 0;padding:0;position:relative}
ol.steps li{position:relative;padding:0 0 16px 34px;min-height:40px}
ol.steps li::before{content:"";position:absolute;left:9px;top:22px;bottom:0;width:2px;background:#D5DAE0}
ol.steps li:last-child::before{display:none}
ol.steps li i{position:absolute;left:0;top:2px;width:20px;height:20px;border-radius:50%;border:2px solid #A9B2BC;
  background:#fff}
ol.steps li.done i{background:#1E6B34;border-color:#1E6B34}
ol.steps li.done::before{background:#1E6B34}
ol.steps li.current i{background:#0B5CAD;border-color:#0B5CAD;box-shadow:0 0 0 4px #D6E6F7}
ol.steps li b{display:block;font-size:16px}
ol.steps li.todo b{color:#7A8691;font-weight:500}
ol.steps li span{font-size:13px;color:#5F6B76}
.code{font-size:26px;font-weight:700;letter-spacing:.12em}
.note{background:#F1F6FC;border-left:5px solid #0B5CAD}
.note p{margin:0}
.reward b{font-size:22px;color:#B3261E}
"""

BASE = skinned("随手拍 · 办理进度", "Your report · progress",
               'gridsvc 城市网格化管理 · 请妥善保存查询码，凭码查看进度 · <a href="/report">我要随手拍</a>')

STATUS = """{% extends "base" %}
{% block title %}随手拍 {{ r.code }} · {{ r.state_zh }}{% endblock %}
{% block main %}
<section class="card">
  <p class="kicker">查询码 <span class="en">Tracking code</span></p>
  <div class="code mono">{{ r.code }}</div>
  <h1>{{ r.category.zh or r.category.code }} <span class="state{% if r.state in ('verified', 'closed') %} done{% endif %}">{{ r.state_zh }}</span></h1>
  <dl class="kv">
    <dt>类别<span>Category</span></dt><dd>{{ r.category.kind_zh or "" }}{% if r.category.major_zh %} · {{ r.category.major_zh }}{% endif %}</dd>
    <dt>案件编号<span>Case</span></dt><dd class="mono">{{ r.case_code }}</dd>
    <dt>上报时间<span>Reported</span></dt><dd>{{ r.reported_at_zh }}</dd>
    {% if r.department_zh %}<dt>处理部门<span>Department</span></dt><dd>{{ r.department_zh }}</dd>{% endif %}
    {% if r.reporters > 1 %}<dt>关注人数<span>Reporters</span></dt><dd>{{ r.reporters }} 人反映此问题</dd>{% endif %}
    {% if r.description %}<dt>您的描述<span>You wrote</span></dt><dd>{{ r.description }}</dd>{% endif %}
  </dl>
</section>
<section class="card note"><p>{{ r.note_zh }}</p></section>
<section class="card">
  <h2>办理进度 <small>Progress</small></h2>
  {% if r.state not in ('accepted', 'registered', 'dispatched', 'rectified', 'verified', 'closed') %}<p><b>当前：{{ r.state_zh }}</b></p>{% endif %}
  <ol class="steps">{% for s in r.steps %}<li class="{% if s.current %}current{% elif s.done %}done{% else %}todo{% endif %}"><i></i><b>{{ s.label_zh if s.done else s.zh }}</b><span>{{ s.at_zh or ("办理中" if s.current else "待办理") }}</span></li>{% endfor %}</ol>
</section>
{% if r.reward %}
<section class="card reward">
  <h2>奖励 <small>Reward</small></h2>
  <p><b>¥{{ r.reward.amount }}</b> · {% if r.reward.paid %}已发放{% if r.reward.paid_on %}（{{ r.reward.paid_on }}）{% endif %}{% else %}待发放{% endif %}</p>
</section>
{% endif %}
{% if r.photos %}
<section class="card">
  <h2>您拍的照片 <small>Your photos (location data removed)</small></h2>
  <div class="photos">{% for p in r.photos %}<img src="/reports/{{ r.code }}/photos/{{ p }}.jpg" alt="上报照片 {{ loop.index }}" loading="lazy">{% endfor %}</div>
</section>
{% endif %}
{% if r.photos_after %}
<section class="card ok">
  <h2>整改后 <small>After</small></h2>
  <div class="photos">{% for p in r.photos_after %}<img src="/reports/{{ r.code }}/photos/{{ p }}.jpg" alt="整改后照片 {{ loop.index }}" loading="lazy">{% endfor %}</div>
</section>
{% endif %}
{% endblock %}
"""

NOT_FOUND = """{% extends "base" %}
{% block title %}未找到 · 随手拍{% endblock %}
{% block main %}
<section class="card notfound">
  <div class="big">404</div>
  <h1>未找到此查询码</h1>
  <p>请核对查询码（10位字母和数字）。</p>
  <p class="en">No report has this tracking code.</p>
</section>
{% endblock %}
"""

_ENV = jinja2.Environment(loader=jinja2.DictLoader({"base": BASE, "status": STATUS, "not_found": NOT_FOUND}),
                          autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_status(view: dict) -> str:
    """The page of a report from ops.citizens.reports.status."""
    return _ENV.get_template("status").render(css=Markup(CSS), r=view)


def render_not_found() -> str:
    """The page of an unknown tracking code (the code is not echoed)."""
    return _ENV.get_template("not_found").render(css=Markup(CSS))
