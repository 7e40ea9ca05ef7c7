/* gridsvc workspace: the dashboard tab (看板, staff: dashboard.read).
   - the heat map of the cases found per H3 cell, one ISO week at a time (Beijing time), with a week slider:
     GET /dashboard/weeks (the weeks, a colour scale shared by them), GET /dashboard/heat?week= (GeoJSON hexagons);
     drawn over the other layers while the tab is open; clicking a hexagon lists its cases
     (GET /dashboard/cells/{h3}/cases?week=, a grid officer: their grids');
   - the overdue cases, longest overdue first: GET /cases?overdue=true&open=true&order=deadline (a grid officer: mine);
   - the ranking of the weekly assessment or the monthly bulletin: GET /bulletins/{kind}/{period}.json.
   Clicking a case zooms to it. <body data-dashboard> says what has been drawn (for tests). */
(function () {
  'use strict';
  var GS = window.GS;
  var U = GS.util, h = U.h;
  var t = function (k, v) { return GS.i18n.t(k, v); };
  var WEEKS = 8, OVERDUE_LIMIT = 30, RANK_LEVELS = ['subdistrict', 'community', 'grid'];

  var mgr, root, els = {}, layer = null, open = false, loaded = false;
  var weeks = null, index = 0, heatReq = 0, cell = null, cellData = null, overdue = null;
  var rankKind = 'weekly', rankLevel = 'subdistrict', ranks = {}, rankReq = 0;

  function allowed() {
    var u = GS.auth.user();
    return !!(u && u.may && u.may.indexOf('dashboard.read') >= 0);
  }

  function flag(name, value) { document.body.dataset[name] = String(value); }

  function init(manager, container) {
    mgr = manager;
    root = container;
    var pane = mgr.map.createPane('gs-heat');
    pane.style.zIndex = '396';  // over every layer (350–395), under the highlight (398)
    layer = L.geoJSON(null, {
      pane: 'gs-heat', renderer: L.svg({pane: 'gs-heat'}), pmIgnore: true, snapIgnore: true, bubblingMouseEvents: false,
      style: styleOf,
      onEachFeature: function (f, l) {
        l.on('click', function () { pickCell(f.properties.h3); });
        l.on('add', function () {
          var el = l.getElement();
          if (el) { el.setAttribute('data-h3', f.properties.h3); el.setAttribute('data-count', f.properties.count); el.classList.add('gs-heat-cell'); }
        });
        l.bindTooltip(function () { return t('dash.cellTip', {n: f.properties.count}); }, {sticky: true, className: 'gs-heat-tip'});
      }
    });
    mgr.on('crs', function () { if (open && weeks) { loadHeat(); } });
    mgr.map.on('zoomend', function () { if (open) { layer.setStyle(styleOf); } });
    GS.i18n.onChange(function () { if (loaded) { render(); } });
    render();
    authChanged();
  }

  function styleOf(f) {
    var colors = (weeks && weeks.colors) || [];
    var picked = f.properties.h3 === cell;
    return {color: picked ? '#1f5fa8' : '#5d4037', weight: picked ? 3 : 0.8, opacity: 0.9,
            fillColor: colors[f.properties['class']] || '#ff9e40',
            fillOpacity: mgr.map.getZoom() >= 17 ? 0.3 : 0.62};  // close in, the streets stay readable
  }

  /* ----- the tab's parts ----- */

  function render() {
    U.clear(root);
    if (!allowed()) {
      root.appendChild(h('p', {class: 'gs-muted', id: 'dash-login'}, t('dash.needLogin')));
      return;
    }
    els.weekLabel = h('strong', {id: 'dash-week-label'});
    els.weekCount = h('span', {class: 'gs-muted', id: 'dash-week-count'});
    els.slider = h('input', {type: 'range', id: 'dash-week', min: 0, max: WEEKS - 1, step: 1, value: index,
                             'aria-label': t('dash.week')});
    els.slider.addEventListener('input', function () { setWeek(Number(els.slider.value), true); });
    els.slider.addEventListener('change', function () { setWeek(Number(els.slider.value), false); });
    els.ticks = h('div', {class: 'gs-dash-ticks', 'aria-hidden': 'true'});
    els.legend = h('div', {class: 'gs-dash-legend', id: 'dash-legend'});
    els.cell = h('div', {id: 'dash-cell', class: 'gs-dash-cell'});
    els.overdue = h('div', {id: 'dash-overdue'});
    els.rank = h('div', {id: 'dash-ranking'});
    var kind = h('select', {id: 'dash-rank-kind', 'aria-label': t('dash.rankPeriod'), onchange: function () {
      rankKind = kind.value; loadRanking();
    }}, h('option', {value: 'weekly', selected: rankKind === 'weekly'}, t('dash.rankWeekly')),
        h('option', {value: 'monthly', selected: rankKind === 'monthly'}, t('dash.rankMonthly')));
    var levelTabs = h('div', {class: 'gs-dash-levels', role: 'tablist'});
    RANK_LEVELS.forEach(function (lv) {
      levelTabs.appendChild(h('button', {type: 'button', role: 'tab', id: 'dash-level-' + lv,
        'aria-selected': lv === rankLevel ? 'true' : 'false', onclick: function () {
          rankLevel = lv;
          levelTabs.querySelectorAll('button').forEach(function (b) { b.setAttribute('aria-selected', b.id === 'dash-level-' + lv ? 'true' : 'false'); });
          drawRanking();
        }}, t('dash.level.' + lv)));
    });
    U.append(root, [
      h('section', {class: 'gs-dash-part', id: 'dash-heat'},
        h('h3', null, t('dash.heat')),
        h('p', {class: 'gs-muted gs-dash-intro'}, t('dash.heatIntro')),
        h('div', {class: 'gs-dash-week'}, els.weekLabel, ' ', els.weekCount),
        els.slider, els.ticks, els.legend, els.cell),
      h('section', {class: 'gs-dash-part'}, h('h3', null, t('dash.overdue')), els.overdue),
      h('section', {class: 'gs-dash-part'},
        h('div', {class: 'gs-dash-head'}, h('h3', null, t('dash.ranking')), kind), levelTabs, els.rank)]);
    loaded = true;
    if (weeks) { drawWeeks(); drawHeatInfo(); }
    drawCell();
    drawOverdue();
    drawRanking();
  }

  /* ----- the weeks and the heat map ----- */

  function loadWeeks() {
    flag('dashboard', 'loading');
    return U.get('dashboard/weeks' + U.query({n: WEEKS})).then(function (w) {
      weeks = w;
      index = w.weeks.length - 1;
      drawWeeks();
      return loadHeat();
    }).catch(fail);
  }

  function drawWeeks() {
    if (!els.slider) { return; }
    els.slider.max = String(weeks.weeks.length - 1);
    els.slider.value = String(index);
    U.clear(els.ticks);
    weeks.weeks.forEach(function (w, i) {
      els.ticks.appendChild(h('span', {class: i === index ? 'gs-on' : null, title: w.zh}, 'W' + w.week.slice(-2)));
    });
    U.clear(els.legend);
    var top = weeks.top;
    if (top > 0) {
      els.legend.appendChild(h('span', {class: 'gs-muted'}, t('dash.few')));
      weeks.colors.forEach(function (c, k) {
        if (top > 1 || k === 0) { els.legend.appendChild(h('span', {class: 'gs-swatch', style: {background: c}, title: rangeOf(k, top)})); }
      });
      els.legend.appendChild(h('span', {class: 'gs-muted'}, t('dash.many', {n: top})));
    }
  }

  /* The counts of colour class k on the scale 1..top (as gridsvc/exporters/bulletin_charts.heat_class). */
  function rangeOf(k, top) {
    var n = weeks.colors.length, lo = null, hi = null;
    for (var c = 1; c <= top; c++) {
      var cls = top <= 1 ? 0 : Math.min(n - 1, Math.floor((c - 1) * n / top));
      if (cls === k) { lo = lo === null ? c : lo; hi = c; }
    }
    return lo === null ? '' : lo === hi ? String(lo) : lo + '–' + hi;
  }

  function setWeek(i, preview) {
    if (!weeks || i === index && !preview) { if (!preview && weeks) { loadHeat(); } return; }
    index = i;
    drawWeeks();
    drawHeatInfo();
    if (!preview) { loadHeat(); } else { debouncedHeat(); }
  }
  var debouncedHeat = U.debounce(function () { loadHeat(); }, 200);

  function current() { return weeks && weeks.weeks[index]; }

  function drawHeatInfo(fc) {
    var w = current();
    if (!w || !els.weekLabel) { return; }
    els.weekLabel.textContent = w.zh;
    els.weekCount.textContent = t('dash.weekCount', {n: fc ? fc.cases : w.cases, cells: fc ? fc.features.length : w.cells});
  }

  function loadHeat() {
    var w = current();
    if (!w) { return Promise.resolve(); }
    var req = ++heatReq;
    debouncedHeat.cancel();
    flag('dashboard', 'loading');
    return U.get('dashboard/heat' + U.query({week: w.week, res: weeks.res, top: weeks.top || null,
                                            crs: mgr.crs === 'gcj02' ? 'gcj02' : null})).then(function (fc) {
      if (req !== heatReq) { return; }
      layer.clearLayers();
      layer.addData(fc);
      if (open && !mgr.map.hasLayer(layer)) { layer.addTo(mgr.map); }
      drawHeatInfo(fc);
      if (cell) { loadCell(cell); }
      ranksFollow();
      flag('dashboardWeek', fc.week);
      flag('dashboardCells', fc.features.length);
      flag('dashboard', 'ready');
    }).catch(fail);
  }

  /* ----- a cell's cases ----- */

  function pickCell(h3) {
    cell = h3;
    layer.setStyle(styleOf);
    loadCell(h3);
  }

  function loadCell(h3) {
    var w = current();
    flag('dashboardCell', 'loading');
    return U.get('dashboard/cells/' + encodeURIComponent(h3) + '/cases' + U.query({week: w.week})).then(function (d) {
      if (h3 !== cell) { return; }
      cellData = d;
      drawCell();
      flag('dashboardCell', h3);
    }).catch(function (err) { cellData = {error: err.message}; drawCell(); flag('dashboardCell', 'failed'); });
  }

  function drawCell() {
    if (!els.cell) { return; }
    U.clear(els.cell);
    if (!cell) {
      els.cell.appendChild(h('p', {class: 'gs-muted', id: 'dash-cell-hint'}, t('dash.cellHint')));
      return;
    }
    if (!cellData) { els.cell.appendChild(h('p', {class: 'gs-muted'}, t('dash.loading'))); return; }
    if (cellData.error) { els.cell.appendChild(h('div', {class: 'gs-error', role: 'alert'}, cellData.error)); return; }
    var head = h('div', {class: 'gs-dash-head'},
      h('h4', {id: 'dash-cell-title'}, t('dash.cellTitle', {n: cellData.total})),
      h('button', {type: 'button', class: 'gs-close', 'aria-label': t('dash.close'), onclick: function () {
        cell = null; cellData = null; layer.setStyle(styleOf); drawCell();
      }}, '×'));
    els.cell.appendChild(head);
    els.cell.appendChild(h('p', {class: 'gs-muted gs-dash-sub'}, 'H3 ' + cellData.h3 + ' · ' + cellData.zh));
    els.cell.appendChild(caseList(cellData.cases, 'dash-cell-cases', function (c) {
      return [c.reported_at ? c.reported_at.slice(5, 16).replace('T', ' ') : '', c.state_zh].join(' · ');
    }));
    if (cellData.outside_scope) {
      els.cell.appendChild(h('p', {class: 'gs-muted', id: 'dash-cell-outside'}, t('dash.outside', {n: cellData.outside_scope})));
    }
  }

  function caseList(cases, id, more) {
    var list = h('ul', {class: 'gs-problems gs-dash-cases', id: id});
    if (!cases.length) { list.appendChild(h('li', {class: 'gs-muted'}, t('dash.none'))); }
    cases.forEach(function (c) {
      var cat = c.category_zh || (c.category && c.category.zh) || '';
      list.appendChild(h('li', null, h('button', {type: 'button', class: 'gs-problem gs-dash-case', dataset: {caseId: c.id},
        title: c.description || '', onclick: function () { zoomToCase(c); }},
        h('span', {class: 'gs-dash-code'}, c.code), ' ', h('span', null, cat),
        h('span', {class: 'gs-dash-more'}, more(c)))));
    });
    return list;
  }

  function zoomToCase(c) {
    var ll = L.latLng(c.point.lat, c.point.lng);
    if (mgr.crs === 'gcj02') { ll = U.toGcj(ll); }
    mgr.map.setView(ll, Math.max(mgr.map.getZoom(), 18));
    mgr.showGeometry({type: 'Point', coordinates: [ll.lng, ll.lat]}, GS.layers.HIGHLIGHT);
    flag('dashboardZoomed', c.id);
  }

  /* ----- the overdue cases ----- */

  function loadOverdue() {
    var mine = GS.auth.role() === 'grid_officer';
    return U.get('cases' + U.query({overdue: 'true', open: 'true', order: 'deadline', limit: OVERDUE_LIMIT,
                                    mine: mine ? 'true' : null})).then(function (d) {
      overdue = d;
      drawOverdue();
      flag('dashboardOverdue', d.total);
    }).catch(function (err) { overdue = {error: err.message}; drawOverdue(); });
  }

  function overdueBy(min) {
    var d = Math.floor(min / 1440), hr = Math.floor((min % 1440) / 60);
    return d > 0 ? t('dash.overdueDays', {d: d, h: hr}) : t('dash.overdueHours', {h: hr, m: min % 60});
  }

  function drawOverdue() {
    if (!els.overdue) { return; }
    U.clear(els.overdue);
    if (!overdue) { els.overdue.appendChild(h('p', {class: 'gs-muted'}, t('dash.loading'))); return; }
    if (overdue.error) { els.overdue.appendChild(h('div', {class: 'gs-error', role: 'alert'}, overdue.error)); return; }
    els.overdue.appendChild(h('p', {class: 'gs-muted gs-dash-sub', id: 'dash-overdue-total'},
      t('dash.overdueTotal', {n: overdue.total}) + (overdue.total > overdue.cases.length ? t('dash.shown', {n: overdue.cases.length}) : '')));
    els.overdue.appendChild(caseList(overdue.cases, 'dash-overdue-cases', function (c) {
      return [h('span', {class: 'gs-dash-late'}, overdueBy(c.overdue_by_minutes)), ' · ', c.stage_zh || c.state_zh,
              c.routing && c.routing.grid_code ? ' · ' + c.routing.grid_code : ''];
    }));
  }

  /* ----- the ranking ----- */

  function rankPeriod() {
    if (!weeks) { return null; }
    return rankKind === 'weekly' ? current().week : weeks.this_month;
  }

  function ranksFollow() { if (rankKind === 'weekly') { loadRanking(); } }

  function loadRanking() {
    var p = rankPeriod();
    if (!p) { return Promise.resolve(); }
    var key = rankKind + '/' + p;
    if (ranks[key]) { drawRanking(); return Promise.resolve(); }
    var req = ++rankReq;
    drawRanking();
    return U.get('bulletins/' + rankKind + '/' + encodeURIComponent(p) + '.json').then(function (b) {
      ranks[key] = b;
      if (req === rankReq) { drawRanking(); }
      flag('dashboardRanking', key);
    }).catch(function (err) {
      ranks[key] = {error: err.message};
      if (req === rankReq) { drawRanking(); }
    });
  }

  function pct(v) { return v === null || v === undefined ? '—' : U.fmtNumber(v, 1) + '%'; }

  function drawRanking() {
    if (!els.rank) { return; }
    U.clear(els.rank);
    var p = rankPeriod(), b = p && ranks[rankKind + '/' + p];
    if (!b) { els.rank.appendChild(h('p', {class: 'gs-muted'}, t('dash.loading'))); return; }
    if (b.error) { els.rank.appendChild(h('div', {class: 'gs-error', role: 'alert'}, b.error)); return; }
    var level = (b.levels || []).filter(function (l) { return l.level === rankLevel; })[0];
    els.rank.appendChild(h('p', {class: 'gs-muted gs-dash-sub', id: 'dash-rank-period'},
      b.kind_zh + ' · ' + b.period_zh + (level && level.last_places ? ' · ' + t('dash.lastN', {n: level.last_places}) : '')));
    var rows = level ? level.rows : [];
    if (!rows.length) { els.rank.appendChild(h('p', {class: 'gs-muted'}, t('dash.none'))); return; }
    var body = h('tbody');
    rows.forEach(function (r) {
      var missed = r.targets_missed || [];
      body.appendChild(h('tr', {class: r.last_place ? 'gs-last' : null, dataset: {key: r.key || ''}},
        h('td', {class: 'gs-num'}, r.rank === null ? '—' : r.rank),
        h('td', {class: 'gs-dash-name', title: r.parent || ''}, r.name || r.key, r.last_place ? h('span', {class: 'gs-badge'}, t('dash.last')) : null),
        h('td', {class: 'gs-num' + (missed.indexOf('close_rate') >= 0 ? ' gs-missed' : '')}, pct(r.rates.close_rate)),
        h('td', {class: 'gs-num' + (missed.indexOf('on_time_rate') >= 0 ? ' gs-missed' : '')}, pct(r.rates.on_time_rate)),
        h('td', {class: 'gs-num'}, r.counts.found)));
    });
    els.rank.appendChild(h('div', {class: 'gs-dash-table'}, h('table', {id: 'dash-rank-table'},
      h('thead', null, h('tr', null, h('th', null, t('dash.rank')), h('th', null, t('dash.name')),
        h('th', null, t('dash.closeRate')), h('th', null, t('dash.onTimeRate')), h('th', null, t('dash.found')))),
      body)));
  }

  /* ----- showing, hiding, logins ----- */

  function fail(err) {
    flag('dashboard', 'failed');
    GS.ui.message(String(err && err.message ? err.message : err), 'error');
  }

  function shown(visible) {
    open = visible && allowed();
    if (!open) {
      if (layer && mgr.map.hasLayer(layer)) { mgr.map.removeLayer(layer); }
      return;
    }
    if (!weeks) {
      loadWeeks();
      loadOverdue();
    } else {
      layer.addTo(mgr.map);
    }
  }

  function authChanged() {
    var btn = document.getElementById('tabbtn-dashboard');
    if (btn) { btn.hidden = !allowed(); }
    weeks = null; overdue = null; ranks = {}; cell = null; cellData = null;
    if (layer) { layer.clearLayers(); }
    render();
    if (!allowed() && open) { GS.ui.showTab('details'); }
    else if (open) { shown(true); }
  }

  GS.dashboard = {init: init, shown: shown, authChanged: authChanged};
})();
