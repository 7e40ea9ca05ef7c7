/* gridsvc field page: a grid officer's phone. Plain JS, no framework, no map tiles. Log-in with POST /auth/token
   (the JWT in sessionStorage), the device position (WGS84, or GCJ-02 from Chinese apps, or typed), then who is
   responsible here (GET /lookup), the units around (GET /units/near), my grid's open cases by deadline
   (GET /cases?mine=true&open=true&order=deadline); report a case, act on one, inspect a unit. Every value from
   the server reaches the page as text (textContent), never as HTML. */
(function () {
  'use strict';
  var KEY = 'gridsvc.field.token';
  var S = {token: null, me: null, pos: null, cats: null};
  var $ = function (id) { return document.getElementById(id); };

  function h(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') { e.textContent = attrs[k]; } else if (k === 'on') { e.addEventListener('click', attrs[k]); }
      else if (k === 'cls') { e.className = attrs[k]; } else { e.setAttribute(k, attrs[k]); }
    });
    (kids || []).forEach(function (c) { if (c) { e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); } });
    return e;
  }
  function clear(e) { while (e.firstChild) { e.removeChild(e.firstChild); } return e; }
  function store(v) {
    try { if (v) { sessionStorage.setItem(KEY, v); } else { sessionStorage.removeItem(KEY); } } catch (e) { /* off */ }
  }
  function say(text, bad) {
    var m = $('msg');
    m.textContent = text || ''; m.hidden = !text; m.className = bad ? 'err' : '';
    if (text && !bad) { setTimeout(function () { if (m.textContent === text) { m.hidden = true; } }, 4000); }
  }

  /* fetch JSON; resolves {status, body, etag}; 401 logs out */
  function api(method, url, body, headers) {
    var opts = {method: method, headers: headers || {}};
    if (S.token) { opts.headers.Authorization = 'Bearer ' + S.token; }
    if (body instanceof FormData || body instanceof URLSearchParams) { opts.body = body; }
    else if (body !== undefined) { opts.headers['Content-Type'] = 'application/json'; opts.body = JSON.stringify(body); }
    return fetch(url, opts).then(function (r) {
      return r.text().then(function (t) {
        var b = null;
        try { b = t ? JSON.parse(t) : null; } catch (e) { b = {detail: t}; }
        if (r.status === 401 && S.token) { logout('登录已过期，请重新登录'); }
        return {status: r.status, body: b, etag: r.headers.get('ETag')};
      });
    }, function () { return {status: 0, body: {detail: '网络不通，请稍后再试'}}; });
  }
  function detail(r) {
    var d = r.body && r.body.detail;
    if (Array.isArray(d)) { d = d.map(function (e) { return (e.loc || []).slice(1).join('.') + ' ' + e.msg; }).join('；'); }
    return (typeof d === 'string' && d) || ('错误 ' + r.status);
  }
  function when(iso) {
    if (!iso) { return '—'; }
    var d = new Date(iso), p = function (n) { return (n < 10 ? '0' : '') + n; };
    return (d.getMonth() + 1) + '月' + d.getDate() + '日 ' + p(d.getHours()) + ':' + p(d.getMinutes());
  }
  function left(c) {
    if (!c.due_at) { return '无期限'; }
    var m = Math.round((new Date(c.due_at) - Date.now()) / 60000), a = Math.abs(m);
    var t = a >= 1440 ? Math.floor(a / 1440) + '天' : a >= 60 ? Math.floor(a / 60) + '小时' : a + '分钟';
    return m < 0 ? '已超期 ' + t : '剩余 ' + t;
  }

  /* ---- log-in ---- */
  function login(ev) {
    ev.preventDefault();
    var f = new URLSearchParams(new FormData($('loginForm')));
    api('POST', '/auth/token', f).then(function (r) {
      if (r.status !== 200) { say(r.status === 429 ? '尝试过多，请稍后再试' : '用户名或密码错误', true); return; }
      S.token = r.body.access_token; store(S.token); start();
    });
  }
  function logout(why) {
    S.token = null; S.me = null; store(null);
    $('sheet').hidden = true;
    $('app').hidden = true; $('login').hidden = false; $('logout').hidden = true; $('who').textContent = '';
    if (why) { say(why, true); }
  }
  function start() {
    api('GET', '/auth/me').then(function (r) {
      if (r.status !== 200 || !r.body.name) { logout(); return; }
      S.me = r.body;
      $('who').textContent = r.body.name; $('logout').hidden = false;
      $('login').hidden = true; $('app').hidden = false;
      loadCases(); loadCategories(); locate();
    });
  }

  /* ---- position ---- */
  function crs() { return $('gcj').checked ? 'gcj02' : 'wgs84'; }
  function locate() {
    if (!navigator.geolocation) { say('此设备不能定位，请手动输入经纬度', true); return; }
    $('where').textContent = '定位中…';
    navigator.geolocation.getCurrentPosition(function (p) {
      setPos(p.coords.longitude, p.coords.latitude, p.coords.accuracy);
    }, function (e) {
      $('where').textContent = '未能定位';
      say(e.code === 1 ? '未允许定位：请在浏览器设置中允许，或手动输入经纬度' : '定位失败，请重试或手动输入', true);
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 30000});
  }
  function manual(ev) {
    ev.preventDefault();
    var x = parseFloat($('lng').value), y = parseFloat($('lat').value);
    if (!isFinite(x) || !isFinite(y) || Math.abs(x) > 180 || Math.abs(y) > 90) { say('请输入有效的经度和纬度', true); return; }
    setPos(x, y, null);
  }
  function setPos(x, y, acc) {
    S.pos = {lng: +x.toFixed(6), lat: +y.toFixed(6), crs: crs()};
    $('where').textContent = S.pos.lng + ', ' + S.pos.lat + ' · ' + (S.pos.crs === 'gcj02' ? 'GCJ-02' : 'WGS84') +
      (acc ? ' · 精度约 ' + Math.round(acc) + ' 米' : '');
    loadHere(); loadUnits();
  }
  function at() { return 'lng=' + S.pos.lng + '&lat=' + S.pos.lat + '&crs=' + S.pos.crs; }

  /* ---- who is responsible here ---- */
  function loadHere() {
    var box = clear($('party'));
    box.textContent = '查询中…';
    api('GET', '/lookup?' + at()).then(function (r) {
      clear(box);
      if (r.status === 404) { box.textContent = '此处不在管理范围内'; return; }
      if (r.status !== 200) { box.textContent = detail(r); return; }
      var p = r.body.primary || {}, z = r.body.zone, o = r.body.grid_officer;
      var dl = h('dl');
      function row(k, v) { if (v) { dl.appendChild(h('dt', {text: k})); dl.appendChild(h('dd', {}, [v])); } }
      box.appendChild(h('div', {cls: 'who'}, [h('b', {text: p.name || '（无责任方）'}), p.kind_zh || '']));
      row('联系人', p.contact);
      if (p.phone) { row('电话', h('a', {cls: 'tel', href: 'tel:' + p.phone, text: p.phone})); }
      row('责任区', z ? z.kind_zh : '网格');
      row('网格', r.body.cell && r.body.cell.grid_code);
      row('网格员', o ? o.name : '未指定');
      if (p.duties && p.duties.length) { row('责任', p.duties.map(function (d) { return d.zh || d.name || d; }).join('、')); }
      box.appendChild(dl);
    });
  }

  /* ---- the units around ---- */
  function loadUnits() {
    var ul = clear($('units'));
    api('GET', '/units/near?' + at() + '&radius=80&limit=10').then(function (r) {
      clear(ul);
      var us = r.status === 200 ? r.body.units : [];
      if (!us.length) { ul.appendChild(h('li', {cls: 'muted', text: r.status === 200 ? '80 米内没有单位' : detail(r)})); return; }
      us.forEach(function (u) {
        var board = {red: '红牌', yellow: '黄牌', black: '黑牌'}[u.rating];
        ul.appendChild(h('li', {}, [
          h('div', {cls: 'main'}, [h('b', {text: u.name}), h('span', {}, [board ? h('i', {cls: 'tag ' + u.rating, text: board}) : null,
            Math.round(u.distance_m) + ' 米 · ' + (u.category || '') + (u.address ? ' · ' + u.address : '')])]),
          h('button', {text: '巡查', on: function () { inspect(u); }})]));
      });
    });
  }

  /* ---- my grid's open cases ---- */
  function loadCases() {
    var ul = clear($('cases'));
    if (!S.me || S.me.role !== 'grid_officer') {
      ul.appendChild(h('li', {cls: 'muted', text: '仅网格员账号显示本网格案件'})); return;
    }
    api('GET', '/cases?mine=true&open=true&order=deadline&limit=30').then(function (r) {
      clear(ul);
      var cs = r.status === 200 ? r.body.cases : [];
      if (!cs.length) { ul.appendChild(h('li', {cls: 'muted', text: r.status === 200 ? '本网格暂无待办案件' : detail(r)})); return; }
      cs.forEach(function (c) {
        ul.appendChild(h('li', {cls: c.overdue ? 'over' : ''}, [h('button', {cls: 'case main', on: function () { openCase(c.id); }}, [
          h('b', {text: (c.category.zh || c.category.code) + ' · ' + c.state_zh}),
          h('span', {text: c.description}),
          h('span', {text: c.code + (c.routing.party_name ? ' · ' + c.routing.party_name : '')}),
          h('span', {cls: 'due', text: (c.stage_zh || '') + '期限 ' + when(c.due_at) + ' · ' + left(c)})])]));
      });
    });
  }

  /* ---- photos: POST /uploads, one by one ---- */
  function upload(input, thumbs) {
    var files = Array.prototype.slice.call(input.files || []);
    return files.reduce(function (p, f) {
      return p.then(function (shas) {
        var fd = new FormData(); fd.append('file', f); fd.append('kind', 'photo');
        return api('POST', '/uploads', fd).then(function (r) {
          if (r.status !== 201 && r.status !== 200) { throw new Error('照片上传失败：' + detail(r)); }
          return shas.concat([r.body.sha256]);
        });
      });
    }, Promise.resolve([]));
  }
  function preview(input, thumbs) {
    clear(thumbs);
    Array.prototype.forEach.call(input.files || [], function (f) {
      thumbs.appendChild(h('img', {src: URL.createObjectURL(f), alt: '照片'}));
    });
  }

  /* ---- report a case here ---- */
  function loadCategories() {
    api('GET', '/cases/categories?brief=true').then(function (r) {
      if (r.status !== 200) { return; }
      S.cats = r.body;
      var sel = clear($('category'));
      sel.appendChild(h('option', {value: '', text: '请选择类别'}));
      var groups = {};
      r.body.categories.forEach(function (c) {
        var g = c.kind_zh + ' · ' + c.major_zh;
        if (!groups[g]) { groups[g] = h('optgroup', {label: g}); sel.appendChild(groups[g]); }
        groups[g].appendChild(h('option', {value: c.code, text: c.zh}));
      });
    });
  }
  function report(ev) {
    ev.preventDefault();
    if (!S.pos) { say('请先定位', true); return; }
    var btn = ev.target.querySelector('button'); btn.disabled = true;
    upload($('reportPhoto')).then(function (photos) {
      return api('POST', '/cases', {lng: S.pos.lng, lat: S.pos.lat, crs: S.pos.crs, category: $('category').value,
        description: $('desc').value, source: 'grid_officer', photos: photos});
    }).then(function (r) {
      if (r.status !== 201) { say('上报失败：' + detail(r), true); return; }
      say('已上报，案件号 ' + r.body.code);
      $('reportForm').reset(); clear($('reportThumbs')); loadCases();
    }, function (e) { say(e.message, true); }).then(function () { btn.disabled = false; });
  }

  /* ---- the sheet: one case, or an inspection ---- */
  function sheet(title) {
    if ($('sheet').hidden) { S.scroll = window.scrollY; }
    $('sheetTitle').textContent = title; $('sheet').hidden = false; $('app').hidden = true; window.scrollTo(0, 0);
    return clear($('sheetBody'));
  }
  function closeSheet() { $('sheet').hidden = true; $('app').hidden = false; window.scrollTo(0, S.scroll || 0); }

  function openCase(id) {
    var body = sheet('案件');
    api('GET', '/cases/' + id).then(function (r) {
      if (r.status !== 200) { body.appendChild(h('p', {cls: 'card', text: detail(r)})); return; }
      var c = r.body, card = h('section', {cls: 'card'});
      $('sheetTitle').textContent = '案件 ' + c.code;
      var dl = h('dl');
      [['状态', c.state_zh], ['类别', (c.category.zh || c.category.code)], ['描述', c.description],
       ['责任方', c.routing.party_name], ['部门', c.routing.department.zh], ['网格', c.routing.grid_code],
       ['期限', (c.stage_zh || '') + ' ' + when(c.due_at) + ' · ' + left(c)]].forEach(function (kv) {
        if (kv[1]) { dl.appendChild(h('dt', {text: kv[0]})); dl.appendChild(h('dd', {cls: kv[0] === '期限' && c.overdue ? 'overdue' : '', text: kv[1]})); }
      });
      card.appendChild(dl);
      var ev = h('ol', {cls: 'events'});
      (c.events || []).slice(-5).forEach(function (e) {
        ev.appendChild(h('li', {text: when(e.at) + ' ' + actionZh(e.action) + (e.note ? '：' + e.note : '')}));
      });
      card.appendChild(ev);
      body.appendChild(card);
      var acts = h('section', {cls: 'card'}, [h('h2', {text: '处理'})]);
      if (!c.allowed_actions.length) { acts.appendChild(h('p', {cls: 'muted', text: '当前状态下您没有可执行的操作'})); }
      var row = h('div', {cls: 'actions'});
      c.allowed_actions.forEach(function (a) {
        row.appendChild(h('button', {text: actionZh(a), on: function () { actionForm(c, r.etag, a, acts); }}));
      });
      acts.appendChild(row);
      body.appendChild(acts);
    });
  }
  function actionZh(a) {
    var x = S.cats && S.cats.actions[a];
    return x ? x.zh : ({report: '上报'}[a] || a);
  }
  function actionForm(c, etag, a, box) {
    var spec = (S.cats && S.cats.actions[a]) || {requires: []}, req = spec.requires || [];
    var old = box.querySelector('form'); if (old) { box.removeChild(old); }
    var note = h('textarea', {rows: '3', maxlength: '2000', placeholder: '说明' + (req.indexOf('note') >= 0 ? '（必填）' : '')});
    var photo = h('input', {type: 'file', accept: 'image/*', capture: 'environment', multiple: ''});
    var thumbs = h('div', {cls: 'thumbs'});
    photo.addEventListener('change', function () { preview(photo, thumbs); });
    var f = h('form', {}, [h('label', {}, ['说明', note]),
      h('label', {cls: 'file'}, ['拍照' + (req.indexOf('photos') >= 0 ? '（必填）' : ''), photo]), thumbs,
      h('button', {cls: 'primary wide', text: '确认' + actionZh(a)})]);
    f.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var btn = f.querySelector('button'); btn.disabled = true;
      upload(photo).then(function (photos) {
        var b = {action: a, photos: photos};
        if (note.value.trim()) { b.note = note.value.trim(); }
        return api('POST', '/cases/' + c.id + '/actions', b, {'If-Match': etag || '"' + c.id + '-' + c.version + '"'});
      }).then(function (r) {
        if (r.status === 200) { say(actionZh(a) + '：已提交'); loadCases(); openCase(c.id); return; }
        say(r.status === 412 ? '案件已被他人更新，已重新载入' : detail(r), true);
        if (r.status === 412 || r.status === 409) { openCase(c.id); }
      }, function (e) { say(e.message, true); }).then(function () { btn.disabled = false; });
    });
    box.appendChild(f);
  }

  /* ---- inspect a unit: GET /checklists?target=unit, GET /checklists/{id}, POST /inspections (201: the score,
     the failed items and the cases they opened) ---- */
  var NO_INSPECTIONS = '此服务器未开通巡查功能。可先用“上报问题”记录发现的问题。';
  var FREQ = {daily: '每日', weekly: '每周', monthly: '每月'};
  /* a 404 of a route the server does not have (FastAPI's bare "Not Found"), not of a missing record */
  function noRoute(r) { return r.status === 404 && (!r.body || r.body.detail === 'Not Found'); }
  /* the unit's checklist first: the one generated from its zone's duty policy, that policy's own lists, the
     general lists, then the other policies' */
  function rank(l, u) {
    if (l.generated && u.policy && l.policy === u.policy) { return 0; }
    if (!l.generated && u.policy && l.policy === u.policy) { return 1; }
    return l.generated ? 3 : l.policy ? 4 : 2;
  }
  /* a title without its English gloss: 门前三包 (three frontage duties) 责任检查 → 门前三包责任检查 */
  function zh(t) { return String(t).replace(/\s*[(（][^()（）]*[A-Za-z][^()（）]*[)）]\s*/g, ''); }
  function inspect(u) {
    var body = sheet('巡查 ' + u.name);
    var card = h('section', {cls: 'card'}, [h('h2', {text: u.name}), h('p', {cls: 'muted', text: (u.category || '') + (u.address ? ' · ' + u.address : '')})]);
    body.appendChild(card);
    api('GET', '/checklists?target=unit').then(function (r) {
      if (noRoute(r)) { card.appendChild(h('p', {cls: 'muted', text: NO_INSPECTIONS})); return; }
      if (r.status !== 200) { card.appendChild(h('p', {cls: 'muted', text: detail(r)})); return; }
      var lists = (Array.isArray(r.body) ? r.body : (r.body.checklists || [])).filter(function (l) {
        return !l.targets || l.targets.indexOf('unit') >= 0;
      });
      if (!lists.length) { card.appendChild(h('p', {cls: 'muted', text: '没有适用于单位的检查表'})); return; }
      lists = lists.map(function (l, i) { return [rank(l, u), i, l]; })
        .sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; }).map(function (x) { return x[2]; });
      var sel = h('select', {id: 'checklist'}, lists.map(function (l) {
        return h('option', {value: l.id, text: zh(l.zh || l.id)});
      }));
      var hidden = h('input', {type: 'checkbox', id: 'unannounced'});
      var items = h('div');
      card.appendChild(h('label', {}, ['检查表', sel]));
      card.appendChild(h('p', {cls: 'muted', text: rank(lists[0], u) === 0 ? '已按本单位责任区的“' + u.policy +
        '”责任选用检查表，可切换' : '可切换检查表'}));
      card.appendChild(h('label', {cls: 'check'}, [hidden, '暗访（未事先通知）']));
      card.appendChild(items);
      sel.addEventListener('change', function () { checklist(sel.value, u, items, hidden); });
      checklist(lists[0].id, u, items, hidden);
    });
  }
  function checklist(id, u, box, hidden) {
    clear(box).textContent = '载入中…';
    api('GET', '/checklists/' + encodeURIComponent(id)).then(function (r) {
      clear(box);
      if (r.status !== 200) { box.textContent = noRoute(r) ? NO_INSPECTIONS : detail(r); return; }
      var rows = [], scored = false;
      r.body.sections.forEach(function (s) {
        box.appendChild(h('h3', {text: s.zh}));
        s.items.forEach(function (it) {
          var name = 'i' + rows.length, note = h('input', {placeholder: '备注（选填）', maxlength: '500', 'aria-label': '备注'});
          var photo = h('input', {type: 'file', accept: 'image/*', capture: 'environment'}), thumbs = h('div', {cls: 'thumbs'});
          photo.addEventListener('change', function () { preview(photo, thumbs); });
          var open = h('input', {type: 'checkbox'}), openRow = h('label', {cls: 'check'}, [open, '不合格时立案']);
          openRow.hidden = true;
          var seg = h('div', {cls: 'seg'}, [['pass', '合格'], ['fail', '不合格'], ['na', '不适用']].map(function (o) {
            var radio = h('input', {type: 'radio', name: name, value: o[0]});
            radio.addEventListener('change', function () { openRow.hidden = o[0] !== 'fail'; if (o[0] !== 'fail') { open.checked = false; } });
            return h('label', {cls: o[0]}, [radio, o[1]]);
          }));
          if (it.score) { scored = true; }
          var tags = (it.score ? it.score + ' 分' : '') + (FREQ[it.frequency] ? (it.score ? ' · ' : '') + FREQ[it.frequency] : '');
          box.appendChild(h('div', {cls: 'item'}, [h('div', {cls: 'text'}, [it.text_zh, tags ? h('small', {text: tags}) : null]), seg, note,
            h('div', {cls: 'pair'}, [h('label', {cls: 'file'}, ['拍照', photo]), thumbs]), openRow]));
          rows.push({id: it.id, text: it.text_zh, box: seg, note: note, photo: photo, open: open});
        });
      });
      if (!scored) { box.appendChild(h('p', {cls: 'muted', text: '本表不计分，按合格项比例计合格率'})); }
      var btn = h('button', {cls: 'primary wide', text: '提交巡查结果'});
      btn.addEventListener('click', function () { submitInspection(r.body, u, rows, btn, hidden); });
      box.appendChild(btn);
    });
  }
  function submitInspection(list, u, rows, btn, hidden) {
    var missing = rows.filter(function (x) { return !x.box.querySelector('input:checked'); });
    if (missing.length) { say('还有 ' + missing.length + ' 项未选择结果', true); return; }
    btn.disabled = true;
    rows.reduce(function (p, x) {
      return p.then(function (out) {
        return upload(x.photo).then(function (photos) {
          var res = x.box.querySelector('input:checked').value;
          return out.concat([{item: x.id, result: res, note: x.note.value.trim() || null, photos: photos,
            open_case: res === 'fail' && x.open.checked}]);
        });
      });
    }, Promise.resolve([])).then(function (results) {
      var p = S.pos || {lng: u.lng, lat: u.lat, crs: 'wgs84'};
      return api('POST', '/inspections', {target_kind: 'unit', target_id: u.id, checklist: list.id,
        inspector_kind: 'grid_officer', source: 'field', unannounced: hidden.checked, lng: p.lng, lat: p.lat, crs: p.crs, results: results});
    }).then(function (r) {
      if (r.status === 201) { say('巡查已记录'); inspected(r.body, u); loadCases(); return; }
      say(noRoute(r) ? NO_INSPECTIONS : r.status === 403 ? '该单位不在您负责的网格内，不能巡查' : '提交失败：' + detail(r), true);
    }, function (e) { say(e.message, true); }).then(function () { btn.disabled = false; });
  }
  function catZh(code) {
    var c = S.cats && S.cats.categories.filter(function (x) { return x.code === code; })[0];
    return c ? c.zh : code;
  }
  /* the 201 answer: score, the failed items, the cases opened from them */
  function inspected(ins, u) {
    var body = sheet('巡查结果 ' + u.name), card = h('section', {cls: 'card result'});
    var pct = ins.percent === null || ins.percent === undefined ? '' : ins.percent + '%';
    card.appendChild(h('div', {cls: 'verdict ' + (ins.passed ? 'ok' : 'bad'), text: ins.passed ? '合格' : '不合格 ' + ins.items_failed + ' 项'}));
    var dl = h('dl');
    function row(k, v) { if (v) { dl.appendChild(h('dt', {text: k})); dl.appendChild(h('dd', {text: v})); } }
    row('单位', u.name);
    row('检查表', zh(ins.checklist.zh || ins.checklist.id));
    row('得分', ins.max_score ? ins.score + ' / ' + ins.max_score + ' 分（' + pct + '）' : pct ? '合格率 ' + pct : '');
    row('检查项', ins.items_total + ' 项，不合格 ' + ins.items_failed + ' 项');
    row('责任方', ins.routing.party_name);
    row('网格', ins.routing.grid_code);
    row('时间', when(ins.inspected_at) + (ins.unannounced ? ' · 暗访' : ''));
    card.appendChild(dl);
    body.appendChild(card);
    var failed = ins.results.filter(function (x) { return x.result === 'fail'; });
    if (failed.length) {
      var ul = h('ul', {cls: 'list'});
      failed.forEach(function (x) {
        var c = ins.cases.filter(function (k) { return k.inspection_item === x.item; })[0];
        ul.appendChild(h('li', {}, [h('div', {cls: 'main'}, [h('b', {text: x.text_zh || x.item}),
          h('span', {text: (x.note ? '备注：' + x.note + ' · ' : '') + (x.photos.length ? x.photos.length + ' 张照片 · ' : '') +
            (c ? '已立案 ' + c.code + '（' + catZh(c.category) + '）' : '未立案')})]),
          c ? h('button', {text: '查看案件', on: function () { openCase(c.id); }}) : null]));
      });
      body.appendChild(h('section', {cls: 'card', id: 'failed'}, [h('h2', {text: '不合格项'}), ul]));
    }
    body.appendChild(h('section', {cls: 'card'}, [h('button', {cls: 'primary wide', text: '完成', on: closeSheet})]));
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('loginForm').addEventListener('submit', login);
    $('logout').addEventListener('click', function () { logout(); });
    $('locate').addEventListener('click', locate);
    $('manual').addEventListener('submit', manual);
    $('gcj').addEventListener('change', function () { if (S.pos) { S.pos.crs = crs(); setPos(S.pos.lng, S.pos.lat, null); } });
    $('reportForm').addEventListener('submit', report);
    $('reportPhoto').addEventListener('change', function () { preview($('reportPhoto'), $('reportThumbs')); });
    $('back').addEventListener('click', closeSheet);
    try { S.token = sessionStorage.getItem(KEY); } catch (e) { S.token = null; }
    if (S.token) { start(); }
  });
}());
