/* gridsvc workspace: zone editing through the API with Leaflet-Geoman: draw (with a party), edit vertices with
   snapping, split, merge, reassign, delete, history and revert. Server errors are shown as sent: a 409 overlap
   names the other zones and offers "clip mine" / "take theirs" (retried with overlap=clip|take). */
(function () {
  'use strict';
  var GS = window.GS;
  var U = GS.util, h = U.h;
  var t = function (k, v) { return GS.i18n.t(k, v); };
  /* the kinds (in order of precedence) and their labels come from the server: GET /workspace/config */
  function kinds(list) { return (mgr.cfg[list] || []).map(function (k) { return k.kind; }); }
  var DRAFT_STYLE = {color: '#e67e22', weight: 2.5, dashArray: '6 4', fillColor: '#f39c12', fillOpacity: 0.3};
  var SNAP = {snappable: true, snapDistance: 15};
  var OVERLAP_STYLE = {color: '#c0392b', weight: 3, dashArray: '4 4', fill: true, fillColor: '#c0392b', fillOpacity: 0.15};

  var S = {
    mode: null,       // null | draw | assign | shape | split | merge | busy
    zone: null,       // properties of the selected zone
    draft: null,      // the polygon or line drawn, until it is saved or dropped
    party: null,      // the party chosen for a new zone or a reassignment
    editPath: null,   // the zone layer whose vertices are being edited
    mergeWith: null
  };
  var mgr, map, root, work, selBox, buttons = {};

  function crs() { return mgr.crs === 'gcj02' ? 'gcj02' : null; }
  function detail() { return map.getZoom() >= mgr.cfg.detail_zoom; }
  function etag(z) { return '"' + z.zone_id + '-' + z.version + '"'; }

  /* ----- layout ----- */

  function init(manager, container) {
    mgr = manager;
    map = manager.map;
    root = container;
    map.pm.setGlobalOptions(L.extend({allowSelfIntersection: false}, SNAP));
    map.pm.setLang(GS.i18n.lang === 'zh' ? 'zh' : 'en');
    selBox = h('div', {class: 'gs-edit-selection', id: 'edit-selection'});
    var tools = h('div', {class: 'gs-tools', role: 'toolbar'});
    [['draw', startDraw], ['shape', startShape], ['split', startSplit], ['merge', startMerge],
     ['reassign', startReassign], ['delete', startDelete], ['history', showHistory]].forEach(function (b) {
      buttons[b[0]] = h('button', {type: 'button', id: 'edit-' + b[0], class: 'gs-tool gs-tool-' + b[0],
                                   onclick: function () { b[1](); }}, t('edit.' + b[0]));
      tools.appendChild(buttons[b[0]]);
    });
    work = h('div', {class: 'gs-edit-work', id: 'edit-work', 'aria-live': 'polite'});
    U.append(root, [selBox, tools, work]);

    mgr.on('select', function (ev) {
      var hit = ev.hit;
      if (S.mode === 'shape' || S.mode === 'busy') { return; }
      S.zone = hit && hit.layer === 'zones' ? L.extend({zone_id: hit.id}, hit.props) : null;
      refresh();
    });
    mgr.on('zoom', refresh);
    mgr.on('crs', function () { cancel(); });
    map.on('pm:create', onCreate);
    document.addEventListener('keydown', function (e) { if (e.key === 'Escape' && S.mode) { cancel(); } });
    GS.i18n.onChange(function (lang) {
      map.pm.setLang(lang === 'zh' ? 'zh' : 'en');
      Object.keys(buttons).forEach(function (k) { buttons[k].textContent = t('edit.' + k); });
      refresh();
    });
    refresh();
  }

  function refresh() {
    U.clear(selBox);
    var z = S.zone;
    if (z) {
      U.append(selBox, [h('strong', null, t('edit.selected', {id: z.zone_id})),
        h('span', {class: 'gs-muted'}, ' · ' + (z.party_name || t('party.grid_officer')) +
          (z.version ? ' · ' + t('history.version', {v: z.version}) : ''))]);
    } else {
      selBox.appendChild(h('span', {class: 'gs-muted'}, t('edit.noneSelected')));
    }
    var can = GS.auth.canEdit(), user = GS.auth.user();
    var why = can ? null : user ? t('auth.editRole', {role: GS.auth.roleLabel(user.role)}) : t('auth.editLogin');
    if (!can) {
      selBox.appendChild(h('div', {class: 'gs-hint gs-hint-auth', id: 'edit-auth-hint'}, why, user ? null :
        [' ', h('button', {type: 'button', class: 'gs-link', id: 'edit-login', onclick: GS.auth.showLogin}, t('auth.login'))]));
    } else if (user && user.role === 'grid_officer' && user.grids && user.grids.length) {
      selBox.appendChild(h('div', {class: 'gs-note gs-grids-only', id: 'edit-grids'}, t('auth.gridsOnly', {grids: user.grids.join(', ')})));
    }
    if (can && !detail()) {
      selBox.appendChild(h('div', {class: 'gs-hint'}, t('zoom.toEdit', {z: mgr.cfg.detail_zoom})));
    }
    var idle = !S.mode, ok = can && idle;
    buttons.draw.disabled = !ok || !detail();
    buttons.shape.disabled = !ok || !z || !detail();
    buttons.split.disabled = !ok || !z || !detail();
    buttons.merge.disabled = !ok || !z;
    buttons.reassign.disabled = !ok || !z;
    buttons['delete'].disabled = !ok || !z;
    buttons.history.disabled = !idle || !z;  // reading the history needs no login
    Object.keys(buttons).forEach(function (k) {
      if (k !== 'history') { buttons[k].title = why || ''; }
    });
    document.body.dataset.editMode = S.mode || '';
  }

  function setWork() {
    U.clear(work);
    for (var i = 0; i < arguments.length; i++) { U.append(work, arguments[i]); }
    if (GS.ui && GS.ui.showTab) { GS.ui.showTab('edit'); }
  }

  function actions() {
    return h('div', {class: 'gs-actions'}, Array.prototype.slice.call(arguments));
  }

  function button(label, onclick, cls) {
    return h('button', {type: 'button', class: cls || '', onclick: onclick}, label);
  }

  /* ----- modes ----- */

  function cancel() {
    if (map.pm.globalDrawModeEnabled()) { map.pm.disableDraw(); }
    if (S.draft) { map.removeLayer(S.draft); S.draft = null; }
    if (S.editPath) {
      if (S.editPath.pm) { S.editPath.pm.disable(); }
      S.editPath = null;
      mgr.get('zones').frozen = false;
      mgr.reloadZones();
    }
    S.mode = null;
    S.party = null;
    S.mergeWith = null;
    U.clear(work);
    refresh();
  }

  function startDraw() {
    cancel();
    if (!detail()) { return; }
    S.mode = 'draw';
    map.pm.enableDraw('Polygon', L.extend({
      allowSelfIntersection: false, templineStyle: {color: '#e67e22'},
      hintlineStyle: {color: '#e67e22', dashArray: [5, 5]}, pathOptions: DRAFT_STYLE
    }, SNAP));
    setWork(h('p', {class: 'gs-hint'}, t('edit.drawHint')), actions(button(t('edit.cancel'), cancel)));
    refresh();
  }

  function onCreate(e) {
    if (S.mode === 'draw' && e.shape === 'Polygon') {
      S.draft = e.layer;
      S.draft.setStyle(DRAFT_STYLE);
      S.mode = 'assign';
      map.pm.disableDraw();
      showAssign();
      refresh();
    } else if (S.mode === 'split' && e.shape === 'Line') {
      S.draft = e.layer;
      map.pm.disableDraw();
      submitSplit();
    } else if (e.layer) {
      map.removeLayer(e.layer);
    }
  }

  function kindSelect() {
    var sel = h('select', {id: 'edit-kind', 'aria-label': t('edit.kind')},
      h('option', {value: ''}, t('kind.auto')),
      kinds('zone_kinds').map(function (k) { return h('option', {value: k}, t('kind.' + k)); }));
    return sel;
  }

  function showAssign() {
    var kind = kindSelect();
    var note = h('input', {type: 'text', id: 'edit-note', maxlength: 500, 'aria-label': t('edit.note')});
    var save = button(t('edit.save'), function () { saveNew(null); }, 'gs-primary');
    save.id = 'edit-save';
    save.disabled = true;
    var picker = partyPicker(function (p) {
      S.party = p;
      save.disabled = !p;
    });
    setWork(h('p', {class: 'gs-hint'}, t('edit.drawn')), picker,
      h('label', {class: 'gs-field'}, h('span', null, t('edit.kind')), kind),
      h('label', {class: 'gs-field'}, h('span', null, t('edit.note')), note),
      actions(save, button(t('edit.cancel'), cancel)));
    S.newZone = {kind: kind, note: note};
  }

  function saveNew(overlap) {
    if (!S.draft || !S.party) { return; }
    var props = {party_id: S.party.id};
    if (S.newZone.kind.value) { props.kind = S.newZone.kind.value; }
    if (S.newZone.note.value.trim()) { props.note = S.newZone.note.value.trim(); }
    submit({method: 'POST', path: 'zones', params: {crs: crs()},
            body: {type: 'Feature', geometry: S.draft.toGeoJSON(8).geometry, properties: props},
            done: function (f) { finished(f, t('edit.saved', {id: f.id, v: f.properties.version})); }}, overlap);
  }

  function startShape() {
    if (!S.zone) { return; }
    var path = mgr.findZonePath(S.zone.zone_id);
    if (!path || !path.pm) {
      GS.ui.message(t('edit.notEditable'), 'error');
      mgr.zoomToFeature('zones', S.zone.zone_id, {maxZoom: 18});
      return;
    }
    cancel();
    S.zone = L.extend({zone_id: path.feature.properties.zone_id}, path.feature.properties);
    S.mode = 'shape';
    S.editPath = path;
    mgr.get('zones').frozen = true;
    mgr.clearHighlight();
    path.pm.enable(L.extend({allowSelfIntersection: false, draggable: false}, SNAP));
    var save = button(t('edit.save'), function () { saveShape(null); }, 'gs-primary');
    save.id = 'edit-save';
    setWork(h('p', {class: 'gs-hint'}, t('edit.shapeHint')), actions(save, button(t('edit.cancel'), cancel)));
    refresh();
  }

  function saveShape(overlap) {
    var z = S.zone, path = S.editPath;
    if (!path) { return; }
    submit({method: 'PUT', path: 'zones/' + z.zone_id, params: {crs: crs()}, headers: {'If-Match': etag(z)},
            body: {type: 'Feature', geometry: path.toGeoJSON(8).geometry, properties: {}},
            done: function (f) { finished(f, t('edit.saved', {id: f.id, v: f.properties.version})); }}, overlap);
  }

  function startSplit() {
    if (!S.zone || !detail()) { return; }
    var z = S.zone;
    cancel();
    S.zone = z;
    S.mode = 'split';
    map.pm.enableDraw('Line', L.extend({templineStyle: {color: '#c0392b'},
      hintlineStyle: {color: '#c0392b', dashArray: [5, 5]}, pathOptions: {color: '#c0392b', weight: 3}}, SNAP));
    setWork(h('p', {class: 'gs-hint'}, t('edit.splitHint', {id: z.zone_id})), actions(button(t('edit.cancel'), cancel)));
    refresh();
  }

  function submitSplit() {
    var z = S.zone;
    submit({method: 'POST', path: 'zones/' + z.zone_id + '/split', params: {crs: crs()},
            headers: {'If-Match': etag(z)},
            body: {type: 'Feature', geometry: S.draft.toGeoJSON(8).geometry, properties: {}},
            done: function (fc) {
              var ids = (fc.features || []).map(function (f) { return '#' + f.id; }).join(', ');
              finished(fc.features && fc.features[0], t('edit.splitDone', {ids: ids}));
            }}, null);
  }

  function startMerge() {
    if (!S.zone) { return; }
    var z = S.zone;
    cancel();
    S.zone = z;
    S.mode = 'merge';
    setWork(h('p', {class: 'gs-hint'}, t('edit.mergeHint', {id: z.zone_id})), actions(button(t('edit.cancel'), cancel)));
    refresh();
  }

  /* While merging, the next zone clicked is the one to merge; while editing vertices clicks do nothing. */
  function interceptClick(hits) {
    if (S.mode === 'shape' || S.mode === 'assign' || S.mode === 'busy') { return true; }
    if (S.mode !== 'merge') { return false; }
    var other = hits.filter(function (hit) { return hit.layer === 'zones' && String(hit.id) !== String(S.zone.zone_id); })[0];
    if (!other) { return true; }
    S.mergeWith = other;
    mgr.drawHighlight(other);
    var a = S.zone.zone_id, b = other.id;
    var go = button(t('edit.confirm'), function () {
      submit({method: 'POST', path: 'zones/merge', params: {crs: crs()},
              body: {ids: [Number(a), Number(b)], versions: [Number(S.zone.version), Number(other.props.version)]},
              done: function (f) { finished(f, t('edit.merged', {id: f.id})); }}, null);
    }, 'gs-primary');
    go.id = 'edit-confirm';
    setWork(h('p', null, t('edit.mergeConfirm', {a: a, b: b})), actions(go, button(t('edit.cancel'), cancel)));
    return true;
  }

  function startReassign() {
    if (!S.zone) { return; }
    var z = S.zone;
    cancel();
    S.zone = z;
    S.mode = 'assign';
    var save = button(t('edit.save'), function () {
      submit({method: 'PUT', path: 'zones/' + z.zone_id, params: {crs: crs()}, headers: {'If-Match': etag(z)},
              body: {type: 'Feature', properties: {party_id: S.party.id}},
              done: function (f) { finished(f, t('edit.saved', {id: f.id, v: f.properties.version})); }}, null);
    }, 'gs-primary');
    save.id = 'edit-save';
    save.disabled = true;
    setWork(h('p', null, t('edit.reassignTitle', {id: z.zone_id})),
      partyPicker(function (p) { S.party = p; save.disabled = !p; }), actions(save, button(t('edit.cancel'), cancel)));
    refresh();
  }

  function startDelete() {
    if (!S.zone) { return; }
    var z = S.zone;
    cancel();
    S.zone = z;
    S.mode = 'assign';
    var go = button(t('edit.delete'), function () {
      submit({method: 'DELETE', path: 'zones/' + z.zone_id, params: {}, headers: {'If-Match': etag(z)},
              done: function () {
                GS.ui.message(t('edit.deleted', {id: z.zone_id}), 'ok');
                S.zone = null;
                endMode();
                mgr.select(null);
                mgr.reloadZones();
              }}, null);
    }, 'gs-danger');
    go.id = 'edit-confirm';
    setWork(h('p', null, t('edit.deleteConfirm', {id: z.zone_id})), actions(go, button(t('edit.cancel'), cancel)));
    refresh();
  }

  function showHistory() {
    if (!S.zone) { return; }
    var z = S.zone;
    setWork(h('p', {class: 'gs-muted'}, '…'));
    U.get('zones/' + z.zone_id + '/history' + U.query({crs: crs()})).then(function (doc) {
      var versions = (doc.versions || []).slice().reverse();
      var list = h('ol', {class: 'gs-history', reversed: true});
      versions.forEach(function (v) {
        var current = !v.valid_to;
        var when = (v.valid_from || '').replace('T', ' ').slice(0, 16) + ' → ' +
          (current ? t('history.current') : (v.valid_to || '').replace('T', ' ').slice(0, 16));
        var show = button(t('history.show'), function () {
          var layer = mgr.showGeometry(v.geometry, {color: '#c0392b', weight: 3, dashArray: '6 4', fill: false});
          map.fitBounds(layer.getBounds(), {maxZoom: 19, padding: [40, 40]});
        });
        var revert = current ? null : button(t('history.revert'), function () {
          submit({method: 'POST', path: 'zones/' + z.zone_id + '/revert', params: {version: v.version, crs: crs()},
                  headers: {'If-Match': etag(z)},
                  done: function (f) { finished(f, t('edit.reverted', {id: f.id, v: v.version})); }}, null);
        });
        if (revert) { revert.className = 'gs-revert'; revert.dataset.version = v.version; }
        list.appendChild(h('li', {class: current ? 'gs-current' : ''},
          h('div', null, h('strong', null, t('history.version', {v: v.version})), ' · ', when),
          h('div', {class: 'gs-muted'}, [v.provenance, v.party_name, v.area_m2 !== undefined && v.area_m2 !== null ?
            U.fmtNumber(v.area_m2) + ' m²' : null, v.created_by ? t('history.by', {by: v.created_by}) : null]
            .filter(Boolean).join(' · ')),
          actions(show, revert)));
      });
      setWork(h('h3', null, t('history.title', {id: z.zone_id})), list);
    }).catch(showError);
  }

  /* ----- requests ----- */

  function submit(req, overlap) {
    var prev = S.mode;
    S.mode = 'busy';
    refresh();
    var params = L.extend({}, req.params || {}, {overlap: overlap || null});
    var url = req.path + U.query(params);
    return U.request(req.method, url, {body: req.body, headers: req.headers}).then(function (res) {
      S.mode = prev;
      req.done(res.body, res);
    }).catch(function (err) {
      S.mode = prev;
      refresh();
      if (err instanceof U.ApiError && err.status === 409 && err.body.error === 'ZoneOverlapError' &&
          req.method !== 'DELETE' && !/\/split$/.test(req.path) && req.path !== 'zones/merge') {
        showOverlap(err, req);
      } else {
        showError(err);
      }
    });
  }

  function showOverlap(err, req) {
    var overlaps = (err.body.context && err.body.context.overlaps) || [];
    var list = h('ul', {class: 'gs-overlaps'}, overlaps.map(function (o) {
      return h('li', null, button('#' + o.zone_id + ' · ' + (o.kind ? t('kind.' + o.kind) : '') +
        (o.party_name ? ' · ' + o.party_name : '') + ' · ' + U.fmtNumber(o.area_m2, 2) + ' m²', function () {
        mgr.zoomToFeature('zones', o.zone_id, {keep: true, maxZoom: 19});
      }, 'gs-link'));
    }));
    var clip = button(t('edit.clipMine'), function () { submit(req, 'clip'); }, 'gs-primary');
    clip.id = 'edit-clip';
    var take = button(t('edit.takeTheirs'), function () { submit(req, 'take'); });
    take.id = 'edit-take';
    var box = h('div', {class: 'gs-error gs-overlap', role: 'alert', id: 'edit-error'},
      h('strong', null, t('edit.overlapTitle')), h('p', {class: 'gs-detail'}, err.message), list,
      actions(clip, take, button(t('edit.cancel'), cancel)));
    showBox(box);
    GS.ui.message('');
    // The zones in the way, outlined in red next to the draft
    overlaps.forEach(function (o) {
      U.get('workspace/locate' + U.query({layer: 'zones', id: o.zone_id, crs: crs()})).then(function (f) {
        mgr.showGeometry(f.geometry, OVERLAP_STYLE, true);
      }).catch(function () { /* the list names them anyway */ });
    });
  }

  function showError(err) {
    var status = err && err.status;
    if (status === 412 && S.zone) { return showStale(err); }
    var title = err && err.body && err.body.error === 'OutsideManagedAreaError' ? t('edit.outside') :
      status === 403 ? t('edit.forbidden') : status === 401 ? t('edit.needLogin') : t('edit.failed');
    if (status === 401 && !err.expired) { GS.auth.showLogin(); }  // an expired login has said so already
    var box = h('div', {class: 'gs-error', role: 'alert', id: 'edit-error', dataset: {status: status || ''}},
      h('strong', null, title + (status ? ' (' + status + ')' : '')), h('p', {class: 'gs-detail'}, err && err.message ? err.message : String(err)));
    showBox(box);
    if (!err || !err.expired) { GS.ui.message(''); }  // keep "your login has expired" in view
  }

  /* Someone saved the zone first: say so, and offer to load their version (the draft stays for a retry). */
  function showStale(err) {
    var z = S.zone;
    var reload = button(t('edit.reloadZone'), function () {
      U.get('zones/' + z.zone_id + U.query({crs: crs()})).then(function (f) {
        finished(f, t('edit.reloaded', {id: z.zone_id, v: f.properties.version}));
      }).catch(showError);
    }, 'gs-primary');
    reload.id = 'edit-reload';
    var box = h('div', {class: 'gs-error', role: 'alert', id: 'edit-error', dataset: {status: '412'}},
      h('strong', null, t('edit.staleTitle') + ' (412)'), h('p', {class: 'gs-detail'}, err.message),
      actions(reload, button(t('edit.cancel'), cancel)));
    showBox(box);
    GS.ui.message('');
  }

  /* The error goes above whatever the planner was doing (the draft and its party stay for a retry). */
  function showBox(box) {
    var old = work.querySelector('#edit-error');
    if (old) { old.remove(); }
    work.insertBefore(box, work.firstChild);
    if (GS.ui && GS.ui.showTab) { GS.ui.showTab('edit'); }
  }

  function endMode() {
    if (S.draft) { map.removeLayer(S.draft); S.draft = null; }
    if (S.editPath) { if (S.editPath.pm) { S.editPath.pm.disable(); } S.editPath = null; }
    mgr.get('zones').frozen = false;
    S.mode = null;
    S.party = null;
    S.mergeWith = null;
    U.clear(work);
    refresh();
  }

  /* After a successful edit: refresh the zones and select the zone the server answered with. */
  function finished(feature, text) {
    endMode();
    GS.ui.message(text, 'ok');
    work.appendChild(h('p', {class: 'gs-ok', id: 'edit-result'}, text));
    return mgr.reloadZones().then(function () {
      if (feature && feature.properties) {
        var props = feature.properties;
        mgr.select({layer: 'zones', id: feature.id, props: props, geometry: feature.geometry, source: 'api'}, []);
      }
      GS.ui.flagEdited();
    });
  }

  /* ----- the party picker: search GET /parties, or record a new one with POST /parties ----- */

  function partyPicker(onPick) {
    var box = h('div', {class: 'gs-party-picker', id: 'party-picker'});
    var chosen = h('div', {class: 'gs-party-chosen'});
    var input = h('input', {type: 'search', id: 'party-search', placeholder: t('party.search'),
                            'aria-label': t('party.search'), autocomplete: 'off'});
    var kind = h('select', {id: 'party-kind', 'aria-label': t('party.kind')}, h('option', {value: ''}, t('party.anyKind')),
      kinds('party_kinds').map(function (k) { return h('option', {value: k}, t('party.' + k)); }));
    var list = h('ul', {class: 'gs-party-list', id: 'party-list', role: 'listbox'});
    var seq = 0;
    var search = U.debounce(function () {
      var my = ++seq;
      U.get('parties' + U.query({q: input.value.trim() || null, kind: kind.value || null, limit: 20}))
        .then(function (parties) { if (my === seq) { render(parties); } })
        .catch(function (err) { if (my === seq) { U.clear(list).appendChild(h('li', {class: 'gs-error'}, err.message)); } });
    }, 200);
    function render(parties) {
      U.clear(list);
      if (!parties.length) { list.appendChild(h('li', {class: 'gs-muted'}, t('party.none'))); }
      parties.forEach(function (p) {
        list.appendChild(h('li', {role: 'option'}, button([p.name, t('party.' + p.kind), p.contact, p.phone]
          .filter(Boolean).join(' · '), function () { pick(p); }, 'gs-party-option')));
      });
    }
    function pick(p) {
      U.clear(chosen);
      if (p) {
        U.append(chosen, [h('strong', null, t('party.chosen', {name: p.name})), ' ',
          button(t('party.change'), function () { pick(null); }, 'gs-link')]);
        searchBox.hidden = true;
      } else {
        searchBox.hidden = false;
        input.focus();
      }
      onPick(p);
    }
    // A new party
    var nk = h('select', {id: 'party-new-kind', 'aria-label': t('party.kind')},
      kinds('party_kinds').map(function (k) { return h('option', {value: k}, t('party.' + k)); }));
    var nn = h('input', {type: 'text', id: 'party-new-name', maxlength: 200, required: true});
    var nc = h('input', {type: 'text', id: 'party-new-contact', maxlength: 100});
    var np = h('input', {type: 'tel', id: 'party-new-phone', maxlength: 40});
    var create = button(t('party.create'), function () {
      if (!nn.value.trim()) { nn.focus(); return; }
      U.request('POST', 'parties', {body: {kind: nk.value, name: nn.value.trim(), contact: nc.value.trim() || null,
                                           phone: np.value.trim() || null}})
        .then(function (res) { form.hidden = true; pick(res.body); })
        .catch(showError);
    }, 'gs-primary');
    create.id = 'party-create';
    var form = h('fieldset', {class: 'gs-party-new', hidden: true},
      h('legend', null, t('party.new')),
      h('label', {class: 'gs-field'}, h('span', null, t('party.kind')), nk),
      h('label', {class: 'gs-field'}, h('span', null, t('party.name')), nn),
      h('label', {class: 'gs-field'}, h('span', null, t('party.contact')), nc),
      h('label', {class: 'gs-field'}, h('span', null, t('party.phone')), np),
      actions(create));
    var newBtn = button(t('party.new'), function () { form.hidden = !form.hidden; if (!form.hidden) { nn.focus(); } }, 'gs-link');
    newBtn.id = 'party-new';
    var searchBox = h('div', null, h('div', {class: 'gs-row'}, input, kind), list, newBtn, form);
    input.addEventListener('input', search);
    kind.addEventListener('change', search);
    U.append(box, [h('h3', null, t('party.pick')), chosen, searchBox]);
    search();
    return box;
  }

  /* Logged in or out (or the login ran out): the tools follow the role. A planner whose login ran out keeps the
     drawing (and its party) to save it after logging in again; logging out drops it. */
  function authChanged(ev) {
    var reason = ev && ev.reason;
    var drop = reason === 'logout' ||
      (reason === 'expired' && S.mode !== 'assign' && S.mode !== 'shape' && S.mode !== 'busy');
    if (S.mode && drop) { cancel(); }
    refresh();
  }

  GS.edit = {init: init, authChanged: authChanged, interceptClick: interceptClick, cancel: cancel, state: S, partyPicker: partyPicker};
})();
