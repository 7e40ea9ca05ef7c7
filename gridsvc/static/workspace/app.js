/* gridsvc workspace: start-up, the side panel (details, edit, validation), the layer control and legend.
   window.gridsvcReady resolves (and <body data-ready="true">) once the first layers are drawn. */
(function () {
  'use strict';
  var GS = window.GS;
  var U = GS.util, h = U.h;
  var t = function (k, v) { return GS.i18n.t(k, v); };
  var CONTROL_ORDER = ['units', 'officers', 'zones', 'buildings', 'streets', 'markets', 'compounds', 'cells', 'admin_units'];
  var BASEMAP_KEY = 'gridsvc.basemap', TK_KEY = 'gridsvc.tiandituKey';
  var MIN_START_ZOOM = 14;
  // masked for anonymous users (gridsvc/db/layers.py PERSONAL_COLUMNS)
  var PERSONAL = {contact: true, phone: true, party_contact: true, party_phone: true, officer_phone: true};

  var resolveReady;
  window.gridsvcReady = new Promise(function (resolve) { resolveReady = resolve; });

  function stored(key) { try { return window.localStorage.getItem(key); } catch (e) { return null; } }
  function store(key, value) { try { window.localStorage.setItem(key, value); } catch (e) { /* private mode */ } }

  /* ----- messages and tabs ----- */

  var messageTimer = null;
  function message(text, kind) {
    var box = document.getElementById('messages');
    U.clear(box);
    clearTimeout(messageTimer);
    if (!text) { return; }
    var close = h('button', {type: 'button', class: 'gs-close', 'aria-label': '×', onclick: function () { U.clear(box); }}, '×');
    box.appendChild(h('div', {class: 'gs-message gs-' + (kind || 'info')}, h('span', null, text), close));
    if (kind === 'ok' || kind === 'info') { messageTimer = setTimeout(function () { U.clear(box); }, 8000); }
  }

  function showTab(name) {
    document.querySelectorAll('.gs-tabs [data-tab]').forEach(function (b) {
      b.setAttribute('aria-selected', b.dataset.tab === name ? 'true' : 'false');
    });
    ['details', 'edit', 'validation', 'dashboard'].forEach(function (n) {
      document.getElementById('tab-' + n).hidden = n !== name;
    });
    if (GS.dashboard) { GS.dashboard.shown(name === 'dashboard'); }
  }

  GS.ui = {
    message: message,
    showTab: showTab,
    flagEdited: function () { document.body.dataset.lastEdit = String(Date.now()); }
  };

  /* ----- the record of what was clicked ----- */

  var lastSelection = null;

  function title(hit) {
    var p = hit.props || {};
    if (hit.layer === 'zones') { return (p.party_name || t('party.grid_officer')) + ' · #' + hit.id; }
    if (hit.layer === 'cells') { return p.code || p.h3; }
    if (hit.layer === 'officers') { return p.name; }
    return p.name || p.name_zh || p.code || ('#' + hit.id);
  }

  function value(key, v) {
    if (v === null || v === undefined || v === '') { return null; }
    if (key === 'party_kind' && GS.i18n.has('party.' + v)) { return t('party.' + v); }
    if (key === 'kind' && GS.i18n.has('kind.' + v)) { return t('kind.' + v); }
    if (key === 'side' && GS.i18n.has('side.' + v)) { return t('side.' + v); }
    if (typeof v === 'string' && GS.i18n.has('value.' + key + '.' + v)) { return t('value.' + key + '.' + v); }
    if (Array.isArray(v)) { return v.join(', '); }
    if (typeof v === 'number') { return U.fmtNumber(v, 2); }
    if (typeof v === 'boolean') { return v ? '✓' : '✗'; }
    if (typeof v === 'object') { return JSON.stringify(v); }
    return String(v);
  }

  function renderDetails(sel) {
    lastSelection = sel;
    var root = U.clear(document.getElementById('tab-details'));
    var hit = sel && sel.hit;
    if (!hit) {
      root.appendChild(h('p', {class: 'gs-muted', id: 'details-empty'}, t('details.empty')));
      return;
    }
    var color = null;
    if (hit.layer === 'zones') { color = GS.mgr.cfg.zone_colors[hit.props.party_kind] || GS.mgr.cfg.zone_colors.grid_officer; }
    if (hit.layer === 'officers') { color = GS.layers.officerColor(hit.props.officer_id); }
    var dl = h('dl', {class: 'gs-record', id: 'details-record'});
    Object.keys(hit.props || {}).forEach(function (k) {
      var v = value(k, hit.props[k]);
      if (v === null) { return; }
      U.append(dl, [h('dt', {title: k}, GS.i18n.has('field.' + k) ? t('field.' + k) : k), h('dd', null, v)]);
    });
    var masked = !GS.auth.isStaff() && Object.keys(hit.props || {}).some(function (k) {
      return PERSONAL[k] && typeof hit.props[k] === 'string' && hit.props[k].indexOf('*') >= 0;
    });
    var tools = h('div', {class: 'gs-actions'});
    if (hit.layer !== 'officers') {
      tools.appendChild(h('button', {type: 'button', onclick: function () {
        GS.mgr.zoomToFeature(hit.layer, hit.layer === 'cells' ? hit.props.code : hit.id, {maxZoom: 19});
      }}, t('details.zoomTo')));
    }
    if (hit.layer === 'zones') {
      tools.appendChild(h('button', {type: 'button', onclick: function () { showTab('edit'); }}, t('details.edit')));
    }
    U.append(root, [
      h('div', {class: 'gs-record-head'},
        color ? h('span', {class: 'gs-swatch', style: {background: color}}) : null,
        h('span', {class: 'gs-layer-name'}, t('layer.' + hit.layer))),
      h('h2', {id: 'details-title'}, title(hit)), dl,
      masked ? h('p', {class: 'gs-note gs-masked', id: 'details-masked'}, t('details.masked'), ' ',
        GS.auth.token() ? null : h('button', {type: 'button', class: 'gs-link', onclick: GS.auth.showLogin}, t('auth.login')))
        : null,
      tools]);
    var others = (sel.others || []).slice(0, 8);
    if (others.length) {
      var list = h('ul', {class: 'gs-also'});
      others.forEach(function (o) {
        list.appendChild(h('li', null, h('button', {type: 'button', class: 'gs-link', onclick: function () {
          GS.mgr.select(o, [hit].concat(others.filter(function (x) { return x !== o; })), sel.latlng);
        }}, t('layer.' + o.layer) + ' · ' + title(o))));
      });
      U.append(root, [h('h3', null, t('details.alsoHere')), list]);
    }
  }

  /* ----- layer control, basemaps and legend ----- */

  var LayerControl = L.Control.extend({
    options: {position: 'topright'},
    onAdd: function () {
      var box = h('div', {class: 'gs-layer-control leaflet-bar', id: 'layer-control'});
      // on a phone (workspace.css: the map above the panel) the list starts folded, so the map stays in view
      if (window.matchMedia && window.matchMedia('(max-width: 700px)').matches) { box.classList.add('gs-collapsed'); }
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      this._box = box;
      this.render();
      return box;
    },
    render: function () {
      var mgr = GS.mgr, box = U.clear(this._box), cfg = mgr.cfg;
      var toggle = h('button', {type: 'button', class: 'gs-collapse', 'aria-expanded': box.classList.contains('gs-collapsed') ? 'false' : 'true',
        onclick: function () {
          box.classList.toggle('gs-collapsed');
          toggle.setAttribute('aria-expanded', box.classList.contains('gs-collapsed') ? 'false' : 'true');
        }}, t('control.layers'));
      box.appendChild(toggle);
      var inner = h('div', {class: 'gs-control-body'});
      var list = h('ul', {class: 'gs-layer-list'});
      CONTROL_ORDER.forEach(function (name) {
        var layer = mgr.get(name);
        var color = name === 'zones' ? cfg.zone_colors.unit : name === 'officers' ? GS.layers.officerColor(0) :
          name === 'admin_units' ? '#6c3483' : (cfg.layer_colors[name] || {}).color;
        var cb = h('input', {type: 'checkbox', id: 'layer-' + name, checked: layer.visible, onchange: function () {
          layer.setVisible(cb.checked);
        }});
        list.appendChild(h('li', null, h('label', {for: 'layer-' + name}, cb,
          h('span', {class: 'gs-swatch gs-swatch-' + name, style: {background: color}}), t('layer.' + name))));
      });
      inner.appendChild(list);
      inner.appendChild(h('div', {class: 'gs-control-title'}, t('control.basemap')));
      var bl = h('ul', {class: 'gs-basemap-list'});
      var keyInput = h('input', {type: 'text', id: 'tianditu-key', value: stored(TK_KEY) || '', spellcheck: 'false',
        autocomplete: 'off', placeholder: 'tk', 'aria-label': t('basemap.tiandituKey')});
      keyInput.addEventListener('change', function () {
        store(TK_KEY, keyInput.value.trim());
        if (mgr.basemap === 'tianditu') { mgr.setBasemap('tianditu', keyInput.value.trim()); }
      });
      ['none', 'osm', 'tianditu', 'amap'].forEach(function (name) {
        var rb = h('input', {type: 'radio', name: 'basemap', id: 'basemap-' + name, value: name,
          checked: mgr.basemap === name, onchange: function () {
            if (!rb.checked) { return; }
            var ok = mgr.setBasemap(name, name === 'tianditu' ? keyInput.value.trim() : null);
            if (ok) { store(BASEMAP_KEY, name); } else { control.render(); }
          }});
        var li = h('li', null, h('label', {for: 'basemap-' + name}, rb, t('basemap.' + name)));
        if (name === 'tianditu') {
          li.appendChild(h('label', {class: 'gs-key', for: 'tianditu-key'}, h('span', null, t('basemap.tiandituKey')), keyInput));
        }
        bl.appendChild(li);
      });
      inner.appendChild(bl);
      if (mgr.crs === 'gcj02') { inner.appendChild(h('p', {class: 'gs-note', id: 'gcj-note'}, t('basemap.gcj'))); }
      box.appendChild(inner);
    }
  });

  var Legend = L.Control.extend({
    options: {position: 'bottomright'},
    onAdd: function () {
      this._box = h('div', {class: 'gs-legend', id: 'legend'});
      L.DomEvent.disableClickPropagation(this._box);
      this.render();
      return this._box;
    },
    render: function () {
      var box = U.clear(this._box), colors = GS.mgr.cfg.zone_colors;
      box.appendChild(h('div', {class: 'gs-control-title'}, t('legend.title')));
      Object.keys(colors).forEach(function (kind) {
        box.appendChild(h('div', {class: 'gs-legend-row'}, h('span', {class: 'gs-swatch', style: {background: colors[kind]}}),
          t('party.' + kind)));
      });
    }
  });

  var Home = L.Control.extend({
    options: {position: 'topleft'},
    onAdd: function () {
      var a = h('a', {href: '#', role: 'button', class: 'gs-home', id: 'home-button', title: t('control.home'),
        'aria-label': t('control.home')}, '⌂');
      L.DomEvent.on(a, 'click', function (e) {
        L.DomEvent.preventDefault(e);
        var b = GS.mgr.homeBounds();
        if (b) { GS.mgr.map.fitBounds(b); }
      });
      L.DomEvent.disableClickPropagation(a);
      this._a = a;
      return h('div', {class: 'leaflet-bar'}, a);
    },
    render: function () { this._a.title = t('control.home'); this._a.setAttribute('aria-label', t('control.home')); }
  });

  var control, legend, home;

  function renderStatus() {
    var mgr = GS.mgr, box = U.clear(document.getElementById('status'));
    var z = mgr.map.getZoom(), detail = z >= mgr.cfg.detail_zoom;
    box.appendChild(h('span', {class: 'gs-zoom', id: 'zoom-level'}, 'z' + z));
    var mode = !detail ? 'zoom.district' : GS.auth.canEdit() ? 'zoom.detail' : 'zoom.detailReadOnly';
    box.appendChild(h('span', {class: detail ? 'gs-mode gs-detail' : 'gs-mode', id: 'zoom-mode'}, t(mode)));
    if (mgr.pending > 0) { box.appendChild(h('span', {class: 'gs-spinner', 'aria-hidden': 'true'})); }
    mgr.truncatedLayers().forEach(function (tr) {
      box.appendChild(h('span', {class: 'gs-warn'}, t('status.truncated', {layer: t('layer.' + tr.name), n: tr.shown})));
    });
    document.body.dataset.zoom = String(z);
  }

  /* ----- the view in the URL: #zoom/lat/lng (in the basemap's coordinates) ----- */

  function parseHash() {
    var m = /^#(\d{1,2})\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)$/.exec(window.location.hash);
    if (!m) { return null; }
    return {z: Number(m[1]), lat: Number(m[2]), lng: Number(m[3])};
  }

  function writeHash(map) {
    var c = map.getCenter(), z = map.getZoom();
    var hash = '#' + z + '/' + c.lat.toFixed(6) + '/' + c.lng.toFixed(6);
    if (window.location.hash !== hash) { window.history.replaceState(null, '', hash); }
  }

  /* ----- start ----- */

  function start() {
    GS.i18n.set(GS.i18n.lang);
    document.getElementById('lang-toggle').addEventListener('click', function () {
      GS.i18n.set(GS.i18n.lang === 'zh' ? 'en' : 'zh');
    });
    document.querySelectorAll('.gs-tabs [data-tab]').forEach(function (b) {
      b.addEventListener('click', function () { showTab(b.dataset.tab); });
    });
    renderDetails(null);

    // who is logged in (this tab's token) before the first tiles are asked for: staff get full attributes
    Promise.all([U.get('workspace/config'), GS.auth.init(document.getElementById('auth'))]).then(function (got) {
      var cfg = got[0];
      GS.i18n.addKinds(cfg);
      var map = GS.map = L.map('map', {maxZoom: 20, minZoom: 3, zoomSnap: 1, worldCopyJump: false, fadeAnimation: false});
      var mgr = GS.mgr = new GS.layers.Manager(map, cfg);
      var base = stored(BASEMAP_KEY), key = stored(TK_KEY);
      if (!GS.layers.BASEMAPS[base] || (base === 'tianditu' && !key)) { base = 'none'; }
      mgr.crs = GS.layers.BASEMAPS[base].crs;
      var hv = parseHash(), bounds = mgr.homeBounds();
      // One view change, not animated: tiles are asked for the first view only
      if (hv) {
        map.setView([hv.lat, hv.lng], hv.z, {animate: false});
      } else if (bounds) {
        map.setView(bounds.getCenter(), Math.max(MIN_START_ZOOM, map.getBoundsZoom(bounds)), {animate: false});
      } else {
        map.setView([32.0427, 118.7836], MIN_START_ZOOM, {animate: false});
      }
      mgr.setBasemap(base, key);
      L.control.scale({imperial: false, position: 'bottomleft'}).addTo(map);
      home = new Home().addTo(map);
      control = new LayerControl().addTo(map);
      legend = new Legend().addTo(map);
      mgr.on('select', renderDetails);
      mgr.on('status', renderStatus);
      mgr.on('zoom', renderStatus);
      mgr.on('crs', function () { control.render(); });
      mgr.on('basemap', function () { control.render(); });
      map.on('moveend', function () { writeHash(map); });
      window.addEventListener('hashchange', function () {
        var v = parseHash();
        if (v) { map.setView([v.lat, v.lng], v.z); }
      });
      GS.edit.init(mgr, document.getElementById('tab-edit'));
      GS.validation.init(mgr, document.getElementById('tab-validation'));
      GS.dashboard.init(mgr, document.getElementById('tab-dashboard'));
      GS.auth.onChange(function (ev) {
        GS.edit.authChanged(ev);
        GS.dashboard.authChanged(ev);
        mgr.authChanged();
        renderDetails(null);
        renderStatus();
      });
      GS.i18n.onChange(function () {
        control.render();
        legend.render();
        home.render();
        renderStatus();
        renderDetails(lastSelection);
      });
      renderStatus();
      return mgr.syncAll(true).then(function () { return mgr.firstDraw(); }).then(function () {
        return new Promise(function (resolve) {
          window.requestAnimationFrame(function () { window.requestAnimationFrame(resolve); });
        });
      }).then(function () {
        var info = {ok: true, ms: Math.round(performance.now()), zoom: map.getZoom(), crs: mgr.crs,
                    stats: JSON.parse(JSON.stringify(mgr.stats))};
        window.gridsvcReadyInfo = info;
        document.body.dataset.ready = 'true';
        resolveReady(info);
      });
    }).catch(function (err) {
      message(String(err && err.message ? err.message : err), 'error');
      document.body.dataset.ready = 'failed';
      resolveReady({ok: false, error: String(err && err.message ? err.message : err)});
    });
  }

  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
