/* gridsvc workspace: the validation report (GET /zones/validate) as a list of problems; a click zooms to one. */
(function () {
  'use strict';
  var GS = window.GS;
  var U = GS.util, h = U.h;
  var t = function (k, v) { return GS.i18n.t(k, v); };
  var SHOW = 50;          // items listed per section
  var REPORT_LIMIT = 5000;
  var mgr, root, body, report = null, streetNames = {};

  function init(manager, container) {
    mgr = manager;
    root = container;
    var run = h('button', {type: 'button', id: 'validation-run', class: 'gs-primary', onclick: runReport}, t('validation.run'));
    body = h('div', {id: 'validation-report', class: 'gs-validation'});
    U.append(root, [h('p', {class: 'gs-muted', dataset: {i18n: 'validation.intro'}}, t('validation.intro')),
                    h('div', {class: 'gs-actions'}, run), body]);
    GS.i18n.onChange(function () {
      run.textContent = t('validation.run');
      if (report) { render(report); }
    });
  }

  function runReport() {
    U.clear(body).appendChild(h('p', {class: 'gs-muted'}, t('validation.running')));
    document.body.dataset.validation = 'running';
    return U.get('zones/validate' + U.query({limit: REPORT_LIMIT})).then(function (r) {
      report = r;
      streetNames = {};
      (r.coverage_by_street || []).forEach(function (s) { streetNames[s.street_id] = s.name; });
      render(r);
      document.body.dataset.validation = 'done';
    }).catch(function (err) {
      U.clear(body).appendChild(h('div', {class: 'gs-error', role: 'alert'}, err.message));
      document.body.dataset.validation = 'failed';
    });
  }

  function zoomTo(layer, ids) {
    mgr.clearHighlight();
    var jobs = ids.map(function (id, i) {
      return mgr.zoomToFeature(layer, id, {keep: i > 0, noHighlight: false, maxZoom: 19}).catch(function () { return null; });
    });
    return Promise.all(jobs).then(function (features) {
      var found = features.filter(Boolean);
      if (found.length > 1) {
        var b = L.latLngBounds([]);
        found.forEach(function (f) { b.extend(L.geoJSON(f.geometry).getBounds()); });
        mgr.map.fitBounds(b, {maxZoom: 19, padding: [40, 40]});
      }
      if (found.length && layer === 'zones') {
        mgr.select({layer: 'zones', id: found[0].id, props: found[0].properties, geometry: found[0].geometry,
                    source: 'api'}, []);
        if (found.length > 1) { found.slice(1).forEach(function (f) { mgr.showGeometry(f.geometry, GS.layers.HIGHLIGHT, true); }); }
      }
    });
  }

  function section(title, items, total, make) {
    var list = h('ul', {class: 'gs-problems'});
    if (!items.length) { list.appendChild(h('li', {class: 'gs-muted'}, t('validation.none'))); }
    items.slice(0, SHOW).forEach(function (it) {
      var m = make(it);
      var b = h('button', {type: 'button', class: 'gs-problem', onclick: m.go}, m.text);
      list.appendChild(h('li', null, b));
    });
    var more = Math.max(total, items.length) - Math.min(items.length, SHOW);
    if (more > 0) { list.appendChild(h('li', {class: 'gs-muted'}, t('validation.more', {n: more}))); }
    return h('details', {class: 'gs-section', open: items.length > 0 && items.length <= 20 ? true : null},
      h('summary', null, title + ' (' + total + ')'), list);
  }

  function render(r) {
    U.clear(body);
    if (!r.zones) {
      body.appendChild(h('p', {class: 'gs-muted'}, r.message || t('validation.noZones')));
      return;
    }
    var s = r.summary || {};
    body.appendChild(h('div', {class: r.ok ? 'gs-ok' : 'gs-error', id: 'validation-verdict'},
      h('strong', null, r.ok ? t('validation.ok') : t('validation.notOk')), ' ',
      t('validation.zones', {n: r.zones}), r.policy ? ' · ' + r.policy : ''));
    var summary = h('dl', {class: 'gs-summary'});
    [['validation.overlaps', s.overlaps + (s.overlap_area_m2 ? ' · ' + U.fmtNumber(s.overlap_area_m2, 2) + ' m²' : '')],
     ['validation.gaps', s.frontage_gaps], ['validation.detached', s.detached_zones],
     ['validation.unitsWithout', s.units_without_zone + (s.units_with_zone_pct !== null && s.units_with_zone_pct !== undefined
       ? ' / ' + s.units : '')],
     ['validation.streetCoverage', s.mean_street_coverage_pct !== null ? s.mean_street_coverage_pct + '%' : '–'],
     ['validation.cellCoverage', s.mean_cell_coverage_pct !== null ? s.mean_cell_coverage_pct + '%' : '–']]
      .forEach(function (row) { U.append(summary, [h('dt', null, t(row[0]).replace(/（.*）|\s*\(.*\)/, '')), h('dd', null, row[1])]); });
    body.appendChild(summary);

    body.appendChild(section(t('validation.overlaps'), r.overlaps || [], s.overlaps || 0, function (o) {
      return {text: t('validation.overlapItem', {a: o.zone_a, b: o.zone_b, area: U.fmtNumber(o.area_m2, 2)}),
              go: function () { zoomTo('zones', [o.zone_a, o.zone_b]); }};
    }));
    body.appendChild(section(t('validation.gaps'), r.frontage_gaps || [], s.frontage_gaps || 0, function (g) {
      var street = streetNames[g.street_id] || ('#' + g.street_id);
      return {text: t('validation.gapItem', {street: street, side: t('side.' + g.side), a: g.unit_a, b: g.unit_b,
                                             gap: U.fmtNumber(g.gap_m, 1)}),
              go: function () { zoomTo('units', [g.unit_a, g.unit_b]); }};
    }));
    body.appendChild(section(t('validation.detached'), r.detached_zones || [], s.detached_zones || 0, function (d) {
      return {text: t('validation.detachedItem', {zone: d.zone_id, d: U.fmtNumber(d.distance_m, 1)}),
              go: function () { zoomTo('zones', [d.zone_id]); }};
    }));
    var without = r.units_without_zone || [];
    body.appendChild(section(t('validation.unitsWithout'), without, s.units_without_zone || 0, function (u) {
      return {text: (u.name || ('#' + u.unit_id)) + ' · ' + u.reason, go: function () { zoomTo('units', [u.unit_id]); }};
    }));
    var streets = (r.coverage_by_street || []).slice().sort(function (a, b) { return a.coverage_pct - b.coverage_pct; });
    body.appendChild(section(t('validation.streetCoverage'), streets, streets.length, function (c) {
      return {text: t('validation.streetItem', {name: c.name || ('#' + c.street_id), pct: c.coverage_pct,
                                                m: U.fmtNumber(c.frontage_m), len: U.fmtNumber(c.length_m)}),
              go: function () { zoomTo('streets', [c.street_id]); }};
    }));
    var cells = (r.coverage_by_cell || []).slice().sort(function (a, b) { return a.coverage_pct - b.coverage_pct; });
    body.appendChild(section(t('validation.cellCoverage'), cells, cells.length, function (c) {
      return {text: t('validation.cellItem', {code: c.grid_code, pct: c.coverage_pct}),
              go: function () { zoomTo('cells', [c.grid_code]); }};
    }));
  }

  GS.validation = {init: init, run: runReport};
})();
