/* gridsvc workspace: DOM building without innerHTML, the API client, small helpers. */
(function () {
  'use strict';
  var GS = window.GS = window.GS || {};

  /* h('div', {class: 'x', onclick: fn, dataset: {a: 1}}, 'text', node, [more]) -> element.
     Strings always become text nodes: data never goes through innerHTML. */
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === undefined || v === null || v === false) { return; }
        if (k === 'class') { el.className = v; }
        else if (k === 'dataset') { Object.keys(v).forEach(function (d) { el.dataset[d] = v[d]; }); }
        else if (k === 'style' && typeof v === 'object') { Object.keys(v).forEach(function (s) { el.style[s] = v[s]; }); }
        else if (k.slice(0, 2) === 'on' && typeof v === 'function') { el.addEventListener(k.slice(2), v); }
        else if (k === 'text') { el.textContent = String(v); }
        else if (v === true) { el.setAttribute(k, ''); }
        else { el.setAttribute(k, String(v)); }
      });
    }
    for (var i = 2; i < arguments.length; i++) { append(el, arguments[i]); }
    return el;
  }

  function append(el, child) {
    if (child === undefined || child === null || child === false) { return; }
    if (Array.isArray(child)) { child.forEach(function (c) { append(el, c); }); return; }
    el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }

  function clear(el) {
    while (el.firstChild) { el.removeChild(el.firstChild); }
    return el;
  }

  function debounce(fn, ms) {
    var timer = null;
    var wrapped = function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { timer = null; fn.apply(self, args); }, ms);
    };
    wrapped.cancel = function () { clearTimeout(timer); timer = null; };
    wrapped.flush = function () { if (timer !== null) { clearTimeout(timer); timer = null; fn(); } };
    return wrapped;
  }

  /* An error answered by the API: status, the JSON body ({error, detail, context}) and a readable message. */
  function ApiError(status, body, url) {
    this.name = 'ApiError';
    this.status = status;
    this.body = body || {};
    this.url = url;
    this.message = ApiError.describe(status, this.body);
  }
  ApiError.prototype = Object.create(Error.prototype);
  ApiError.describe = function (status, body) {
    var d = body && body.detail;
    if (Array.isArray(d)) {  // FastAPI request validation: [{loc, msg}]
      return d.map(function (e) { return (e.loc ? e.loc.join('.') + ': ' : '') + e.msg; }).join('; ');
    }
    if (typeof d === 'string' && d) { return d; }
    return 'HTTP ' + status;
  };

  /* fetch() against gridsvc (URLs relative to the page), JSON in and out; throws ApiError on >= 400.
     opts: body (sent as JSON) or form (an object sent form-encoded), headers, signal, and token: the login
     to send (default: the current one, GS.auth). With a token every call carries Authorization: Bearer and
     X-Gridsvc-Client: ui (the audit log's source). A 401 to the current login ends it (GS.auth.rejected; the
     error has .expired); a GET answered 429 (anonymous rate limit) is retried after Retry-After, twice. */
  function request(method, url, opts) {
    opts = opts || {};
    var init = {method: method, headers: {Accept: 'application/json, application/geo+json'}, signal: opts.signal};
    if (opts.form) {
      init.headers['Content-Type'] = 'application/x-www-form-urlencoded';
      init.body = new URLSearchParams(opts.form).toString();
    } else if (opts.body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
    var token = 'token' in opts ? opts.token : (GS.auth ? GS.auth.token() : null);
    if (token) {
      init.headers.Authorization = 'Bearer ' + token;
      init.headers['X-Gridsvc-Client'] = 'ui';
    }
    if (opts.headers) { Object.keys(opts.headers).forEach(function (k) { init.headers[k] = opts.headers[k]; }); }
    function attempt(n) {
      return fetch(url, init).then(function (res) {
        if (res.status === 429 && method === 'GET' && n < RETRIES_429) {
          var wait = Math.min(MAX_WAIT_429_S, Math.max(1, Number(res.headers.get('Retry-After')) || 1));
          return delay(wait * 1000, opts.signal).then(function () { return attempt(n + 1); });
        }
        if (res.status === 204) { return {status: 204, body: null, headers: res.headers}; }
        return res.text().then(function (text) {
          var body = null;
          if (text) {
            try { body = JSON.parse(text); } catch (e) { body = {detail: text.slice(0, 300)}; }
          }
          if (!res.ok) {
            var err = new ApiError(res.status, body, url);
            if (res.status === 401 && token && GS.auth) { err.expired = GS.auth.rejected(token); }
            throw err;
          }
          return {status: res.status, body: body, headers: res.headers};
        });
      });
    }
    return attempt(0);
  }

  var RETRIES_429 = 2, MAX_WAIT_429_S = 10;

  /* A pause that an AbortSignal cuts short (rejecting with an AbortError, as fetch does). */
  function delay(ms, signal) {
    return new Promise(function (resolve, reject) {
      if (signal && signal.aborted) { reject(new DOMException('aborted', 'AbortError')); return; }
      var timer = setTimeout(resolve, ms);
      if (signal) {
        signal.addEventListener('abort', function () {
          clearTimeout(timer);
          reject(new DOMException('aborted', 'AbortError'));
        }, {once: true});
      }
    });
  }

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (v === undefined || v === null || v === '') { return; }
      parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(v));
    });
    return parts.length ? '?' + parts.join('&') : '';
  }

  /* GCJ-02 offset (the published formula, as gridsvc/geo/chinese_crs.py), used only to keep the same ground
     in view when switching between a WGS84 and a GCJ-02 basemap; the overlays are shifted by the server. */
  var A = 6378245.0, EE = 0.00669342162296594323;
  function gcjOffset(lng, lat) {
    var x = lng - 105.0, y = lat - 35.0, pi = Math.PI;
    var common = (20.0 * Math.sin(6.0 * x * pi) + 20.0 * Math.sin(2.0 * x * pi)) * 2.0 / 3.0;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x)) + common;
    dlat += (20.0 * Math.sin(y * pi) + 40.0 * Math.sin(y / 3.0 * pi)) * 2.0 / 3.0;
    dlat += (160.0 * Math.sin(y / 12.0 * pi) + 320 * Math.sin(y * pi / 30.0)) * 2.0 / 3.0;
    var dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x)) + common;
    dlng += (20.0 * Math.sin(x * pi) + 40.0 * Math.sin(x / 3.0 * pi)) * 2.0 / 3.0;
    dlng += (150.0 * Math.sin(x / 12.0 * pi) + 300.0 * Math.sin(x / 30.0 * pi)) * 2.0 / 3.0;
    var radlat = lat / 180.0 * pi, magic = 1 - EE * Math.pow(Math.sin(radlat), 2), sqrtMagic = Math.sqrt(magic);
    dlat = (dlat * 180.0) / ((A * (1 - EE)) / (magic * sqrtMagic) * pi);
    dlng = (dlng * 180.0) / (A / sqrtMagic * Math.cos(radlat) * pi);
    return [dlng, dlat];
  }
  function inChinaRough(lng, lat) { return lng > 73.4 && lng < 135.1 && lat > 18.1 && lat < 53.6; }
  function toGcj(latlng) {
    if (!inChinaRough(latlng.lng, latlng.lat)) { return latlng; }
    var d = gcjOffset(latlng.lng, latlng.lat);
    return L.latLng(latlng.lat + d[1], latlng.lng + d[0]);
  }
  function fromGcj(latlng) {
    if (!inChinaRough(latlng.lng, latlng.lat)) { return latlng; }
    var lng = latlng.lng, lat = latlng.lat;
    for (var i = 0; i < 5; i++) {
      var d = gcjOffset(lng, lat);
      lng = latlng.lng - d[0]; lat = latlng.lat - d[1];
    }
    return L.latLng(lat, lng);
  }

  function fmtNumber(v, digits) {
    if (typeof v !== 'number' || !isFinite(v)) { return v; }
    return Number.isInteger(v) ? String(v) : v.toFixed(digits === undefined ? 1 : digits);
  }

  GS.util = {
    h: h, append: append, clear: clear, debounce: debounce, request: request, query: query, ApiError: ApiError,
    toGcj: toGcj, fromGcj: fromGcj, fmtNumber: fmtNumber,
    get: function (url, opts) { return request('GET', url, opts).then(function (r) { return r.body; }); }
  };
})();
