/* gridsvc workspace: the map layers. Below the detail zoom the layers are drawn from the PostGIS vector tiles
   (one request per tile for all visible layers: /tiles/a,b,c/{z}/{x}/{y}.pbf); from the detail zoom on, the
   viewport's features come as GeoJSON (bbox), re-fetched on moveend (debounced): zones are the editing layer, streets and buildings stay on the map as snapping targets for Geoman.
   With a GCJ-02 basemap (高德) every request carries crs=gcj02 and the server shifts the overlays. */
(function () {
  'use strict';
  var GS = window.GS;
  var U = GS.util, h = U.h;
  var t = function (k, v) { return GS.i18n.t(k, v); };

  var DRAW_ORDER = ['admin_units', 'cells', 'compounds', 'markets', 'streets', 'buildings', 'zones', 'officers', 'units'];
  // What a click picks first: points, then zones, then what zones lie on, then the areas around.
  var HIT_ORDER = ['units', 'zones', 'buildings', 'markets', 'compounds', 'streets', 'officers', 'cells', 'admin_units'];
  var PATHS = {streets: 'streets', buildings: 'buildings', compounds: 'compounds', markets: 'markets', units: 'units',
               cells: 'grid/cells', admin_units: 'admin-units', zones: 'zones', officers: 'officers/grids'};
  var SNAP_TARGETS = {streets: true, buildings: true, zones: true};
  var GEOJSON_LIMIT = 10000;
  var PAD = 0.25;           // GeoJSON is fetched for the viewport plus a quarter on each side
  var LABEL_ZOOM = 17;      // grid codes are written on the cells from this zoom on
  // Later than the server's tiles start: at zoom 14 the H3 cells are 20 px hexagons, thousands per screen, that
  // cost a third of the first view's drawing time and say little at district scale.
  var WORKSPACE_MIN_ZOOM = {cells: 15};
  var OFFICER_COLORS = ['#1f5fa8', '#00897b', '#c62828', '#ef6c00', '#5d4037', '#3949ab', '#7cb342', '#d81b60'];
  var HIGHLIGHT = {color: '#f1c40f', weight: 4, opacity: 1, fill: false};

  /* Leaflet.VectorGrid 1.3.0's canvas tiles grab pointer events (and their click handler calls
     L.DomEvent.fakeStop, gone since Leaflet 1.8). Tiles here take no pointer events: clicks are hit-tested
     by identify() below, so lower layers stay clickable. */
  /* One VectorGrid for every layer drawn from tiles; each feature remembers its layer (ids repeat across layers). */
  var TileStack = L.VectorGrid.Protobuf.extend({
    _getVectorTilePromise: function (coords) {
      return L.VectorGrid.Protobuf.prototype._getVectorTilePromise.call(this, coords).then(function (tile) {
        Object.keys(tile.layers || {}).forEach(function (name) {
          (tile.layers[name].features || []).forEach(function (f) { f.layerName = name; });
        });
        return tile;
      });
    }
  });

  (function patchVectorGrid() {
    if (!L.Canvas.Tile) { return; }
    var init = L.Canvas.Tile.prototype.initialize;
    L.Canvas.Tile.include({
      initialize: function () {
        init.apply(this, arguments);
        this._container.style.pointerEvents = 'none';
      },
      _onClick: function (e) { L.DomEvent.stop(e); }
    });
  })();

  function styleFor(name, cfg) {
    var lc = cfg.layer_colors || {};
    var zc = cfg.zone_colors || {};
    var fillOf = function (n, d) { return lc[n] ? lc[n].fill_opacity : d; };
    var colorOf = function (n, d) { return lc[n] ? lc[n].color : d; };
    switch (name) {
      case 'admin_units':
        return function (p) {
          var w = p.level === 'district' ? 3 : p.level === 'subdistrict' ? 2.2 : 1.3;
          return {color: '#6c3483', weight: w, opacity: 0.75, dashArray: p.level === 'community' ? '4 4' : null,
                  fill: false};
        };
      case 'cells':
        return function () {
          var c = colorOf('cells', '#7f8c8d');
          return {color: c, weight: 0.7, opacity: 0.65, fill: true, fillColor: c, fillOpacity: fillOf('cells', 0.04)};
        };
      case 'streets':
        return function (p, zoom) {
          var c = colorOf('streets', '#2c3e50');
          if (zoom < 14) { return {color: c, weight: zoom >= 13 ? 1.6 : 1.1, opacity: 0.55}; }  // centrelines in tiles
          return {color: c, weight: 0.6, opacity: 0.6, fill: true, fillColor: c, fillOpacity: fillOf('streets', 0.3)};
        };
      case 'buildings':
        return function () {
          return {color: '#8f877a', weight: 0.6, opacity: 0.9, fill: true, fillColor: colorOf('buildings', '#b8b0a2'),
                  fillOpacity: fillOf('buildings', 0.6)};
        };
      case 'compounds':
      case 'markets':
        return function () {
          var c = colorOf(name, name === 'markets' ? '#d35400' : '#27ae60');
          return {color: c, weight: 1.2, opacity: 0.85, fill: true, fillColor: c, fillOpacity: fillOf(name, 0.3)};
        };
      case 'zones':
        return function (p) {
          var c = zc[p.party_kind] || zc.grid_officer || '#95a5a6';
          var planner = p.provenance === 'planner';
          return {color: planner ? '#1b1b1b' : c, weight: planner ? 1.6 : 0.8, opacity: 0.9, fill: true,
                  fillColor: c, fillOpacity: 0.55};
        };
      case 'officers':
        return function (p) {
          return {color: officerColor(p.officer_id), weight: 3, opacity: 0.9, dashArray: '10 6', fill: false};
        };
      case 'units':
        return function (p, zoom) {
          return {radius: zoom >= 17 ? 5 : zoom >= 15 ? 3.5 : 2.5, color: '#ffffff', weight: zoom >= 15 ? 1 : 0.5, opacity: 1, fill: true,
                  fillColor: colorOf('units', '#c0392b'), fillOpacity: 0.95};
        };
    }
    return function () { return {}; };
  }

  function officerColor(id) { return OFFICER_COLORS[Math.abs(Number(id) || 0) % OFFICER_COLORS.length]; }

  function bboxParam(bounds) {
    var r = function (v) { return Math.round(v * 1e6) / 1e6; };
    var w = Math.max(-180, bounds.getWest()), s = Math.max(-90, bounds.getSouth());
    var e = Math.min(180, bounds.getEast()), n = Math.min(90, bounds.getNorth());
    return [r(w), r(s), r(e), r(n)].join(',');
  }

  /* ---------------------------------------------------------------------------------------------- */
  /* One layer of the layer control: a LayerGroup holding either its vector tiles or its GeoJSON.     */

  function MapLayer(name, mgr) {
    this.name = name;
    this.mgr = mgr;
    this.group = L.layerGroup();
    this.style = styleFor(name, mgr.cfg);
    this.visible = true;
    this.mode = null;        // 'tile' (drawn by the manager's tile stack) | 'geojson'
    this.geo = null;
    this.loadedBounds = null;
    this.seq = 0;
    this.abort = null;
    this.truncated = 0;
    this.frozen = false;     // zones while one is being edited: no reload under the planner's hand
  }

  MapLayer.prototype.minZoom = function () {
    var server = this.mgr.cfg.min_zoom[this.name] !== undefined ? this.mgr.cfg.min_zoom[this.name] : 0;
    return Math.max(server, WORKSPACE_MIN_ZOOM[this.name] || 0);
  };

  MapLayer.prototype.wantedMode = function (zoom) {
    if (this.name === 'officers') { return 'geojson'; }
    return zoom >= this.mgr.cfg.detail_zoom ? 'geojson' : 'tile';
  };

  /* Is anything of this layer drawn at this zoom? */
  MapLayer.prototype.active = function (zoom) {
    return this.visible && (this.wantedMode(zoom) === 'geojson' || zoom >= this.minZoom());
  };

  MapLayer.prototype.makeGeo = function () {
    var self = this, name = this.name, pane = 'gs-' + name;
    var renderer = name === 'zones' ? L.svg({pane: pane}) : L.canvas({pane: pane, tolerance: name === 'units' ? 4 : 2});
    var snap = !!SNAP_TARGETS[name];
    return L.geoJSON(null, {
      pane: pane,
      renderer: renderer,
      interactive: name === 'zones',
      pmIgnore: name !== 'zones',      // only zones are editable ...
      snapIgnore: !snap,               // ... but streets and buildings are snapping targets too
      style: function (f) { return self.style(f.properties || {}, self.mgr.map.getZoom()); },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, L.extend(self.style(f.properties || {}, self.mgr.map.getZoom()),
          {pane: pane, renderer: renderer, interactive: false, pmIgnore: true, snapIgnore: true}));
      },
      onEachFeature: function (f, layer) {
        if (name === 'zones') {
          layer.on('click', function (e) {
            var pm = self.mgr.map.pm;
            if (pm && pm.globalDrawModeEnabled()) { return; }  // a vertex of a drawing: the map's click
            L.DomEvent.stop(e);
            self.mgr.handleClick(e.latlng);
          });
        }
      }
    });
  };

  MapLayer.prototype.setVisible = function (on) {
    this.visible = on;
    var done = this.sync(true);
    this.mgr.syncStack();
    if (!on && this.mgr.selected && this.mgr.selected.layer === this.name) { this.mgr.select(null); }
    return done;
  };

  /* Put the right child (tiles or GeoJSON) in the group for the current zoom; fetch GeoJSON if needed. */
  MapLayer.prototype.sync = function (force) {
    var map = this.mgr.map, zoom = map.getZoom();
    if (!this.visible) {
      if (map.hasLayer(this.group)) { map.removeLayer(this.group); }
      this.cancel();
      return Promise.resolve();
    }
    if (!map.hasLayer(this.group)) { this.group.addTo(map); }
    var mode = this.wantedMode(zoom);
    if (mode !== this.mode) {
      this.cancel();
      this.group.clearLayers();
      this.mode = mode;
      this.loadedBounds = null;
      if (mode === 'geojson') {
        this.geo = this.geo || this.makeGeo();
        this.geo.clearLayers();
        this.group.addLayer(this.geo);
      }
    }
    if (mode === 'geojson') { return this.load(force); }
    return Promise.resolve();
  };

  MapLayer.prototype.cancel = function () {
    if (this.abort) { this.abort.abort(); this.abort = null; }
    this.seq += 1;
  };

  /* GeoJSON of the viewport (padded); skipped when the loaded box still holds the view. */
  MapLayer.prototype.load = function (force) {
    var self = this, map = this.mgr.map;
    if (this.frozen) { return Promise.resolve(); }
    var view = map.getBounds();
    if (!force && this.loadedBounds && this.loadedBounds.contains(view)) { return Promise.resolve(); }
    if (!force && this.abort && this.loadingBounds && this.loadingBounds.contains(view) &&
        this.loadingCrs === this.mgr.crs) {
      return this.pendingLoad;  // the load under way already covers this view
    }
    this.cancel();
    var seq = this.seq, bounds = view.pad(PAD);
    this.loadingBounds = bounds;
    this.loadingCrs = this.mgr.crs;
    var ctrl = this.abort = (window.AbortController ? new AbortController() : null);
    var url = PATHS[this.name] + U.query({bbox: bboxParam(bounds), limit: GEOJSON_LIMIT,
                                          crs: this.mgr.crs === 'gcj02' ? 'gcj02' : null});
    this.mgr.pending += 1;
    this.mgr.updateStatus();
    return this.pendingLoad = U.get(url, {signal: ctrl ? ctrl.signal : undefined}).then(function (fc) {
      if (seq !== self.seq || self.frozen) { return; }
      self.geo.clearLayers();
      self.geo.addData(fc);
      self.loadedBounds = bounds;
      var matched = fc.numberMatched !== undefined ? fc.numberMatched : fc.features.length;
      self.truncated = matched > fc.features.length ? fc.features.length : 0;
      self.mgr.stats.geojsonFeatures[self.name] = fc.features.length;
      self.mgr.stats.layersDrawn[self.name] = fc.features.length;
      if (self.name === 'cells') { self.labelCells(); }
      if (self.name === 'zones') { self.mgr.fire('zonesloaded'); }
      self.mgr.restoreHighlight();
    }).catch(function (err) {
      if (err && err.name === 'AbortError') { return; }
      if (err && err.expired) { return; }  // the login ran out: the page said so and reloads every layer
      self.mgr.stats.geojsonErrors += 1;
      GS.ui.message(t('status.loadFailed', {layer: t('layer.' + self.name), detail: err.message}), 'error');
    }).then(function () {
      if (seq === self.seq) { self.abort = null; }
      self.mgr.pending -= 1;
      self.mgr.updateStatus();
    });
  };

  /* Grid codes on the cells, at high zoom only (text nodes in tooltips: never HTML). */
  MapLayer.prototype.labelCells = function () {
    if (!this.geo) { return; }
    var map = this.mgr.map, show = map.getZoom() >= LABEL_ZOOM, view = map.getBounds().pad(0.1);
    this.geo.eachLayer(function (layer) {
      var code = layer.feature && layer.feature.properties && layer.feature.properties.code;
      var want = show && code && view.intersects(layer.getBounds());
      if (want && !layer.getTooltip()) {
        layer.bindTooltip(h('span', null, code), {permanent: true, direction: 'center', className: 'gs-cell-label',
                                                 interactive: false, opacity: 1});
      } else if (!want && layer.getTooltip()) {
        layer.unbindTooltip();
      }
    });
  };

  /* Features of this layer under a point: [{layer, id, props, geometry?, path?}], topmost first. */
  MapLayer.prototype.hits = function (latlng) {
    var map = this.mgr.map, out = [];
    if (!this.visible || !map.hasLayer(this.group)) { return out; }
    if (this.mode === 'geojson' && this.geo) {
      var lp = map.latLngToLayerPoint(latlng), layers = this.geo.getLayers();
      for (var j = layers.length - 1; j >= 0; j--) {
        var l = layers[j];
        if (l._pxBounds && l._containsPoint && l._containsPoint(lp)) {
          var f = l.feature || {};
          out.push({layer: this.name, id: featId(this.name, f.properties || {}, f.id), props: f.properties || {},
                    geometry: f.geometry, path: l, source: 'geojson'});
        }
      }
    }
    return out;
  };

  function featId(layer, props, fallback) {
    if (layer === 'zones') { return props.zone_id !== undefined ? props.zone_id : Number(fallback); }
    if (layer === 'cells') { return props.h3 || fallback; }
    if (layer === 'officers') { return props.officer_id !== undefined ? props.officer_id : Number(fallback); }
    return props.id !== undefined ? props.id : Number(fallback);
  }

  /* ---------------------------------------------------------------------------------------------- */
  /* Basemaps: none (default), OpenStreetMap, 天地图 (needs a key), 高德 (GCJ-02).                     */

  var BASEMAPS = {
    none: {crs: 'wgs84', make: function () { return null; }},
    osm: {crs: 'wgs84', make: function () {
      return L.tileLayer('https://tile.openstreetmap.org/{z}/{x}/{y}.png',
        {maxZoom: 19, attribution: '&copy; OpenStreetMap contributors'});
    }},
    tianditu: {crs: 'wgs84', needsKey: true, make: function (key) {
      var url = function (layer) {
        return 'https://t{s}.tianditu.gov.cn/' + layer + '_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=' +
          layer + '&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=' +
          encodeURIComponent(key);
      };
      var opts = {subdomains: '01234567', maxZoom: 18, attribution: '&copy; 天地图 Tianditu'};
      return L.layerGroup([L.tileLayer(url('vec'), opts), L.tileLayer(url('cva'), opts)]);
    }},
    amap: {crs: 'gcj02', make: function () {
      return L.tileLayer('https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}',
        {subdomains: '1234', maxZoom: 18, attribution: '&copy; 高德 AutoNavi'});
    }}
  };

  /* ---------------------------------------------------------------------------------------------- */

  function Manager(map, cfg) {
    var self = this;
    this.map = map;
    this.cfg = cfg;
    this.crs = 'wgs84';
    this.basemap = 'none';
    this.basemapLayer = null;
    this.layers = {};
    this.listeners = {};
    this.pending = 0;
    this.selected = null;
    this.stats = {tilesRequested: 0, tilesLoaded: 0, tilesWithFeatures: 0, tileFeatures: 0, tileErrors: 0,
                  geojsonErrors: 0, geojsonFeatures: {}, layersDrawn: {}};
    this.stack = null;       // the VectorGrid drawing every layer in tile mode
    this.stackLayers = '';   // its layers, comma-separated, in drawing order
    this.rev = 0;            // bumped after edits so tile URLs change (zone tiles are cached for a minute)
    var tp = map.createPane('gs-tiles');
    tp.style.zIndex = '340';
    tp.style.pointerEvents = 'none';
    DRAW_ORDER.forEach(function (name, i) {
      var pane = map.createPane('gs-' + name);
      pane.style.zIndex = String(350 + i * 5);
      pane.style.pointerEvents = 'none';
      self.layers[name] = new MapLayer(name, self);
    });
    var hp = map.createPane('gs-highlight');
    hp.style.zIndex = '398';
    hp.style.pointerEvents = 'none';
    this.highlight = L.featureGroup([], {pane: 'gs-highlight'}).addTo(map);
    this.debouncedLoad = U.debounce(function () { self.syncAll(false); }, 250);
    map.on('moveend', function () { self.debouncedLoad(); });
    map.on('zoomend', function () {
      self.syncAll(false);
      self.fire('zoom', map.getZoom());
    });
    map.on('click', function (e) { self.handleClick(e.latlng); });
    this.watchTileRefusals();
  }

  /* VectorGrid draws a tile answered 401 as an empty one and says nothing. The browser's resource timing does
     say (responseStatus, Chromium 109+): a tile refused to the login it was asked with ends that login, as a
     401 to any other call does (GS.auth.rejected), and the tiles come again without it. */
  Manager.prototype.watchTileRefusals = function () {
    var self = this;
    if (!window.PerformanceObserver || !window.PerformanceResourceTiming ||
        !('responseStatus' in window.PerformanceResourceTiming.prototype)) { return; }
    try {
      new window.PerformanceObserver(function (list) {
        list.getEntries().forEach(function (e) {
          if (e.responseStatus === 401 && self.stackToken && e.name.indexOf('/tiles/') >= 0) {
            GS.auth.rejected(self.stackToken);
          }
        });
      }).observe({type: 'resource'});
    } catch (e) { /* no resource timing: a refused login shows on the next GeoJSON call */ }
  };

  Manager.prototype.on = function (ev, fn) { (this.listeners[ev] = this.listeners[ev] || []).push(fn); };
  Manager.prototype.fire = function (ev, arg) { (this.listeners[ev] || []).forEach(function (fn) { fn(arg); }); };
  Manager.prototype.get = function (name) { return this.layers[name]; };
  Manager.prototype.names = function () { return DRAW_ORDER.slice(); };

  Manager.prototype.syncAll = function (force) {
    var self = this;
    var jobs = DRAW_ORDER.map(function (n) { return self.layers[n].sync(force); });
    this.syncStack();
    return Promise.all(jobs).then(function () {
      if (self.layers.cells.mode === 'geojson') { self.layers.cells.labelCells(); }
      self.updateStatus();
    });
  };

  /* ----- the tile stack: one MVT request per tile for all visible layers in tile mode ----- */

  Manager.prototype.tileUrl = function () {
    var q = U.query({crs: this.crs === 'gcj02' ? 'gcj02' : null, v: this.rev || null});
    return 'tiles/' + this.stackLayers + '/{z}/{x}/{y}.pbf' + q;
  };

  Manager.prototype.syncStack = function () {
    var self = this, zoom = this.map.getZoom();
    var names = DRAW_ORDER.filter(function (n) {
      var l = self.layers[n];
      return l.visible && l.mode === 'tile' && zoom >= l.minZoom();
    });
    var wanted = names.join(',');
    if (!wanted) {
      if (this.stack && this.map.hasLayer(this.stack)) { this.map.removeLayer(this.stack); }
      this.stackLayers = '';
      return;
    }
    if (!this.stack) { this.stack = this.makeStack(); }
    if (wanted !== this.stackLayers) {
      this.stackLayers = wanted;
      this.stack.setUrl(this.tileUrl(), !this.map.hasLayer(this.stack));
    }
    if (!this.map.hasLayer(this.stack)) { this.stack.addTo(this.map); }
  };

  Manager.prototype.makeStack = function () {
    var self = this, styles = {};
    DRAW_ORDER.forEach(function (n) {
      var style = self.layers[n].style;
      styles[n] = function (props, zoom) { return self.layers[n].visible ? style(props, zoom) : []; };
    });
    this.stackToken = GS.auth ? GS.auth.token() : null;
    var vg = new TileStack(this.tileUrl(), {
      pane: 'gs-tiles',
      rendererFactory: L.canvas.tile,
      vectorTileLayerStyles: styles,
      interactive: true,          // keeps the features' pixel bounds for hit-testing (identify)
      tolerance: 3,
      getFeatureId: function (f) { return f.layerName + ':' + f.id; },
      // staff see the personal attributes (contacts, phones) in the tiles too; rebuilt on login and logout
      fetchOptions: {headers: this.stackToken ? {Authorization: 'Bearer ' + this.stackToken} : {}},
      maxZoom: this.cfg.detail_zoom - 1,
      keepBuffer: 1,
      updateWhenZooming: false
    });
    vg.on('tileloadstart', function () { self.stats.tilesRequested += 1; });
    vg.on('tileload', function (e) {
      var st = self.stats, r = vg._vectorTiles && vg._vectorTiles[vg._tileCoordsToKey(e.coords)];
      st.tilesLoaded += 1;
      var keys = r && r._features ? Object.keys(r._features) : [];
      st.tileFeatures += keys.length;
      if (keys.length) { st.tilesWithFeatures += 1; }
      keys.forEach(function (k) {
        var name = k.slice(0, k.indexOf(':'));
        st.layersDrawn[name] = (st.layersDrawn[name] || 0) + 1;
      });
    });
    vg.on('tileerror', function () { self.stats.tileErrors += 1; });
    return vg;
  };

  /* Features of the tile stack under a point, by layer: {zones: [hit, ...], ...}, topmost first. */
  Manager.prototype.tileHits = function (latlng) {
    var out = {}, vg = this.stack, map = this.map;
    if (!vg || !map.hasLayer(vg) || !vg._vectorTiles) { return out; }
    var z = vg._tileZoom;
    if (z === undefined || z === null) { return out; }
    var size = vg.getTileSize(), p = map.project(latlng, z);
    var coords = L.point(Math.floor(p.x / size.x), Math.floor(p.y / size.y));
    coords.z = z;
    var renderer = vg._vectorTiles[vg._tileCoordsToKey(coords)];
    if (!renderer || !renderer._features) { return out; }
    var local = p.subtract(coords.scaleBy(size));
    var keys = Object.keys(renderer._features);
    for (var i = keys.length - 1; i >= 0; i--) {
      var entry = renderer._features[keys[i]], feat = entry.feature, name = entry.layerName;
      if (!this.layers[name] || !this.layers[name].visible) { continue; }
      if (feat._pxBounds && feat._containsPoint(local)) {
        var props = feat.properties || {};
        (out[name] = out[name] || []).push({layer: name, id: featId(name, props, keys[i].slice(name.length + 1)),
                                            props: props, source: 'tile'});
      }
    }
    return out;
  };

  Manager.prototype.updateStatus = function () { this.fire('status'); };

  Manager.prototype.truncatedLayers = function () {
    var self = this;
    return DRAW_ORDER.filter(function (n) {
      var l = self.layers[n];
      return l.visible && l.mode === 'geojson' && l.truncated;
    }).map(function (n) { return {name: n, shown: self.layers[n].truncated}; });
  };

  /* Resolves when every layer drawn at the current zoom has its first tiles or GeoJSON on the map. */
  Manager.prototype.firstDraw = function () {
    var self = this, zoom = this.map.getZoom(), waits = [];
    var vg = this.stack;
    if (vg && this.map.hasLayer(vg) && zoom < this.cfg.detail_zoom) {
      waits.push(new Promise(function (resolve) {
        if (vg._loading === false && vg._noTilesToLoad()) { resolve(); return; }
        vg.once('load', function () { resolve(); });
      }));
    }
    DRAW_ORDER.forEach(function (n) {
      var l = self.layers[n];
      if (l.active(zoom) && l.mode === 'geojson' && l.pendingLoad) { waits.push(l.pendingLoad); }
    });
    return Promise.all(waits);
  };

  /* ----- clicks and selection ----- */

  Manager.prototype.identify = function (latlng) {
    var self = this, out = [], seen = {}, fromTiles = this.tileHits(latlng);
    HIT_ORDER.forEach(function (n) {
      var l = self.layers[n];
      (l.mode === 'tile' ? fromTiles[n] || [] : l.hits(latlng)).forEach(function (hit) {
        var key = hit.layer + ':' + hit.id;
        if (!seen[key]) { seen[key] = true; out.push(hit); }
      });
    });
    return out;
  };

  Manager.prototype.handleClick = function (latlng) {
    if (this.map.pm && this.map.pm.globalDrawModeEnabled && this.map.pm.globalDrawModeEnabled()) { return; }
    var hits = this.identify(latlng);
    if (GS.edit && GS.edit.interceptClick && GS.edit.interceptClick(hits, latlng)) { return; }
    this.select(hits[0] || null, hits.slice(1), latlng);
  };

  Manager.prototype.select = function (hit, others, latlng) {
    this.selected = hit;
    this.highlight.clearLayers();
    this.fire('select', {hit: hit, others: others || [], latlng: latlng});
    if (hit) { this.drawHighlight(hit); }
  };

  Manager.prototype.restoreHighlight = function () {
    var hit = this.selected;
    if (!hit || hit.source !== 'geojson' || hit.layer !== 'zones') { return; }
    var path = this.findZonePath(hit.id);
    if (path) { hit.path = path; }
  };

  Manager.prototype.drawHighlight = function (hit) {
    var self = this;
    if (hit.geometry) {
      this.showGeometry(hit.geometry, HIGHLIGHT);
      return;
    }
    if (hit.layer === 'officers') { return; }
    var params = {layer: hit.layer, crs: this.crs === 'gcj02' ? 'gcj02' : null};
    if (hit.layer === 'cells') { params.h3 = hit.props.h3; } else { params.id = hit.id; }
    U.get('workspace/locate' + U.query(params)).then(function (f) {
      if (self.selected === hit) { self.showGeometry(f.geometry, HIGHLIGHT); }
    }).catch(function () { /* the outline is a nicety */ });
  };

  Manager.prototype.showGeometry = function (geometry, style, keep) {
    if (!keep) { this.highlight.clearLayers(); }
    var pane = 'gs-highlight';
    var layer = L.geoJSON(geometry, {
      pane: pane, interactive: false, pmIgnore: true, snapIgnore: true, style: function () { return style; },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, L.extend({radius: 9, pane: pane, interactive: false}, style));
      }
    });
    this.highlight.addLayer(layer);
    return layer;
  };

  Manager.prototype.clearHighlight = function () { this.highlight.clearLayers(); };

  Manager.prototype.findZonePath = function (zoneId) {
    var zl = this.layers.zones, found = null;
    if (!zl.geo || zl.mode !== 'geojson') { return null; }
    zl.geo.eachLayer(function (l) {
      var p = l.feature && l.feature.properties;
      if (p && String(p.zone_id) === String(zoneId)) { found = l; }
    });
    return found;
  };

  /* After an edit: new tile URLs (tiles are cached) and a fresh GeoJSON load. */
  Manager.prototype.reloadZones = function () {
    var zl = this.layers.zones;
    this.rev += 1;
    if (this.stack) { this.stack.setUrl(this.tileUrl(), !this.map.hasLayer(this.stack)); }
    if (zl.mode === 'geojson') { return zl.load(true); }
    return Promise.resolve();
  };

  /* After a login or logout: a new tile stack (its fetchOptions carry the credentials; new URLs, so no tile
     cached for the other user is reused) and every GeoJSON layer loaded again. */
  Manager.prototype.authChanged = function () {
    this.rev += 1;
    if (this.stack) {
      if (this.map.hasLayer(this.stack)) { this.map.removeLayer(this.stack); }
      this.stack = null;
      this.stackToken = null;
      this.stackLayers = '';
    }
    this.select(null);
    return this.syncAll(true);
  };

  /* Zoom to a feature of a layer (by id, or a cell by code); resolves with the feature. */
  Manager.prototype.zoomToFeature = function (layer, ref, opts) {
    var self = this, params = {layer: layer, crs: this.crs === 'gcj02' ? 'gcj02' : null};
    if (layer === 'cells') { params.code = ref; } else { params.id = ref; }
    return U.get('workspace/locate' + U.query(params)).then(function (f) {
      var g = L.geoJSON(f.geometry);
      var b = g.getBounds();
      var maxZoom = (opts && opts.maxZoom) || 18;
      self.map.fitBounds(b, {maxZoom: maxZoom, padding: [40, 40]});
      if (!(opts && opts.noHighlight)) { self.showGeometry(f.geometry, HIGHLIGHT, opts && opts.keep); }
      return f;
    });
  };

  Manager.prototype.homeBounds = function () {
    var b = this.cfg.bounds;
    if (!b) { return null; }
    var sw = L.latLng(b[1], b[0]), ne = L.latLng(b[3], b[2]);
    if (this.crs === 'gcj02') { sw = U.toGcj(sw); ne = U.toGcj(ne); }
    return L.latLngBounds(sw, ne);
  };

  /* ----- basemaps and the display CRS ----- */

  Manager.prototype.setBasemap = function (name, key) {
    var def = BASEMAPS[name];
    if (!def) { return false; }
    if (def.needsKey && !key) {
      GS.ui.message(t('basemap.needKey'), 'error');
      return false;
    }
    if (this.basemapLayer) { this.map.removeLayer(this.basemapLayer); this.basemapLayer = null; }
    this.basemap = name;
    this.basemapLayer = def.make(key);
    if (this.basemapLayer) { this.basemapLayer.addTo(this.map); }
    document.body.classList.toggle('gs-no-basemap', !this.basemapLayer);
    this.setCrs(def.crs);
    this.fire('basemap', name);
    return true;
  };

  /* Switch every overlay between WGS84 and GCJ-02, keeping the same ground in view. */
  Manager.prototype.setCrs = function (crs) {
    if (crs === this.crs) { return; }
    var map = this.map, center = map.getCenter();
    var moved = crs === 'gcj02' ? U.toGcj(center) : U.fromGcj(center);
    this.crs = crs;
    this.highlight.clearLayers();
    this.selected = null;
    this.fire('select', {hit: null, others: []});
    var self = this;
    DRAW_ORDER.forEach(function (n) {
      var l = self.layers[n];
      l.loadedBounds = null;
      if (l.geo) { l.geo.clearLayers(); }
    });
    if (this.stack) { this.stack.setUrl(this.tileUrl(), !this.map.hasLayer(this.stack)); }
    map.setView(moved, map.getZoom(), {animate: false});
    this.syncAll(true);
    this.fire('crs', crs);
  };

  GS.layers = {
    Manager: Manager,
    BASEMAPS: BASEMAPS,
    DRAW_ORDER: DRAW_ORDER,
    officerColor: officerColor,
    bboxParam: bboxParam,
    HIGHLIGHT: HIGHLIGHT
  };
})();
