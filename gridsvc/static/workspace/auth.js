/* gridsvc workspace: who is logged in. The login form in the top bar posts the OAuth2 password form to
   /auth/token; the JWT is kept in sessionStorage (this tab only) and util.js's request() sends it with every
   API call (Authorization: Bearer, X-Gridsvc-Client: ui). /auth/me says whose it is. When it runs out (its
   deadline, or a 401 on any call with it) the page says so and offers the login again. */
(function () {
  'use strict';
  var GS = window.GS;
  var U = GS.util, h = U.h;
  var t = function (k, v) { return GS.i18n.t(k, v); };
  var TOKEN_KEY = 'gridsvc.token', DEADLINE_KEY = 'gridsvc.tokenDeadline', NAME_KEY = 'gridsvc.lastUser';
  var MAX_TIMER = 2147483647;  // setTimeout's longest delay (ms)

  var state = {token: null, user: null, timer: null};
  var listeners = [];
  var el = {};

  function session(key, value) {
    try {
      if (value === undefined) { return window.sessionStorage.getItem(key); }
      if (value === null) { window.sessionStorage.removeItem(key); } else { window.sessionStorage.setItem(key, value); }
    } catch (e) { /* storage disabled: the login lasts as long as the page */ }
    return null;
  }

  /* The claims of a JWT (not verified: only to know when it runs out); null for API tokens (gst_…). */
  function claims(token) {
    var part = String(token || '').split('.')[1];
    if (!part) { return null; }
    try {
      part = part.replace(/-/g, '+').replace(/_/g, '/');
      while (part.length % 4) { part += '='; }
      return JSON.parse(window.atob(part));
    } catch (e) { return null; }
  }

  /* When the token runs out, in this browser's clock: the deadline noted at login (from expires_in, so a
     skewed clock does not matter), else the JWT's exp; null when unknown (API tokens). */
  function deadline(token) {
    var noted = (session(DEADLINE_KEY) || '').split(' ');  // "<end of the token> <ms>"
    if (noted.length === 2 && noted[0] === String(token).slice(-16) && Number(noted[1])) { return Number(noted[1]); }
    var c = claims(token);
    return c && typeof c.exp === 'number' ? c.exp * 1000 : null;
  }

  function role() { return state.user ? state.user.role : 'public'; }
  /* Whether the role table (gridsvc/people/roles.toml, as /auth/me lists it) lets the user do an action. */
  function may(action) { return !!(state.user && state.user.may && state.user.may.indexOf(action) >= 0); }
  function roleLabel(r) { return GS.i18n.has('role.' + r) ? t('role.' + r) : r; }

  function fire(reason) {
    update();
    listeners.forEach(function (fn) { fn({reason: reason, user: state.user}); });
  }

  function arm() {
    clearTimeout(state.timer);
    state.timer = null;
    var when = state.token ? deadline(state.token) : null;
    if (when) {
      state.timer = setTimeout(function () { expire(); }, Math.min(MAX_TIMER, Math.max(0, when - Date.now())));
    }
  }

  function forget() {
    clearTimeout(state.timer);
    state.timer = null;
    state.token = null;
    state.user = null;
    session(TOKEN_KEY, null);
    session(DEADLINE_KEY, null);
  }

  /* The token ran out (or the server refused it): back to anonymous, say so, offer the login. */
  function expire() {
    if (!state.token) { return; }
    var name = state.user && state.user.name;
    forget();
    if (name) { session(NAME_KEY, name); }
    if (GS.ui) { GS.ui.message(t('auth.expired'), 'error'); }
    document.body.dataset.auth = 'expired';
    openForm(true);
    fire('expired');
  }

  /* request() calls this on a 401 answered to `token`: true when it was the current login (now expired). */
  function rejected(token) {
    if (!token || token !== state.token) { return false; }
    expire();
    return true;
  }

  function me(token) {
    return U.request('GET', 'auth/me', {token: token}).then(function (res) { return res.body; });
  }

  /* At start-up: the token of this tab's session, if any, and whose it is. Never fails. */
  function init(container) {
    build(container);
    var token = session(TOKEN_KEY);
    if (!token) { update(); return Promise.resolve(null); }
    var when = deadline(token);
    if (when && when <= Date.now()) {
      state.token = token;
      expire();
      return Promise.resolve(null);
    }
    state.token = token;
    return me(token).then(function (user) {
      if (state.token !== token) { return null; }
      if (!user || !user.name) { forget(); update(); return null; }
      state.user = user;
      arm();
      update();
      return user;
    }).catch(function (err) {
      if (state.token === token && !(err && err.status === 401)) {
        // the server could not say (down, rate limit): keep the login, take name and role from the JWT
        var c = claims(token) || {};
        state.user = {name: c.sub || '?', role: c.role || 'public', grids: [], party_id: null};
        arm();
      }
      update();
      return state.user;
    });
  }

  function login(name, password) {
    return U.request('POST', 'auth/token', {form: {username: name, password: password}, token: null})
      .then(function (res) {
        var token = res.body.access_token, expiresIn = Number(res.body.expires_in) || 0;
        return me(token).then(function (user) {
          forget();
          state.token = token;
          state.user = user;
          session(TOKEN_KEY, token);
          if (expiresIn) { session(DEADLINE_KEY, token.slice(-16) + ' ' + (Date.now() + expiresIn * 1000)); }
          session(NAME_KEY, user.name);
          arm();
          document.body.dataset.auth = 'in';
          fire('login');
          return user;
        });
      });
  }

  function logout() {
    if (!state.token) { return; }
    forget();
    document.body.dataset.auth = 'out';
    if (GS.ui) { GS.ui.message(t('auth.loggedOut'), 'info'); }
    fire('logout');
  }

  /* ----- the control in the top bar ----- */

  function build(container) {
    var root = el.root = U.clear(container);
    el.open = h('button', {type: 'button', id: 'login-open', class: 'gs-auth-button', 'aria-expanded': 'false',
                           'aria-controls': 'login-form', dataset: {i18n: 'auth.login'},
                           onclick: function () { if (el.form.hidden) { openForm(false); } else { closeForm(); } }},
                 t('auth.login'));
    el.name = h('input', {type: 'text', id: 'login-name', name: 'username', autocomplete: 'username', required: true,
                          maxlength: 64, spellcheck: 'false', autocapitalize: 'off'});
    el.password = h('input', {type: 'password', id: 'login-password', name: 'password', required: true,
                              autocomplete: 'current-password', maxlength: 1024});
    el.note = h('p', {class: 'gs-login-note', id: 'login-note', dataset: {i18n: 'auth.expired'}, hidden: true},
                t('auth.expired'));
    el.error = h('div', {class: 'gs-error', id: 'login-error', role: 'alert', hidden: true});
    el.submit = h('button', {type: 'submit', id: 'login-submit', class: 'gs-primary', dataset: {i18n: 'auth.submit'}},
                  t('auth.submit'));
    var cancel = h('button', {type: 'button', id: 'login-cancel', dataset: {i18n: 'auth.cancel'}, onclick: closeForm},
                   t('auth.cancel'));
    el.form = h('form', {id: 'login-form', class: 'gs-login', hidden: true, novalidate: true},
      h('p', {class: 'gs-login-title', dataset: {i18n: 'auth.title'}}, t('auth.title')),
      el.note,
      h('label', {class: 'gs-field', for: 'login-name'}, h('span', {dataset: {i18n: 'auth.name'}}, t('auth.name')), el.name),
      h('label', {class: 'gs-field', for: 'login-password'},
        h('span', {dataset: {i18n: 'auth.password'}}, t('auth.password')), el.password),
      el.error,
      h('div', {class: 'gs-actions'}, el.submit, cancel));
    el.form.addEventListener('submit', onSubmit);
    el.form.addEventListener('input', function () { el.error.hidden = true; });
    el.form.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') { e.stopPropagation(); closeForm(); el.open.focus(); }
    });
    el.user = h('span', {class: 'gs-user', id: 'auth-user', hidden: true});
    el.logout = h('button', {type: 'button', id: 'logout', class: 'gs-auth-button', hidden: true,
                             dataset: {i18n: 'auth.logout'}, onclick: logout}, t('auth.logout'));
    U.append(root, [el.user, el.logout, el.open, el.form]);
    GS.i18n.onChange(update);
  }

  function openForm(expired) {
    if (!el.form) { return; }
    el.note.hidden = !expired;
    el.error.hidden = true;
    el.form.hidden = false;
    el.open.setAttribute('aria-expanded', 'true');
    if (!el.name.value) { el.name.value = session(NAME_KEY) || ''; }
    (el.name.value ? el.password : el.name).focus();
  }

  function closeForm() {
    el.form.hidden = true;
    el.note.hidden = true;
    el.error.hidden = true;
    el.open.setAttribute('aria-expanded', 'false');
  }

  function onSubmit(e) {
    e.preventDefault();
    var name = el.name.value.trim(), password = el.password.value;
    if (!name) { el.name.focus(); return; }
    if (!password) { el.password.focus(); return; }
    el.submit.disabled = true;
    el.submit.textContent = t('auth.busy');
    el.error.hidden = true;
    login(name, password).then(function (user) {
      el.password.value = '';
      closeForm();
      if (GS.ui) { GS.ui.message(t('auth.loggedIn', {name: user.name, role: roleLabel(user.role)}), 'ok'); }
    }).catch(function (err) {
      U.clear(el.error).appendChild(document.createTextNode(
        err && err.status === 401 ? t('auth.wrong') : (err && err.message ? err.message : String(err))));
      el.error.hidden = false;
      el.password.select();
      el.password.focus();
    }).then(function () {
      el.submit.disabled = false;
      el.submit.textContent = t('auth.submit');
    });
  }

  function update() {
    if (!el.root) { return; }
    var user = state.token ? state.user : null;
    el.open.hidden = !!user;
    el.logout.hidden = !user;
    el.user.hidden = !user;
    U.clear(el.user);
    if (user) {
      el.form.hidden = true;
      el.open.setAttribute('aria-expanded', 'false');
      el.user.title = t('auth.who') + ': ' + user.name + (user.grids && user.grids.length ? ' · ' + user.grids.join(', ') : '');
      U.append(el.user, [h('span', {class: 'gs-user-name', id: 'auth-name'}, user.name),
                         h('span', {class: 'gs-role gs-role-' + user.role, id: 'auth-role'}, roleLabel(user.role))]);
    }
    document.body.dataset.role = role();
  }

  GS.auth = {
    init: init,
    login: login,
    logout: logout,
    expire: expire,
    rejected: rejected,
    showLogin: function () { openForm(false); },
    onChange: function (fn) { listeners.push(fn); },
    token: function () { return state.token; },
    user: function () { return state.token ? state.user : null; },
    role: role,
    roleLabel: roleLabel,
    canEdit: function () { return !!state.token && may('zones.edit'); },
    isStaff: function () { return !!state.token && may('personal.read'); }
  };
})();
