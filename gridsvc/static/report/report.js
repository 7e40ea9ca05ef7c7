/* gridsvc 随手拍: the public report page. Plain JS, no framework, no map tiles, nothing from elsewhere.
   Photos from the camera; the position from the device (WGS84), typed (WGS84 or GCJ-02) or nudged by 10 m steps,
   with the responsible area from GET /lookup; categories from GET /cases/categories?brief=true; while filling in,
   open cases of the same category nearby from GET /reports/suggestions, any of which the reporter may follow
   instead of filing a new one; POST /reports (multipart) answers the tracking code, kept in localStorage.
   Every value from the server reaches the page as text (textContent), never as HTML. */
(function () {
  'use strict';
  var MINE = 'gridsvc.reports.mine';
  var S = {pos: null, files: [], follow: null, cats: {}};
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
  function say(text, bad, link) {
    var m = clear($('msg'));
    m.hidden = !text; m.className = bad ? 'err' : '';
    if (!text) { return; }
    m.appendChild(document.createTextNode(text));
    if (link) { m.appendChild(document.createTextNode(' ')); m.appendChild(h('a', {href: link.href, text: link.text})); }
    if (!bad) { setTimeout(function () { if (m.firstChild && m.firstChild.nodeValue === text) { m.hidden = true; } }, 4000); }
  }
  function api(method, url, body) {
    var opts = {method: method, headers: {Accept: 'application/json'}};
    if (body) { opts.body = body; }
    return fetch(url, opts).then(function (r) {
      return r.text().then(function (t) {
        var b = null;
        try { b = t ? JSON.parse(t) : null; } catch (e) { b = {detail: t}; }
        return {status: r.status, body: b || {}};
      });
    }, function () { return {status: 0, body: {detail: '网络不通，请稍后再试'}}; });
  }

  /* ---- photos ---- */
  function photos() {
    var fs = Array.prototype.slice.call($('photo').files || []);
    S.files = S.files.concat(fs).slice(0, 6);
    var box = clear($('thumbs'));
    S.files.forEach(function (f, i) {
      box.appendChild(h('img', {src: URL.createObjectURL(f), alt: '照片 ' + (i + 1)}));
    });
    if (S.files.length) { box.appendChild(h('button', {type: 'button', text: '清除照片', on: function () {
      S.files = []; clear(box); $('photo').value = '';
    }})); }
  }

  /* ---- position ---- */
  function crs() { return $('gcj').checked ? 'gcj02' : 'wgs84'; }
  function locate() {
    if (!navigator.geolocation) { say('此设备不能定位，请手动输入经纬度', true); $('manualBox').open = true; return; }
    $('where').textContent = '定位中…';
    navigator.geolocation.getCurrentPosition(function (p) {
      $('gcj').checked = false;
      setPos(p.coords.longitude, p.coords.latitude, p.coords.accuracy);
    }, function (e) {
      $('where').textContent = '未能定位。请手动输入经纬度，或使用带位置信息的照片。';
      $('manualBox').open = true;
      say(e.code === 1 ? '未允许定位：可在浏览器设置中允许，或手动输入经纬度' : '定位失败，请重试或手动输入', true);
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 30000});
  }
  function manual() {
    var x = parseFloat($('lng').value), y = parseFloat($('lat').value);
    if (!isFinite(x) || !isFinite(y) || Math.abs(x) > 180 || Math.abs(y) > 90) { say('请输入有效的经度和纬度', true); return; }
    setPos(x, y, null);
  }
  function nudge(ev) {
    var d = ev.target.getAttribute('data-d');
    if (!d) { return; }
    if (!S.pos) { say('请先定位或输入经纬度', true); return; }
    var p = d.split(','), m = 10;
    var dy = +p[1] * m / 111320, dx = +p[0] * m / (111320 * Math.cos(S.pos.lat * Math.PI / 180));
    setPos(S.pos.lng + dx, S.pos.lat + dy, null, S.pos.crs);
  }
  function setPos(x, y, acc, keepCrs) {
    S.pos = {lng: +x.toFixed(6), lat: +y.toFixed(6), crs: keepCrs || crs()};
    $('lng').value = S.pos.lng; $('lat').value = S.pos.lat;
    $('where').textContent = '位置：' + S.pos.lng + ', ' + S.pos.lat + (S.pos.crs === 'gcj02' ? '（GCJ-02）' : '') +
      (acc ? ' · 精度约 ' + Math.round(acc) + ' 米' : '');
    loadArea(); loadSuggestions();
  }
  function at() { return 'lng=' + S.pos.lng + '&lat=' + S.pos.lat + '&crs=' + S.pos.crs; }
  function loadArea() {
    var box = $('area');
    api('GET', '/lookup?' + at()).then(function (r) {
      clear(box); box.hidden = false;
      if (r.status === 404) { box.textContent = '此位置不在本平台管理范围内，上报后将由指挥中心转办。'; return; }
      if (r.status !== 200) { box.hidden = true; return; }
      var z = r.body.zone, street = z && z.street && typeof z.street.name === 'string' ? z.street.name : '', p = r.body.primary;
      box.appendChild(h('b', {text: '所在区域：' + (street ? street + ' · ' : '') + (z ? z.kind_zh : '网格')}));
      box.appendChild(h('div', {cls: 'muted', text: (p && p.name && p.kind !== 'grid_officer' ? '责任单位：' + p.name + ' · ' : '') +
        '网格 ' + ((r.body.cell && r.body.cell.grid_code) || '—')}));
    });
  }

  /* ---- categories ---- */
  function loadCategories() {
    api('GET', '/cases/categories?brief=true').then(function (r) {
      if (r.status !== 200) { say('类别加载失败，请刷新页面', true); return; }
      var sel = $('category'), groups = {};
      r.body.categories.forEach(function (c) {
        S.cats[c.code] = c;
        var g = (c.kind_zh || '') + (c.major_zh ? ' · ' + c.major_zh : '');
        if (!groups[g]) { groups[g] = h('optgroup', {label: g}); sel.appendChild(groups[g]); }
        groups[g].appendChild(h('option', {value: c.code, text: c.zh}));
      });
    });
  }

  /* ---- possible duplicates ---- */
  function loadSuggestions() {
    var cat = $('category').value, card = $('sugCard'), ul = $('sugs');
    if (!S.pos || !cat) { card.hidden = true; return; }
    api('GET', '/reports/suggestions?' + at() + '&category=' + encodeURIComponent(cat)).then(function (r) {
      clear(ul);
      var list = r.status === 200 ? r.body.suggestions : [];
      card.hidden = !list.length;
      list.forEach(function (s) {
        var mine = S.follow === s.code;
        ul.appendChild(h('li', {}, [
          h('div', {cls: 'main'}, [h('b', {text: s.category_zh + ' · ' + s.state_zh}),
            h('span', {text: '距此 ' + Math.round(s.distance_m) + ' 米 · ' + s.reported_on + ' 上报' +
              (s.reporters ? ' · ' + s.reporters + ' 位市民反映' : '')}),
            h('span', {cls: 'mono', text: '案件 ' + s.code})]),
          h('button', {type: 'button', cls: mine ? 'primary' : '', text: mine ? '已选择' : '关注此问题',
            on: function () { follow(s.code); }})]));
      });
    });
  }
  function follow(code) {
    S.follow = code;
    $('followCard').hidden = !code; $('followCode').textContent = code || '';
    $('submit').textContent = code ? '关注此案件' : '提交上报';
    loadSuggestions();
    if (code) { $('followCard').scrollIntoView({block: 'center'}); }
  }

  /* ---- submit ---- */
  function submit(ev) {
    ev.preventDefault();
    if (!S.follow) {
      if (!S.files.length) { say('请先拍照', true); return; }
      if (!$('category').value) { say('请选择问题类别', true); return; }
      if (!$('desc').value.trim()) { say('请描述问题', true); return; }
    }
    var fd = new FormData();
    S.files.forEach(function (f) { fd.append('photo', f, f.name || 'photo.jpg'); });
    if (S.pos) { fd.append('lng', S.pos.lng); fd.append('lat', S.pos.lat); fd.append('crs', S.pos.crs); }
    if ($('category').value) { fd.append('category', $('category').value); }
    if ($('desc').value.trim()) { fd.append('description', $('desc').value.trim()); }
    if ($('phone').value.trim()) { fd.append('phone', $('phone').value.trim()); }
    if (S.follow) { fd.append('follow', S.follow); }
    $('submit').disabled = true; $('submit').textContent = '提交中…';
    api('POST', '/reports', fd).then(function (r) {
      $('submit').disabled = false; $('submit').textContent = S.follow ? '关注此案件' : '提交上报';
      if (r.status === 201) { done(r.body); return; }
      var ctx = r.body.context || {};
      if (r.status === 409 && ctx.report_code) {
        say('这张照片已经上报过（查询码 ' + ctx.report_code + '）。', true, {href: '/r/' + ctx.report_code, text: '查看进度'});
      } else if (r.status === 429) { say('提交太频繁，请稍后再试', true); }
      else if (r.status === 413) { say('照片太大或太多：' + (r.body.detail || ''), true); }
      else if (r.status === 415) { say('只能上传照片（JPEG、PNG、WebP）', true); }
      else if (r.status === 422 && /lng|where/.test(r.body.detail || '')) {
        say('请先定位，或手动输入位置（照片中没有位置信息）', true); $('manualBox').open = true;
      } else { say(r.body.detail || ('提交失败（' + r.status + '）'), true); }
    });
  }
  function done(b) {
    $('form').hidden = true; $('done').hidden = false;
    $('doneTitle').textContent = b.followed ? '已关注案件 ' + b.case_code : '上报成功';
    $('code').textContent = b.code;
    $('statusLink').href = b.page_url;
    remember(b.code);
    window.scrollTo(0, 0);
  }
  function again() {
    S.files = []; S.follow = null; follow(null);
    clear($('thumbs')); $('photo').value = ''; $('desc').value = '';
    $('form').hidden = false; $('done').hidden = true;
  }

  /* ---- my reports (this device) ---- */
  function mine() { try { return JSON.parse(localStorage.getItem(MINE) || '[]'); } catch (e) { return []; } }
  function remember(code) {
    var list = mine().filter(function (x) { return x.code !== code; });
    list.unshift({code: code, at: new Date().toISOString().slice(0, 10)});
    try { localStorage.setItem(MINE, JSON.stringify(list.slice(0, 20))); } catch (e) { /* private mode */ }
    showMine();
  }
  function showMine() {
    var list = mine(), ul = clear($('mine'));
    $('mineCard').hidden = !list.length;
    list.forEach(function (x) {
      ul.appendChild(h('li', {}, [h('div', {cls: 'main'}, [h('b', {cls: 'mono', text: x.code}), h('span', {text: x.at + ' 上报'})]),
        h('a', {cls: 'btn', href: '/r/' + encodeURIComponent(x.code), text: '查看进度'})]));
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('photo').addEventListener('change', photos);
    $('locate').addEventListener('click', locate);
    $('useManual').addEventListener('click', manual);
    document.querySelector('.nudge').addEventListener('click', nudge);
    $('category').addEventListener('change', loadSuggestions);
    $('unfollow').addEventListener('click', function () { follow(null); });
    $('form').addEventListener('submit', submit);
    $('again').addEventListener('click', again);
    $('lookupForm').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var c = $('lookupCode').value.replace(/[^0-9a-z]/gi, '').toUpperCase();
      if (c) { location.href = '/r/' + c; }
    });
    loadCategories(); showMine();
    if (navigator.permissions && navigator.permissions.query) {  // locate at once only where already allowed
      navigator.permissions.query({name: 'geolocation'}).then(function (p) { if (p.state === 'granted') { locate(); } },
        function () {});
    }
  });
}());
