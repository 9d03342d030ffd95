// The web UI of `bulwark serve`: a client of the REST API in docs/api.md.
//
// Plain ES module, no framework, no build step, nothing fetched from elsewhere: the server embeds
// this file and it must work offline. Every string that comes from the API (and so, often, from an
// uploaded SBOM: attacker data) reaches the page through text nodes built by `h()`, never through
// HTML parsing. Only the page shown is rendered; nothing polls.

const API = '/api/v1';
const KEY_STORAGE = 'bulwark.apiKey';
const PAGE_SIZE = 25;

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'unknown'];
const STATES = ['in_triage', 'exploitable', 'not_affected', 'false_positive', 'resolved'];
const STATE_FILTERS = ['untriaged', ...STATES];
const STATE_LABELS = {
  untriaged: 'untriaged',
  in_triage: 'in triage',
  exploitable: 'exploitable',
  not_affected: 'not affected',
  false_positive: 'false positive',
  resolved: 'resolved',
};
const JUSTIFICATIONS = [
  {
    group: 'CycloneDX',
    items: [
      ['code_not_present', 'Code not present'],
      ['code_not_reachable', 'Code not reachable'],
      ['requires_configuration', 'Requires configuration'],
      ['requires_dependency', 'Requires dependency'],
      ['requires_environment', 'Requires environment'],
      ['protected_by_compiler', 'Protected by compiler'],
      ['protected_at_runtime', 'Protected at runtime'],
      ['protected_at_perimeter', 'Protected at perimeter'],
      ['protected_by_mitigating_control', 'Protected by mitigating control'],
    ],
  },
  {
    group: 'OpenVEX',
    items: [
      ['component_not_present', 'Component not present'],
      ['vulnerable_code_not_present', 'Vulnerable code not present'],
      ['vulnerable_code_not_in_execute_path', 'Vulnerable code not in execute path'],
      [
        'vulnerable_code_cannot_be_controlled_by_adversary',
        'Vulnerable code cannot be controlled by adversary',
      ],
      ['inline_mitigations_already_exist', 'Inline mitigations already exist'],
    ],
  },
];
const EVENT_KINDS = {
  snapshot_uploaded: 'SBOM uploaded',
  finding_new: 'New finding',
  finding_gone: 'Finding gone',
  sla_breach: 'SLA breach',
  policy_failure: 'Policy failure',
};

// ---------------------------------------------------------------------------------------------
// DOM building: text only, never markup.

const SVG_NS = 'http://www.w3.org/2000/svg';
const PROPS = new Set([
  'value',
  'checked',
  'disabled',
  'hidden',
  'selected',
  'required',
  'multiple',
]);

/** Creates an HTML element; strings and numbers among `children` become text nodes. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value == null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (PROPS.has(name)) {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  appendChildren(el, children);
  return el;
}

/** Creates an SVG element (attributes only, children as for `h`). */
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value != null && value !== false) el.setAttribute(name, String(value));
  }
  appendChildren(el, children);
  return el;
}

function appendChildren(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Appends children (arrays flattened, null and false skipped, strings as text). */
function add(el, ...children) {
  appendChildren(el, children);
}

/** Replaces an element's children (arrays flattened, strings as text). */
function fill(el, ...children) {
  el.replaceChildren();
  appendChildren(el, children);
}

function srOnly(text) {
  return h('span', { class: 'visually-hidden' }, text);
}

let idCounter = 0;
function uid(prefix) {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

// ---------------------------------------------------------------------------------------------
// Formatting

const numberFormat = new Intl.NumberFormat();

function fmtNum(n) {
  return typeof n === 'number' && Number.isFinite(n) ? numberFormat.format(n) : '—';
}

function toDate(value) {
  if (value == null || value === '') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** YYYY-MM-DD (UTC, like the server's days). */
function ymd(value) {
  const date = toDate(value);
  return date ? date.toISOString().slice(0, 10) : '—';
}

/** "3 d ago", "in 5 d", "just now". */
function relative(value, now = Date.now()) {
  const date = toDate(value);
  if (!date) return '';
  const diff = date.getTime() - now;
  const abs = Math.abs(diff);
  const minute = 60_000;
  const hour = 60 * minute;
  const day = 24 * hour;
  let text;
  if (abs < minute) return 'just now';
  if (abs < hour) text = `${Math.round(abs / minute)} min`;
  else if (abs < day) text = `${Math.round(abs / hour)} h`;
  else if (abs < 365 * day) text = `${Math.round(abs / day)} d`;
  else text = `${(abs / (365 * day)).toFixed(1)} y`;
  return diff < 0 ? `${text} ago` : `in ${text}`;
}

/** A `<time>` showing the day, with the relative time and the full instant as its title. */
function timeEl(value) {
  const date = toDate(value);
  if (!date) return h('span', { class: 'muted' }, '—');
  const iso = date.toISOString();
  return h(
    'time',
    { datetime: iso, title: `${relative(date)} (${iso.slice(0, 16).replace('T', ' ')} UTC)` },
    iso.slice(0, 10),
  );
}

function sevOf(value) {
  return SEVERITIES.includes(value) ? value : 'unknown';
}

function sevBadge(value) {
  const sev = sevOf(value);
  // Other ratings (a diff's `none`) keep their word and take the neutral colour.
  const label = typeof value === 'string' && value ? value : sev;
  return h('span', { class: `badge sev-${sev}`, dataset: { severity: sev } }, label);
}

/** One badge per severity, zeros dimmed; the severity names are read out, the numbers shown. */
function countBadges(counts) {
  const c = counts ?? {};
  return h(
    'span',
    { class: 'badges' },
    SEVERITIES.map((sev) => {
      const n = Number(c[sev] ?? 0);
      return h(
        'span',
        { class: ['badge', `sev-${sev}`, n === 0 && 'zero'], title: `${fmtNum(n)} ${sev}` },
        // The initial tells the severities apart without relying on colour alone.
        h('span', { class: 'badge-key', 'aria-hidden': 'true' }, sev[0].toUpperCase()),
        fmtNum(n),
        srOnly(` ${sev}`),
      );
    }),
  );
}

function stateKey(triage) {
  return triage?.state && STATE_LABELS[triage.state] ? triage.state : 'untriaged';
}

function stateLabel(triage) {
  const key = stateKey(triage);
  return h('span', { class: `state state-${key}`, dataset: { state: key } }, STATE_LABELS[key]);
}

function overdueFlag() {
  return h('span', { class: 'flag-overdue' }, 'overdue');
}

function humanize(key) {
  return String(key).replace(/[_-]+/g, ' ');
}

/** Renders any JSON value as text (objects as a small definition list). */
function anyValue(value) {
  if (value == null || value === '') return h('span', { class: 'muted' }, '—');
  if (Array.isArray(value)) {
    if (value.every((v) => v == null || typeof v !== 'object')) return value.join(', ');
    return h(
      'ul',
      { class: 'plain' },
      value.map((v) => h('li', null, anyValue(v))),
    );
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v != null && v !== '');
    if (entries.length === 0) return h('span', { class: 'muted' }, '—');
    return h(
      'dl',
      { class: 'facts' },
      entries.map(([k, v]) => [h('dt', null, humanize(k)), h('dd', null, anyValue(v))]),
    );
  }
  if (typeof value === 'number') return fmtNum(value);
  return String(value);
}

/** One line of text for any JSON value: `key: value · key: value` for objects. */
function inlineValue(value) {
  if (value == null || value === '') return '';
  if (Array.isArray(value)) return value.map(inlineValue).join(', ');
  if (typeof value === 'object') {
    return Object.entries(value)
      .filter(([, v]) => v != null && v !== '')
      .map(([k, v]) => `${humanize(k)}: ${typeof v === 'object' ? JSON.stringify(v) : v}`)
      .join(' · ');
  }
  return typeof value === 'number' ? fmtNum(value) : String(value);
}

function qs(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value == null || value === '' || value === false) continue;
    if (Array.isArray(value)) {
      if (value.length) search.set(key, value.join(','));
    } else {
      search.set(key, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

function safeFileName(name) {
  return (
    String(name)
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^[._]+/, '')
      .slice(0, 120) || 'download'
  );
}

// ---------------------------------------------------------------------------------------------
// API access

/** An API error: the HTTP status and the RFC 9457 problem document, when there was one. */
class ApiError extends Error {
  constructor(status, problem, fallback) {
    super(problem?.detail || problem?.title || fallback || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
    this.handled = false;
  }
}

let apiKey = sessionStorage.getItem(KEY_STORAGE);
let identity = null;

/**
 * Calls the API with the key. A 401 logs out and shows the login screen (the error is marked
 * `handled` so pages do not show it twice), unless `on401: 'throw'` (the login form itself).
 */
async function request(path, options = {}) {
  const {
    method = 'GET',
    body,
    headers = {},
    key = apiKey,
    expect = 'json',
    on401 = 'logout',
  } = options;
  let response;
  try {
    response = await fetch(API + path, {
      method,
      body,
      cache: 'no-store',
      headers: { 'X-Api-Key': key ?? '', Accept: 'application/json', ...headers },
    });
  } catch (err) {
    throw new ApiError(0, null, `The server cannot be reached (${err.message}).`);
  }
  if (!response.ok) {
    let problem = null;
    const type = response.headers.get('content-type') ?? '';
    try {
      if (type.includes('json')) problem = await response.json();
      else {
        const text = await response.text();
        if (text) problem = { detail: text.slice(0, 500) };
      }
    } catch {
      problem = null;
    }
    const err = new ApiError(response.status, problem, `${response.status} ${response.statusText}`);
    if (response.status === 401 && on401 === 'logout') {
      err.handled = true;
      logout('The server no longer accepts your API key (401). Log in again.');
    }
    throw err;
  }
  if (expect === 'response') return response;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

const api = {
  get: (path, options) => request(path, options),
  put: (path, data) =>
    request(path, {
      method: 'PUT',
      body: JSON.stringify(data),
      headers: { 'Content-Type': 'application/json' },
    }),
  post: (path, body, contentType) =>
    request(path, { method: 'POST', body, headers: { 'Content-Type': contentType } }),
};

function hasScope(scope) {
  const scopes = identity?.key?.scopes ?? [];
  return scopes.includes(scope) || scopes.includes('admin');
}

/** Fetches with the key and saves the answer as a file (a plain link could not send the key). */
async function download(path, fallbackName) {
  const response = await request(path, { expect: 'response', headers: { Accept: '*/*' } });
  const blob = await response.blob();
  const disposition = response.headers.get('content-disposition') ?? '';
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  let name = fallbackName;
  if (match) {
    try {
      name = safeFileName(decodeURIComponent(match[1]));
    } catch {
      name = fallbackName;
    }
  }
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
  announce(`Downloaded ${name} (${fmtNum(blob.size)} bytes).`);
}

function fileContentType(file) {
  if (file.type) return file.type;
  if (/\.json$/i.test(file.name)) return 'application/json';
  if (/\.xml$/i.test(file.name)) return 'application/xml';
  return 'application/octet-stream';
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

const main = document.getElementById('main');
const statusRegion = document.getElementById('status');
let statusTimer = 0;

/** Shows a short message in the live region (read by screen readers, shown as a toast). */
function announce(message, { error = false } = {}) {
  clearTimeout(statusTimer);
  fill(statusRegion, h('div', { class: error ? 'is-error' : null }, message));
  statusTimer = setTimeout(() => fill(statusRegion), error ? 10_000 : 5_000);
}

function errorBox(err, what) {
  const problem = err instanceof ApiError ? err.problem : null;
  const extra = Array.isArray(problem?.errors) ? problem.errors : [];
  return h(
    'div',
    { class: 'error', role: 'alert' },
    h('strong', null, what),
    ' ',
    err.message,
    err instanceof ApiError && err.status
      ? h('span', { class: 'muted' }, ` (HTTP ${err.status})`)
      : null,
    extra.length
      ? h(
          'ul',
          { class: 'plain' },
          extra.map((e) => h('li', null, typeof e === 'string' ? e : anyValue(e))),
        )
      : null,
  );
}

function loading(text = 'Loading…') {
  return h('p', { class: 'loading' }, text);
}

function pageHead(title, { crumbs = [], subtitle = null, actions = null } = {}) {
  document.title = `${title} · bulwark`;
  return h(
    'div',
    { class: 'page-head' },
    h(
      'div',
      null,
      crumbs.length
        ? h(
            'nav',
            { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' },
            h(
              'ol',
              null,
              crumbs.map(([label, href]) => h('li', null, href ? h('a', { href }, label) : label)),
            ),
          )
        : null,
      h('h1', { tabindex: '-1' }, title),
      subtitle ? h('p', { class: 'subtitle' }, subtitle) : null,
    ),
    actions,
  );
}

/** Previous/next controls for a server-side page. */
function pager(label, { total, limit, offset }, onOffset) {
  const t = Number(total ?? 0);
  const first = t === 0 ? 0 : offset + 1;
  const last = Math.min(offset + limit, t);
  const pages = Math.max(1, Math.ceil(t / limit));
  const pageNo = Math.floor(offset / limit) + 1;
  return h(
    'nav',
    { class: 'pager', 'aria-label': `${label} pages` },
    h(
      'span',
      null,
      `Showing ${fmtNum(first)}–${fmtNum(last)} of ${fmtNum(t)} · page ${pageNo} of ${pages}`,
    ),
    h(
      'span',
      { class: 'buttons' },
      h(
        'button',
        {
          type: 'button',
          class: 'btn',
          disabled: offset <= 0,
          dataset: { focusKey: `${label}-prev` },
          onclick: () => onOffset(Math.max(0, offset - limit)),
        },
        '‹ Previous',
        srOnly(` page of ${label}`),
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'btn',
          disabled: offset + limit >= t,
          dataset: { focusKey: `${label}-next` },
          onclick: () => onOffset(offset + limit),
        },
        'Next ›',
        srOnly(` page of ${label}`),
      ),
    ),
  );
}

/** A column header that sorts; `aria-sort` tells which column is the current order. */
function sortHeader(label, field, sort, onSort, className) {
  const active = sort.field === field;
  const arrow = active ? (sort.order === 'asc' ? '▲' : '▼') : '↕';
  return h(
    'th',
    {
      scope: 'col',
      class: className,
      'aria-sort': active ? (sort.order === 'asc' ? 'ascending' : 'descending') : null,
    },
    h(
      'button',
      {
        type: 'button',
        class: 'sort-btn',
        dataset: { focusKey: `sort-${field}` },
        onclick: () => onSort(field),
      },
      label,
      h('span', { class: 'arrow', 'aria-hidden': 'true' }, arrow),
      srOnly(
        active ? `, sorted ${sort.order === 'asc' ? 'ascending' : 'descending'}` : ', sortable',
      ),
    ),
  );
}

function dataTable(caption, headers, rows, emptyText, attrs = {}) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data', ...attrs },
      h('caption', { class: caption.hidden ? 'visually-hidden' : null }, caption.text),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          headers.map((hd) =>
            hd instanceof Node ? hd : h('th', { scope: 'col', class: hd.class }, hd.label),
          ),
        ),
      ),
      h(
        'tbody',
        null,
        rows.length
          ? rows
          : h('tr', null, h('td', { class: 'empty', colspan: headers.length }, emptyText)),
      ),
    ),
  );
}

/** Re-runs `fn` after the user stopped typing for a moment. */
function debounce(fn, ms = 250) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/**
 * Runs loads in order for one part of a page: an answer that arrives after a newer request was
 * made is dropped, so fast filtering never shows stale rows.
 */
function latest() {
  let seq = 0;
  return async (load, apply) => {
    seq += 1;
    const mine = seq;
    const result = await load();
    if (mine === seq) apply(result);
  };
}

// ---------------------------------------------------------------------------------------------
// Routing: `#/path?query`. Each page gets a fresh container; a page that finishes loading after
// the user moved on writes into a detached node, which costs nothing.

const routes = [
  { re: /^\/$/, nav: 'dashboard', page: dashboardPage },
  { re: /^\/projects\/(\d+)$/, nav: 'dashboard', page: projectPage },
  { re: /^\/versions\/(\d+)$/, nav: 'dashboard', page: versionPage },
  { re: /^\/diff$/, nav: 'dashboard', page: diffPage },
  { re: /^\/upload$/, nav: 'upload', page: uploadPage },
  { re: /^\/events$/, nav: 'events', page: eventsPage },
];

function currentLocation() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const at = raw.indexOf('?');
  return {
    path: at < 0 ? raw : raw.slice(0, at),
    params: new URLSearchParams(at < 0 ? '' : raw.slice(at + 1)),
  };
}

/** Rewrites the query of the current address without rendering again (filters, pages, sort). */
function replaceParams(updates) {
  const { path, params } = currentLocation();
  for (const [key, value] of Object.entries(updates)) {
    if (
      value == null ||
      value === '' ||
      value === false ||
      (Array.isArray(value) && !value.length)
    ) {
      params.delete(key);
    } else {
      params.set(key, Array.isArray(value) ? value.join(',') : String(value));
    }
  }
  const query = params.toString();
  history.replaceState(history.state, '', `#${path}${query ? `?${query}` : ''}`);
}

function setNav(active) {
  for (const link of document.querySelectorAll('#mainnav a')) {
    if (link.dataset.nav === active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

let generation = 0;

async function render() {
  generation += 1;
  const gen = generation;
  const focusKey = document.activeElement?.dataset?.focusKey;
  for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
  if (!apiKey) {
    renderLogin();
    return;
  }
  const { path, params } = currentLocation();
  const route = routes.find((r) => r.re.test(path));
  const view = h('div', { class: 'view' });
  fill(main, view);
  setNav(route?.nav ?? null);
  if (!route) {
    add(
      view,
      pageHead('Not found'),
      h(
        'p',
        null,
        'There is no page at this address. ',
        h('a', { href: '#/' }, 'Go to the dashboard.'),
      ),
    );
    view.querySelector('h1').focus();
    return;
  }
  const match = path.match(route.re);
  const ctx = { params, alive: () => gen === generation };
  try {
    await route.page(view, ctx, ...match.slice(1));
  } catch (err) {
    if (err instanceof ApiError && err.handled) return;
    if (!ctx.alive()) return;
    if (!view.querySelector('h1')) fill(view, pageHead('Error'));
    add(view, errorBox(err, 'This page could not be loaded.'));
    // A bug, not an answer of the server: leave it in the console too, where tests look.
    if (!(err instanceof ApiError)) console.error(err);
  }
  if (!ctx.alive()) return;
  const again = focusKey ? view.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`) : null;
  (again ?? view.querySelector('h1'))?.focus({ preventScroll: !!again });
}

function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

// ---------------------------------------------------------------------------------------------
// Session

const nav = document.getElementById('mainnav');
const session = document.getElementById('session');

function showSession() {
  nav.hidden = !apiKey;
  session.hidden = !apiKey;
  const who = document.getElementById('whoami');
  if (identity) {
    const team = identity.team?.name ? ` · team ${identity.team.name}` : '';
    fill(
      who,
      h(
        'span',
        { title: `Scopes: ${(identity.key?.scopes ?? []).join(', ')}` },
        `Key ${identity.key?.name ?? identity.key?.prefix ?? ''}${team}`,
      ),
    );
  } else {
    fill(who);
  }
}

function logout(message) {
  apiKey = null;
  identity = null;
  sessionStorage.removeItem(KEY_STORAGE);
  for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
  showSession();
  renderLogin(message);
}

function renderLogin(message) {
  generation += 1;
  setNav(null);
  showSession();
  document.title = 'Log in · bulwark';
  const error = h('div', { class: 'login-error', 'aria-live': 'assertive' });
  const input = h('input', {
    type: 'password',
    id: 'login-key',
    name: 'key',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': 'login-key-hint',
  });
  const button = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Log in');
  const form = h(
    'form',
    {
      class: 'form-narrow',
      onsubmit: async (event) => {
        event.preventDefault();
        const key = input.value.trim();
        if (!key) {
          fill(error, h('div', { class: 'error', role: 'alert' }, 'Paste an API key first.'));
          input.focus();
          return;
        }
        button.disabled = true;
        fill(error);
        try {
          const who = await request('/whoami', { key, on401: 'throw' });
          apiKey = key;
          identity = who;
          sessionStorage.setItem(KEY_STORAGE, key);
          showSession();
          announce(`Logged in as ${who?.key?.name ?? 'API key'}.`);
          const { path } = currentLocation();
          if (path === '/login') go('#/');
          else render();
        } catch (err) {
          const text =
            err instanceof ApiError && err.status === 401
              ? 'That API key was not accepted. Check it and try again.'
              : err.message;
          fill(
            error,
            h(
              'div',
              { class: 'error', role: 'alert' },
              h('strong', null, 'Login failed.'),
              ' ',
              text,
            ),
          );
          input.select();
          input.focus();
        } finally {
          button.disabled = false;
        }
      },
    },
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'login-key' }, 'API key'),
      h(
        'span',
        { class: 'hint', id: 'login-key-hint' },
        'Kept in this tab only (session storage) and sent as the X-Api-Key header.',
      ),
      input,
    ),
    error,
    h('div', { class: 'dialog-actions' }, button),
  );
  fill(
    main,
    h(
      'section',
      { class: 'login card', 'aria-labelledby': 'login-title' },
      h('h1', { id: 'login-title', tabindex: '-1' }, 'Log in to bulwark'),
      message ? h('p', { class: 'notice', role: 'alert' }, message) : null,
      h(
        'p',
        { class: 'muted' },
        'Paste an API key of this server. An administrator creates keys with the keys API.',
      ),
      form,
    ),
  );
  input.focus();
}

// ---------------------------------------------------------------------------------------------
// Dashboard

async function dashboardPage(view, ctx) {
  add(view, pageHead('Portfolio', { subtitle: 'Open findings across every project you can see.' }));
  const totals = h(
    'section',
    { 'aria-labelledby': 'totals-title' },
    h('h2', { id: 'totals-title', class: 'visually-hidden' }, 'Totals'),
    loading(),
  );
  const trend = h(
    'section',
    { class: 'card chart-card', 'aria-labelledby': 'trend-title-h' },
    h('h2', { id: 'trend-title-h' }, 'Trend, last 30 days'),
    loading(),
  );
  const projects = h('section', { 'aria-labelledby': 'projects-title' });
  add(view, totals, trend, projects);

  projectsTable(projects, ctx);

  const [portfolio, series] = await Promise.allSettled([
    api.get('/portfolio'),
    api.get('/portfolio/trend?days=30'),
  ]);
  if (!ctx.alive()) return;
  if (portfolio.status === 'fulfilled') {
    fill(totals, totals.firstChild, portfolioTiles(portfolio.value));
  } else if (!portfolio.reason?.handled) {
    fill(totals, totals.firstChild, errorBox(portfolio.reason, 'Totals could not be loaded.'));
  }
  if (series.status === 'fulfilled') {
    fill(trend, trend.firstChild, ...trendChart(series.value?.points ?? []));
  } else if (!series.reason?.handled) {
    fill(trend, trend.firstChild, errorBox(series.reason, 'The trend could not be loaded.'));
  }
}

function portfolioTiles(p) {
  const counts = p?.counts ?? {};
  const tile = (key, label, value, cls) =>
    h(
      'li',
      { class: ['tile', cls], dataset: { tile: key } },
      h('span', { class: 'tile-label' }, label),
      h('span', { class: 'tile-value' }, fmtNum(Number(value ?? 0))),
    );
  const db = p?.database;
  return [
    h(
      'ul',
      { class: 'tiles' },
      SEVERITIES.map((sev) => tile(sev, sev, counts[sev], `sev sev-${sev}`)),
      tile('overdue', 'Overdue', p?.overdue, p?.overdue > 0 ? 'attention' : null),
      tile('untriaged', 'Untriaged', p?.untriaged),
      tile('projects', 'Projects', p?.projects),
      tile('versions', 'Versions', p?.versions),
      tile('components', 'Components', p?.components),
    ),
    h(
      'p',
      { class: 'dbline' },
      db
        ? [
            h(
              'span',
              { title: db.generation ? `Generation ${db.generation}` : null },
              'Vulnerability database',
            ),
            ': ',
            fmtNum(db.records),
            ' records, updated ',
            timeEl(db.updated_at ?? db.imported_at),
            '.',
          ]
        : 'No vulnerability database loaded: uploads are stored but not matched.',
    ),
  ];
}

/** Stacked areas per severity, drawn by hand; a hidden table carries the same numbers. */
function trendChart(points) {
  if (!points.length)
    return [h('p', { class: 'muted' }, 'No data yet: the trend starts with the first upload.')];
  const W = 1000;
  const H = 250;
  const m = { top: 12, right: 16, bottom: 30, left: 48 };
  const iw = W - m.left - m.right;
  const ih = H - m.top - m.bottom;
  const totals = points.map((p) =>
    SEVERITIES.reduce((sum, sev) => sum + Number(p.counts?.[sev] ?? 0), 0),
  );
  const maxTotal = Math.max(0, ...totals);
  const step = niceStep(maxTotal / 4);
  const yMax = Math.max(step * 4, 4);
  const x = (i) => m.left + (points.length === 1 ? iw / 2 : (i * iw) / (points.length - 1));
  const y = (v) => m.top + ih - (v / yMax) * ih;

  const titleId = uid('trend-title');
  const descId = uid('trend-desc');
  const first = points[0];
  const last = points[points.length - 1];
  const lastCounts = SEVERITIES.map(
    (sev) => `${fmtNum(Number(last.counts?.[sev] ?? 0))} ${sev}`,
  ).join(', ');
  const desc =
    `Open findings from ${ymd(first.day)} to ${ymd(last.day)}: ${fmtNum(totals[0])} on the first day, ` +
    `${fmtNum(totals[totals.length - 1])} on the last (${lastCounts}); the highest was ${fmtNum(maxTotal)}.`;

  const svg = s(
    'svg',
    {
      class: 'chart',
      viewBox: `0 0 ${W} ${H}`,
      role: 'img',
      'aria-labelledby': `${titleId} ${descId}`,
    },
    s('title', { id: titleId }, 'Open findings per day by severity, last 30 days'),
    s('desc', { id: descId }, desc),
  );

  const grid = s('g', { class: 'grid' });
  const yAxis = s('g', { class: 'axis' });
  for (let v = 0; v <= yMax; v += yMax / 4) {
    grid.append(s('line', { x1: m.left, x2: W - m.right, y1: y(v), y2: y(v) }));
    yAxis.append(
      s('text', { x: m.left - 8, y: y(v) + 4, 'text-anchor': 'end' }, fmtNum(Math.round(v))),
    );
  }
  svg.append(grid, yAxis);

  // Critical at the bottom, so the most important band sits on a steady baseline.
  const base = points.map(() => 0);
  for (const sev of SEVERITIES) {
    const top = points.map((p, i) => base[i] + Number(p.counts?.[sev] ?? 0));
    if (top.some((v, i) => v !== base[i])) {
      const upper = top.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
      const lower = base.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).reverse();
      const d =
        points.length === 1
          ? `M${m.left},${y(top[0])}H${W - m.right}V${y(base[0])}H${m.left}Z`
          : `M${upper.join('L')}L${lower.join('L')}Z`;
      svg.append(s('path', { class: `area area-${sev}`, d }));
    }
    top.forEach((v, i) => {
      base[i] = v;
    });
  }

  const xAxis = s('g', { class: 'axis' });
  xAxis.append(s('line', { x1: m.left, x2: W - m.right, y1: m.top + ih, y2: m.top + ih }));
  const ticks = [
    ...new Set([0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(f * (points.length - 1)))),
  ];
  for (const i of ticks) {
    const anchor =
      i === 0 && points.length > 1
        ? 'start'
        : i === points.length - 1 && points.length > 1
          ? 'end'
          : 'middle';
    xAxis.append(
      s('text', { x: x(i), y: H - 10, 'text-anchor': anchor }, ymd(points[i].day).slice(5)),
    );
  }
  svg.append(xAxis);

  const legend = h(
    'ul',
    { class: 'legend', 'aria-hidden': 'true' },
    SEVERITIES.map((sev) => h('li', null, h('span', { class: `swatch sev-${sev}` }), sev)),
  );

  const table = h(
    'table',
    { class: 'visually-hidden' },
    h('caption', null, 'Open findings per day and severity'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col' }, 'Day'),
        SEVERITIES.map((sev) => h('th', { scope: 'col' }, sev)),
        h('th', { scope: 'col' }, 'Total'),
      ),
    ),
    h(
      'tbody',
      null,
      points.map((p, i) =>
        h(
          'tr',
          null,
          h('th', { scope: 'row' }, ymd(p.day)),
          SEVERITIES.map((sev) => h('td', null, fmtNum(Number(p.counts?.[sev] ?? 0)))),
          h('td', null, fmtNum(totals[i])),
        ),
      ),
    ),
  );
  return [svg, legend, table];
}

function niceStep(raw) {
  if (raw <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const f of [1, 2, 2.5, 5, 10]) {
    if (raw <= f * power) return Math.ceil(f * power);
  }
  return Math.ceil(10 * power);
}

function projectsTable(section, ctx) {
  const p = ctx.params;
  const state = {
    name: p.get('name') ?? '',
    tag: p.get('tag') ?? '',
    sort: p.get('sort') === 'created' ? 'created' : 'name',
    order: p.get('order') === 'desc' ? 'desc' : 'asc',
    offset: Math.max(0, Number.parseInt(p.get('offset') ?? '0', 10) || 0),
  };
  const results = h('div', null, loading());
  const run = latest();

  const load = () => {
    replaceParams({
      name: state.name,
      tag: state.tag,
      sort: state.sort === 'name' ? null : state.sort,
      order: state.order === 'asc' ? null : state.order,
      offset: state.offset || null,
    });
    return run(
      () =>
        api
          .get(
            `/projects${qs({ name: state.name, tag: state.tag, sort: state.sort, order: state.order, limit: PAGE_SIZE, offset: state.offset })}`,
          )
          .then(
            (page) => ({ page }),
            (err) => ({ err }),
          ),
      ({ page, err }) => {
        if (!ctx.alive()) return;
        if (err) {
          if (!err.handled) fill(results, errorBox(err, 'Projects could not be loaded.'));
          return;
        }
        fill(results, renderProjects(page));
      },
    );
  };

  const renderProjects = (page) => {
    const items = page?.items ?? [];
    const filtered = state.name || state.tag;
    const rows = items.map((proj) =>
      h(
        'tr',
        { dataset: { project: proj.name } },
        h(
          'th',
          { scope: 'row' },
          h('a', { href: `#/projects/${encodeURIComponent(proj.id)}` }, proj.name),
        ),
        h(
          'td',
          null,
          (proj.tags ?? []).length
            ? h(
                'span',
                { class: 'badges' },
                proj.tags.map((t) => h('span', { class: 'pill' }, t)),
              )
            : h('span', { class: 'muted' }, '—'),
        ),
        h(
          'td',
          null,
          proj.latest_version
            ? h(
                'a',
                { href: `#/versions/${encodeURIComponent(proj.latest_version.id)}` },
                proj.latest_version.version,
              )
            : h('span', { class: 'muted' }, 'none'),
        ),
        h('td', null, countBadges(proj.counts)),
        h(
          'td',
          { class: 'num' },
          proj.overdue > 0
            ? [fmtNum(proj.overdue), ' ', overdueFlag()]
            : fmtNum(Number(proj.overdue ?? 0)),
        ),
        h('td', null, timeEl(proj.last_upload)),
      ),
    );
    return [
      dataTable(
        { text: 'Projects', hidden: true },
        [
          sortHeader('Name', 'name', { field: state.sort, order: state.order }, (field) => {
            state.order = state.sort === field && state.order === 'asc' ? 'desc' : 'asc';
            state.sort = field;
            state.offset = 0;
            sortSelect.value = `${state.sort}:${state.order}`;
            load();
          }),
          { label: 'Tags' },
          { label: 'Latest version' },
          { label: 'Findings by severity' },
          { label: 'Overdue', class: 'num' },
          { label: 'Last upload' },
        ],
        rows,
        filtered
          ? 'No project matches the filter.'
          : h(
              'span',
              null,
              'No projects yet. ',
              h('a', { href: '#/upload' }, 'Upload an SBOM'),
              ' to create one.',
            ),
        { id: 'projects-table' },
      ),
      pager(
        'Projects',
        { total: page?.total, limit: PAGE_SIZE, offset: state.offset },
        (offset) => {
          state.offset = offset;
          load();
        },
      ),
    ];
  };

  const refilter = debounce(() => {
    state.offset = 0;
    load();
  });
  const nameInput = h('input', {
    type: 'search',
    id: 'filter-name',
    value: state.name,
    placeholder: 'e.g. inference',
    dataset: { filter: '' },
    'aria-keyshortcuts': '/',
    oninput: (e) => {
      state.name = e.target.value.trim();
      refilter();
    },
  });
  const tagInput = h('input', {
    type: 'search',
    id: 'filter-tag',
    value: state.tag,
    placeholder: 'e.g. prod',
    oninput: (e) => {
      state.tag = e.target.value.trim();
      refilter();
    },
  });
  const sortSelect = h(
    'select',
    {
      id: 'projects-sort',
      onchange: (e) => {
        const [sort, order] = e.target.value.split(':');
        state.sort = sort;
        state.order = order;
        state.offset = 0;
        load();
      },
    },
    [
      ['name:asc', 'Name, A to Z'],
      ['name:desc', 'Name, Z to A'],
      ['created:desc', 'Newest first'],
      ['created:asc', 'Oldest first'],
    ].map(([value, label]) => h('option', { value }, label)),
  );
  sortSelect.value = `${state.sort}:${state.order}`;

  add(
    section,
    h('h2', { id: 'projects-title' }, 'Projects'),
    h(
      'form',
      {
        class: 'toolbar',
        role: 'search',
        'aria-label': 'Filter projects',
        onsubmit: (e) => e.preventDefault(),
      },
      h('div', { class: 'field' }, h('label', { for: 'filter-name' }, 'Name contains'), nameInput),
      h('div', { class: 'field' }, h('label', { for: 'filter-tag' }, 'Tag'), tagInput),
      h('div', { class: 'field' }, h('label', { for: 'projects-sort' }, 'Sort'), sortSelect),
    ),
    results,
  );
  load();
}

// ---------------------------------------------------------------------------------------------
// Project

async function projectPage(view, ctx, id) {
  const [project, versions] = await Promise.all([
    api.get(`/projects/${id}`),
    api.get(`/projects/${id}/versions`),
  ]);
  if (!ctx.alive()) return;
  const items = versions?.items ?? [];
  add(
    view,
    pageHead(project.name, {
      crumbs: [['Dashboard', '#/'], ['Project']],
      subtitle: [
        `Created ${ymd(project.created_at)}`,
        project.last_upload ? `, last upload ${ymd(project.last_upload)}` : '',
        (project.tags ?? []).length ? ` · tags: ${project.tags.join(', ')}` : '',
      ].join(''),
      actions: h(
        'a',
        { class: 'btn', href: `#/upload?project=${encodeURIComponent(project.name)}` },
        'Upload a new version',
      ),
    }),
    h(
      'div',
      { class: 'card' },
      h(
        'dl',
        { class: 'facts' },
        h('dt', null, 'Latest version'),
        h(
          'dd',
          null,
          project.latest_version
            ? h(
                'a',
                { href: `#/versions/${encodeURIComponent(project.latest_version.id)}` },
                project.latest_version.version,
              )
            : 'none',
        ),
        h('dt', null, 'Open findings'),
        h('dd', null, countBadges(project.counts)),
        h('dt', null, 'Overdue'),
        h('dd', null, project.overdue > 0 ? [fmtNum(project.overdue), ' ', overdueFlag()] : '0'),
      ),
    ),
  );

  // Compare two versions.
  const compare = h(
    'section',
    { 'aria-labelledby': 'compare-title' },
    h('h2', { id: 'compare-title' }, 'Compare versions'),
  );
  if (items.length < 2) {
    add(compare, h('p', { class: 'muted' }, 'Upload a second version to compare two.'));
  } else {
    const options = (selected) =>
      items.map((v) =>
        h(
          'option',
          { value: String(v.id), selected: String(v.id) === String(selected) },
          `${v.version} (${ymd(v.created_at)})`,
        ),
      );
    const from = h('select', { id: 'compare-from', name: 'from' }, options(items[1].id));
    const to = h('select', { id: 'compare-to', name: 'to' }, options(items[0].id));
    const problem = h('div', { 'aria-live': 'polite' });
    add(
      compare,
      h(
        'form',
        {
          class: 'toolbar',
          id: 'compare-form',
          onsubmit: (e) => {
            e.preventDefault();
            if (from.value === to.value) {
              fill(
                problem,
                h('div', { class: 'error', role: 'alert' }, 'Pick two different versions.'),
              );
              return;
            }
            go(`#/diff${qs({ from: from.value, to: to.value })}`);
          },
        },
        h('div', { class: 'field' }, h('label', { for: 'compare-from' }, 'From (older)'), from),
        h('div', { class: 'field' }, h('label', { for: 'compare-to' }, 'To (newer)'), to),
        h(
          'div',
          { class: 'field' },
          h('button', { type: 'submit', class: 'btn btn-primary' }, 'Compare'),
        ),
      ),
      problem,
    );
  }

  const versionRows = items.map((v) =>
    h(
      'tr',
      { dataset: { version: v.version } },
      h(
        'th',
        { scope: 'row' },
        h('a', { href: `#/versions/${encodeURIComponent(v.id)}` }, v.version),
      ),
      h('td', null, timeEl(v.snapshot?.uploaded_at ?? v.created_at)),
      h('td', { class: 'num' }, fmtNum(v.snapshot?.components)),
      h('td', null, v.snapshot?.format ?? h('span', { class: 'muted' }, '—')),
      h('td', null, countBadges(v.counts)),
    ),
  );
  add(
    view,
    h(
      'section',
      { 'aria-labelledby': 'versions-title' },
      h('h2', { id: 'versions-title' }, `Versions (${fmtNum(items.length)})`),
      dataTable(
        { text: 'Versions, newest first', hidden: true },
        [
          { label: 'Version' },
          { label: 'Uploaded' },
          { label: 'Components', class: 'num' },
          { label: 'Format' },
          { label: 'Findings by severity' },
        ],
        versionRows,
        'No versions yet.',
        { id: 'versions-table' },
      ),
    ),
    compare,
  );

  const remediation = h('section', { 'aria-labelledby': 'remediation-title' });
  add(view, remediation);
  remediationTable(remediation, ctx, id);
}

function remediationTable(section, ctx, projectId) {
  const heading = h('h2', { id: 'remediation-title' }, 'Remediation');
  const results = h('div', null, loading());
  add(
    section,
    heading,
    h(
      'p',
      { class: 'muted' },
      'Each finding the project has had: when it was fixed, how long that took, and its due date under the SLA.',
    ),
    results,
  );
  let offset = 0;
  const run = latest();
  const load = () =>
    run(
      () =>
        api.get(`/projects/${projectId}/remediation${qs({ limit: PAGE_SIZE, offset })}`).then(
          (page) => ({ page }),
          (err) => ({ err }),
        ),
      ({ page, err }) => {
        if (!ctx.alive()) return;
        if (err) {
          if (!err.handled) fill(results, errorBox(err, 'Remediation could not be loaded.'));
          return;
        }
        heading.textContent = `Remediation (${fmtNum(page?.total ?? 0)})`;
        const rows = (page?.items ?? []).map((r) =>
          h(
            'tr',
            { class: r.overdue ? 'is-overdue' : null },
            h('th', { scope: 'row' }, h('span', { class: 'finding-id' }, r.finding_id)),
            h(
              'td',
              null,
              r.component_name,
              r.component_ecosystem ? h('span', { class: 'aliases' }, r.component_ecosystem) : null,
            ),
            h('td', null, sevBadge(r.severity)),
            h('td', null, r.title ?? ''),
            h(
              'td',
              null,
              timeEl(r.first_seen),
              r.first_version ? h('span', { class: 'aliases' }, `in ${r.first_version}`) : null,
            ),
            h(
              'td',
              null,
              r.fixed_in_version
                ? [String(r.fixed_in_version), h('span', { class: 'aliases' }, timeEl(r.fixed_at))]
                : h('span', { class: 'muted nowrap' }, 'not fixed'),
            ),
            h(
              'td',
              { class: 'num' },
              typeof r.days_to_remediate === 'number'
                ? `${fmtNum(Math.round(r.days_to_remediate * 10) / 10)} d`
                : '—',
            ),
            h('td', null, timeEl(r.due_at), r.overdue ? [' ', overdueFlag()] : null),
            h('td', null, stateLabel(r.triage_state ? { state: r.triage_state } : null)),
          ),
        );
        fill(
          results,
          dataTable(
            { text: 'Remediation', hidden: true },
            [
              { label: 'Finding' },
              { label: 'Component' },
              { label: 'Severity' },
              { label: 'Title' },
              { label: 'First seen' },
              { label: 'Fixed in' },
              { label: 'Days to remediate', class: 'num' },
              { label: 'Due' },
              { label: 'Triage' },
            ],
            rows,
            'No findings recorded for this project.',
            { id: 'remediation-table' },
          ),
          pager('Remediation', { total: page?.total, limit: PAGE_SIZE, offset }, (next) => {
            offset = next;
            load();
          }),
        );
      },
    );
  load();
}

// ---------------------------------------------------------------------------------------------
// Version

const VERSION_TABS = [
  ['findings', 'Findings'],
  ['components', 'Components'],
  ['gpu', 'GPU stack'],
  ['models', 'Models'],
  ['sbom', 'SBOM'],
  ['vex', 'VEX'],
];

async function versionPage(view, ctx, id) {
  const version = await api.get(`/versions/${id}`);
  if (!ctx.alive()) return;
  const project = version.project ?? (await api.get(`/projects/${version.project_id}`));
  if (!ctx.alive()) return;
  const tab = VERSION_TABS.some(([key]) => key === ctx.params.get('tab'))
    ? ctx.params.get('tab')
    : 'findings';
  const snap = version.snapshot;
  add(
    view,
    pageHead(`${project.name} ${version.version}`, {
      crumbs: [
        ['Dashboard', '#/'],
        [project.name, `#/projects/${encodeURIComponent(project.id)}`],
        ['Version'],
      ],
      subtitle: snap
        ? `Uploaded ${ymd(snap.uploaded_at)}${snap.uploaded_by ? ` by ${snap.uploaded_by}` : ''} · ${fmtNum(snap.components)} components · ${snap.format}`
        : `Created ${ymd(version.created_at)} · no SBOM stored`,
      actions: countBadges(version.counts),
    }),
    h(
      'nav',
      { class: 'tabs', 'aria-label': 'Version sections' },
      h(
        'ul',
        null,
        VERSION_TABS.map(([key, label]) =>
          h(
            'li',
            null,
            h(
              'a',
              {
                href: `#/versions/${encodeURIComponent(version.id)}${key === 'findings' ? '' : `?tab=${key}`}`,
                'aria-current': key === tab ? 'page' : null,
                dataset: { focusKey: `tab-${key}` },
              },
              label,
            ),
          ),
        ),
      ),
    ),
  );
  const panel = h('section', { 'aria-label': VERSION_TABS.find(([key]) => key === tab)[1] });
  add(view, panel);
  switch (tab) {
    case 'findings':
      findingsTab(panel, ctx, version);
      break;
    case 'components':
      componentsTab(panel, ctx, version, 'any');
      break;
    case 'gpu':
      componentsTab(panel, ctx, version, 'gpu');
      break;
    case 'models':
      componentsTab(panel, ctx, version, 'model');
      break;
    case 'sbom':
      sbomTab(panel, version, project);
      break;
    case 'vex':
      vexTab(panel, version, project);
      break;
    default:
      break;
  }
}

function findingsTab(panel, ctx, version) {
  const p = ctx.params;
  const list = (key, allowed) => (p.get(key) ?? '').split(',').filter((v) => allowed.includes(v));
  const sortFields = ['severity', 'first_seen', 'id', 'component'];
  const state = {
    severity: list('severity', SEVERITIES),
    state: list('state', STATE_FILTERS),
    suppressed: p.get('suppressed') === 'true',
    overdue: p.get('overdue') === 'true',
    sort: sortFields.includes(p.get('sort')) ? p.get('sort') : 'severity',
    order: p.get('order') === 'asc' ? 'asc' : p.get('order') === 'desc' ? 'desc' : null,
    offset: Math.max(0, Number.parseInt(p.get('offset') ?? '0', 10) || 0),
  };
  // Most severe and newest first unless asked otherwise; names and ids read best A to Z.
  const defaultOrder = (field) => (field === 'severity' || field === 'first_seen' ? 'desc' : 'asc');
  const order = () => state.order ?? defaultOrder(state.sort);
  const results = h('div', null, loading());
  const run = latest();

  const load = () => {
    replaceParams({
      severity: state.severity,
      state: state.state,
      suppressed: state.suppressed ? 'true' : null,
      overdue: state.overdue ? 'true' : null,
      sort: state.sort === 'severity' ? null : state.sort,
      order: state.order,
      offset: state.offset || null,
    });
    const query = qs({
      severity: state.severity,
      state: state.state,
      suppressed: state.suppressed ? 'true' : null,
      overdue: state.overdue ? 'true' : null,
      sort: state.sort,
      order: order(),
      limit: PAGE_SIZE,
      offset: state.offset,
    });
    return run(
      () =>
        api.get(`/versions/${version.id}/findings${query}`).then(
          (page) => ({ page }),
          (err) => ({ err }),
        ),
      ({ page, err }) => {
        if (!ctx.alive()) return;
        if (err) {
          if (!err.handled) fill(results, errorBox(err, 'Findings could not be loaded.'));
          return;
        }
        const focusKey = document.activeElement?.dataset?.focusKey;
        fill(results, ...renderFindings(page));
        if (focusKey && results.contains(document.activeElement) === false) {
          results.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
        }
      },
    );
  };

  const onSort = (field) => {
    state.order = state.sort === field ? (order() === 'asc' ? 'desc' : 'asc') : null;
    state.sort = field;
    state.offset = 0;
    load();
  };

  const renderFindings = (page) => {
    const items = page?.items ?? [];
    const filtered = state.severity.length || state.state.length || state.overdue;
    const sort = { field: state.sort, order: order() };
    const rows = items.map((f) => {
      const triage = f.triage;
      const suppressedUntil = toDate(triage?.suppressed_until);
      const component = f.component ?? {};
      return h(
        'tr',
        {
          class: f.overdue ? 'is-overdue' : null,
          dataset: { findingId: f.id, finding: f.finding_id, component: component.name ?? '' },
        },
        h('td', null, sevBadge(f.severity)),
        h(
          'th',
          { scope: 'row', class: 'wrap' },
          h(
            'button',
            {
              type: 'button',
              class: 'btn-link finding-open',
              'aria-haspopup': 'dialog',
              title: 'Open this finding to triage it',
              dataset: { focusKey: `finding-${f.id}` },
              onclick: (e) => openTriage(f.id, { opener: e.currentTarget, onSaved: load }),
            },
            h('span', { class: 'finding-id' }, f.finding_id),
          ),
          (f.aliases ?? []).length ? h('span', { class: 'aliases' }, f.aliases.join(', ')) : null,
          f.kind === 'artifact' ? h('span', { class: 'aliases' }, 'artifact finding') : null,
        ),
        h(
          'td',
          { class: 'wrap' },
          component.name ?? '',
          component.version ? h('span', { class: 'muted' }, `@${component.version}`) : null,
          component.ecosystem ? h('span', { class: 'aliases' }, component.ecosystem) : null,
        ),
        h('td', null, f.title ?? ''),
        h('td', null, timeEl(f.first_seen)),
        h('td', null, timeEl(f.due_at), f.overdue ? [' ', overdueFlag()] : null),
        h(
          'td',
          null,
          stateLabel(triage),
          triage?.justification
            ? h('span', { class: 'aliases' }, humanize(triage.justification))
            : null,
          suppressedUntil && suppressedUntil.getTime() > Date.now()
            ? h('span', { class: 'aliases' }, `suppressed until ${ymd(suppressedUntil)}`)
            : null,
        ),
      );
    });
    return [
      dataTable(
        { text: `Findings of ${version.version}`, hidden: true },
        [
          sortHeader('Severity', 'severity', sort, onSort),
          sortHeader('Finding', 'id', sort, onSort),
          sortHeader('Component', 'component', sort, onSort),
          { label: 'Title' },
          sortHeader('First seen', 'first_seen', sort, onSort),
          { label: 'Due' },
          { label: 'Triage' },
        ],
        rows,
        filtered
          ? 'No finding matches the filters.'
          : 'No findings: nothing known affects this version.',
        { id: 'findings-table' },
      ),
      pager(
        'Findings',
        { total: page?.total, limit: PAGE_SIZE, offset: state.offset },
        (offset) => {
          state.offset = offset;
          load();
        },
      ),
    ];
  };

  const changed = () => {
    state.offset = 0;
    load();
  };
  const checkGroup = (legend, key, values, labels) =>
    h(
      'fieldset',
      null,
      h('legend', null, legend),
      h(
        'div',
        { class: 'checks' },
        values.map((value, i) =>
          h(
            'label',
            null,
            h('input', {
              type: 'checkbox',
              name: key,
              value,
              checked: state[key].includes(value),
              dataset: i === 0 && key === 'severity' ? { filter: '' } : null,
              onchange: (e) => {
                state[key] = e.target.checked
                  ? [...state[key], value]
                  : state[key].filter((v) => v !== value);
                changed();
              },
            }),
            labels ? labels[value] : value,
          ),
        ),
      ),
    );
  add(
    panel,
    h(
      'form',
      { class: 'toolbar', 'aria-label': 'Filter findings', onsubmit: (e) => e.preventDefault() },
      checkGroup('Severity', 'severity', SEVERITIES),
      checkGroup('Triage state', 'state', STATE_FILTERS, STATE_LABELS),
      h(
        'fieldset',
        null,
        h('legend', null, 'Show'),
        h(
          'div',
          { class: 'checks' },
          h(
            'label',
            null,
            h('input', {
              type: 'checkbox',
              id: 'f-suppressed',
              checked: state.suppressed,
              onchange: (e) => {
                state.suppressed = e.target.checked;
                changed();
              },
            }),
            'suppressed too',
          ),
          h(
            'label',
            null,
            h('input', {
              type: 'checkbox',
              id: 'f-overdue',
              checked: state.overdue,
              onchange: (e) => {
                state.overdue = e.target.checked;
                changed();
              },
            }),
            'overdue only',
          ),
        ),
      ),
    ),
    results,
  );
  load();
}

function componentsTab(panel, ctx, version, cls) {
  const state = {
    q: ctx.params.get('q') ?? '',
    offset: Math.max(0, Number.parseInt(ctx.params.get('offset') ?? '0', 10) || 0),
  };
  const what = { any: 'components', gpu: 'GPU stack components', model: 'models' }[cls];
  const results = h('div', null, loading());
  const run = latest();
  const load = () => {
    replaceParams({ q: state.q, offset: state.offset || null });
    return run(
      () =>
        api
          .get(
            `/versions/${version.id}/components${qs({ class: cls, q: state.q, limit: PAGE_SIZE, offset: state.offset })}`,
          )
          .then(
            (page) => ({ page }),
            (err) => ({ err }),
          ),
      ({ page, err }) => {
        if (!ctx.alive()) return;
        if (err) {
          if (!err.handled) fill(results, errorBox(err, `The ${what} could not be loaded.`));
          return;
        }
        const items = page?.items ?? [];
        const [headers, rows] =
          cls === 'gpu' ? gpuRows(items) : cls === 'model' ? modelRows(items) : packageRows(items);
        fill(
          results,
          dataTable(
            { text: `${what} of ${version.version}`, hidden: true },
            headers.map((label) => ({ label })),
            rows,
            state.q ? `No ${what} match “${state.q}”.` : `No ${what} in this version.`,
            { id: `${cls}-table` },
          ),
          pager(what, { total: page?.total, limit: PAGE_SIZE, offset: state.offset }, (offset) => {
            state.offset = offset;
            load();
          }),
        );
      },
    );
  };
  const search = h('input', {
    type: 'search',
    id: 'components-q',
    value: state.q,
    dataset: { filter: '' },
    'aria-keyshortcuts': '/',
    oninput: debounce((e) => {
      state.q = e.target.value.trim();
      state.offset = 0;
      load();
    }),
  });
  add(
    panel,
    h(
      'form',
      {
        class: 'toolbar',
        role: 'search',
        'aria-label': `Search ${what}`,
        onsubmit: (e) => e.preventDefault(),
      },
      h('div', { class: 'field' }, h('label', { for: 'components-q' }, 'Name contains'), search),
    ),
    results,
  );
  load();
}

function packageRows(items) {
  return [
    ['Name', 'Version', 'Ecosystem', 'Kind', 'Package URL'],
    items.map((c) =>
      h(
        'tr',
        null,
        h('th', { scope: 'row', class: 'wrap' }, c.name),
        h('td', { class: 'wrap' }, c.version ?? '—'),
        h('td', null, c.ecosystem ?? '—'),
        h('td', null, c.kind ? humanize(c.kind) : '—'),
        h('td', { class: 'mono wrap-anywhere' }, c.purl ?? ''),
      ),
    ),
  ];
}

function gpuRows(items) {
  const known = ['provides', 'part_version', 'cuda', 'cudnn', 'rocm', 'variant'];
  return [
    [
      'Component',
      'Version',
      'Part',
      'Part version',
      'CUDA',
      'cuDNN',
      'ROCm',
      'Build variant',
      'More',
    ],
    items.map((c) => {
      const g = c.gpu ?? {};
      const rest = Object.fromEntries(Object.entries(g).filter(([k]) => !known.includes(k)));
      return h(
        'tr',
        null,
        h(
          'th',
          { scope: 'row', class: 'wrap' },
          c.name,
          c.ecosystem ? h('span', { class: 'aliases' }, c.ecosystem) : null,
        ),
        h('td', { class: 'wrap' }, c.version ?? '—'),
        known.map((k) =>
          h('td', null, g[k] == null ? h('span', { class: 'muted' }, '—') : humanize(String(g[k]))),
        ),
        h('td', null, Object.keys(rest).length ? anyValue(rest) : ''),
      );
    }),
  ];
}

function modelRows(items) {
  return [
    ['Model', 'Format', 'Architecture', 'Task', 'Parameters', 'Types', 'Source', 'Details'],
    items.map((c) => {
      const m = c.model ?? {};
      const shown = [
        'format',
        'architecture',
        'task',
        'parameters',
        'dtypes',
        'quantization',
        'repository',
        'revision',
      ];
      const rest = Object.fromEntries(
        Object.entries(m).filter(
          ([k, v]) =>
            !shown.includes(k) &&
            !(Array.isArray(v) && !v.length) &&
            !(v && typeof v === 'object' && !Array.isArray(v) && !Object.keys(v).length),
        ),
      );
      return h(
        'tr',
        null,
        h(
          'th',
          { scope: 'row', class: 'wrap' },
          c.name,
          c.version ? h('span', { class: 'aliases' }, c.version) : null,
        ),
        h('td', null, m.format || '—'),
        h('td', null, m.architecture || '—'),
        h('td', null, m.task || '—'),
        h('td', { class: 'num' }, typeof m.parameters === 'number' ? fmtNum(m.parameters) : '—'),
        h('td', null, [...(m.dtypes ?? []), m.quantization].filter(Boolean).join(', ') || '—'),
        h(
          'td',
          { class: 'wrap' },
          m.repository
            ? [m.repository, m.revision ? h('span', { class: 'aliases' }, m.revision) : null]
            : '—',
        ),
        h('td', null, Object.keys(rest).length ? anyValue(rest) : ''),
      );
    }),
  ];
}

function sbomTab(panel, version, project) {
  const snap = version.snapshot;
  if (!snap) {
    add(panel, h('p', { class: 'notice' }, 'No SBOM is stored for this version.'));
    return;
  }
  const ext =
    { 'cyclonedx-json': 'cdx.json', 'cyclonedx-xml': 'cdx.xml', 'spdx-json': 'spdx.json' }[
      snap.format
    ] ?? 'sbom';
  const name = safeFileName(`${project.name}-${version.version}.${ext}`);
  const button = h(
    'button',
    { type: 'button', class: 'btn btn-primary', id: 'sbom-download' },
    'Download SBOM',
  );
  const problem = h('div');
  button.addEventListener('click', async () => {
    button.disabled = true;
    fill(problem);
    try {
      await download(`/versions/${version.id}/sbom`, name);
    } catch (err) {
      if (!err.handled) fill(problem, errorBox(err, 'The SBOM could not be downloaded.'));
    } finally {
      button.disabled = false;
    }
  });
  add(
    panel,
    h(
      'div',
      { class: 'card' },
      h('h2', null, 'Stored SBOM'),
      h(
        'dl',
        { class: 'facts' },
        h('dt', null, 'Format'),
        h('dd', null, snap.format),
        h('dt', null, 'SHA-256'),
        h('dd', { class: 'mono' }, snap.sha256),
        h('dt', null, 'Uploaded'),
        h('dd', null, timeEl(snap.uploaded_at)),
        h('dt', null, 'Uploaded by'),
        h('dd', null, snap.uploaded_by ?? '—'),
        h('dt', null, 'Components'),
        h('dd', null, fmtNum(snap.components)),
      ),
      h('div', { class: 'dialog-actions' }, button),
      problem,
    ),
  );
}

function vexTab(panel, version, project) {
  const format = h(
    'select',
    { id: 'vex-format' },
    h('option', { value: 'cyclonedx' }, 'CycloneDX VEX'),
    h('option', { value: 'openvex' }, 'OpenVEX'),
  );
  const exportProblem = h('div', { class: 'result' });
  const exportButton = h(
    'button',
    { type: 'submit', class: 'btn btn-primary', id: 'vex-download' },
    'Download VEX',
  );
  const exportForm = h(
    'form',
    {
      onsubmit: async (e) => {
        e.preventDefault();
        exportButton.disabled = true;
        fill(exportProblem);
        const ext = format.value === 'openvex' ? 'openvex.json' : 'vex.cdx.json';
        try {
          await download(
            `/versions/${version.id}/vex${qs({ format: format.value })}`,
            safeFileName(`${project.name}-${version.version}.${ext}`),
          );
        } catch (err) {
          if (!err.handled)
            fill(exportProblem, errorBox(err, 'The VEX document could not be downloaded.'));
        } finally {
          exportButton.disabled = false;
        }
      },
    },
    h('div', { class: 'field' }, h('label', { for: 'vex-format' }, 'Format'), format),
    exportButton,
    exportProblem,
  );

  const file = h('input', {
    type: 'file',
    id: 'vex-file',
    accept: '.json,application/json',
    required: true,
  });
  const importButton = h(
    'button',
    { type: 'submit', class: 'btn btn-primary', id: 'vex-import' },
    'Import VEX',
  );
  const result = h('div', { 'aria-live': 'polite', class: 'result' });
  const canTriage = hasScope('triage');
  const importForm = h(
    'form',
    {
      onsubmit: async (e) => {
        e.preventDefault();
        const chosen = file.files?.[0];
        if (!chosen) {
          fill(result, h('div', { class: 'error', role: 'alert' }, 'Choose a VEX file first.'));
          return;
        }
        importButton.disabled = true;
        fill(result, loading('Importing…'));
        try {
          const answer = await api.post(
            `/versions/${version.id}/vex`,
            chosen,
            fileContentType(chosen),
          );
          const part = (key, title, items, empty) =>
            h(
              'section',
              { dataset: { vexResult: key } },
              h('h3', null, `${title} (${fmtNum((items ?? []).length)})`),
              (items ?? []).length
                ? h(
                    'ul',
                    { class: 'plain' },
                    items.map((it) => h('li', null, vexItem(it))),
                  )
                : h('p', { class: 'muted' }, empty),
            );
          fill(
            result,
            h(
              'div',
              { class: 'success', role: 'status' },
              `Imported ${chosen.name}: ${fmtNum((answer?.applied ?? []).length)} statements applied.`,
            ),
            part('applied', 'Applied', answer?.applied, 'None.'),
            part('unmatched', 'Unmatched', answer?.unmatched, 'Every statement matched a finding.'),
            part('warnings', 'Warnings', answer?.warnings, 'None.'),
          );
          announce('VEX imported.');
        } catch (err) {
          if (!err.handled) fill(result, errorBox(err, 'The VEX document was not imported.'));
        } finally {
          importButton.disabled = false;
        }
      },
    },
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'vex-file' }, 'VEX document'),
      h(
        'span',
        { class: 'hint', id: 'vex-file-hint' },
        'CycloneDX VEX or OpenVEX, JSON. Its statements become triage of this version’s findings.',
      ),
      file,
    ),
    canTriage
      ? importButton
      : h(
          'p',
          { class: 'notice' },
          'Your API key lacks the triage scope, so it cannot import VEX.',
        ),
    result,
  );
  file.setAttribute('aria-describedby', 'vex-file-hint');
  add(
    panel,
    h(
      'div',
      { class: 'grid-2' },
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'vex-export-title' },
        h('h2', { id: 'vex-export-title' }, 'Export'),
        h('p', { class: 'muted' }, 'The triage of this version as a VEX document.'),
        exportForm,
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'vex-import-title' },
        h('h2', { id: 'vex-import-title' }, 'Import'),
        importForm,
      ),
    ),
  );
}

/** One line of a VEX import answer: applied statements and misses read as sentences. */
function vexItem(item) {
  if (item && typeof item === 'object' && !Array.isArray(item)) {
    const {
      vulnerability,
      finding_id: findingId,
      component,
      state,
      purl,
      component_name: name,
      reason,
    } = item;
    if ((findingId || vulnerability) && component && state) {
      return `${findingId ?? vulnerability} on ${component}: ${STATE_LABELS[state] ?? humanize(state)}`;
    }
    if (vulnerability && reason) {
      const target = purl ?? name;
      return `${vulnerability}${target ? ` (${target})` : ''}: ${reason}`;
    }
  }
  return inlineValue(item);
}

// ---------------------------------------------------------------------------------------------
// Triage dialog

async function openTriage(findingId, { opener, onSaved }) {
  const titleId = uid('triage-title');
  const body = h('div', { class: 'dialog-inner' }, h('h2', { id: titleId }, 'Finding'), loading());
  const dialog = h(
    'dialog',
    { class: 'dialog triage', 'aria-labelledby': titleId, id: 'triage-dialog' },
    h(
      'button',
      { type: 'button', class: 'btn btn-quiet dialog-close', onclick: () => dialog.close() },
      h('span', { 'aria-hidden': 'true' }, '×'),
      srOnly('Close'),
    ),
    body,
  );
  const focusKey = opener?.dataset?.focusKey;
  dialog.addEventListener('close', () => {
    dialog.remove();
    const target = opener?.isConnected
      ? opener
      : focusKey
        ? main.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`)
        : null;
    target?.focus();
  });
  document.body.append(dialog);
  dialog.showModal();

  let finding;
  let audit;
  try {
    [finding, audit] = await Promise.all([
      api.get(`/findings/${findingId}`),
      api.get(`/findings/${findingId}/audit`),
    ]);
  } catch (err) {
    if (!err.handled) add(body, errorBox(err, 'The finding could not be loaded.'));
    body.querySelector('.loading')?.remove();
    return;
  }
  if (!dialog.isConnected) return;

  const summary = h('div');
  const auditSection = h('section', { 'aria-labelledby': `${titleId}-audit` });
  const renderSummary = () => {
    const c = finding.component ?? {};
    const t = finding.triage;
    fill(
      summary,
      h(
        'dl',
        { class: 'facts' },
        (finding.aliases ?? []).length
          ? [h('dt', null, 'Aliases'), h('dd', null, finding.aliases.join(', '))]
          : null,
        h('dt', null, 'Component'),
        h('dd', null, `${c.name ?? ''}${c.version ? `@${c.version}` : ''}`),
        c.purl ? [h('dt', null, 'Package URL'), h('dd', { class: 'mono' }, c.purl)] : null,
        finding.title ? [h('dt', null, 'Title'), h('dd', null, finding.title)] : null,
        h('dt', null, 'First seen'),
        h('dd', null, timeEl(finding.first_seen)),
        h('dt', null, 'Due'),
        h('dd', null, timeEl(finding.due_at), finding.overdue ? [' ', overdueFlag()] : null),
        h('dt', null, 'State'),
        h(
          'dd',
          { id: 'triage-current' },
          stateLabel(t),
          t?.justification ? ` · ${humanize(t.justification)}` : '',
          t?.updated_by
            ? h('span', { class: 'muted' }, ` · by ${t.updated_by} `, timeEl(t.updated_at))
            : null,
        ),
      ),
    );
  };
  const renderAudit = () => {
    const items = [...(audit?.items ?? [])].sort(
      (a, b) => (toDate(b.at)?.getTime() ?? 0) - (toDate(a.at)?.getTime() ?? 0),
    );
    // Enumerations read better with spaces; free text (the detail) stays as written.
    const value = (field, v) =>
      v == null || v === ''
        ? h('span', { class: 'muted' }, 'unset')
        : field === 'state' || field === 'justification'
          ? humanize(v)
          : String(v);
    fill(
      auditSection,
      h('h3', { id: `${titleId}-audit` }, `Audit trail (${fmtNum(items.length)})`),
      dataTable(
        { text: 'Audit trail, newest first', hidden: true },
        [{ label: 'When' }, { label: 'Who' }, { label: 'Field' }, { label: 'Change' }],
        items.map((a) =>
          h(
            'tr',
            { dataset: { field: a.field ?? '' } },
            h('td', null, timeEl(a.at)),
            h('td', null, a.actor ?? ''),
            h('th', { scope: 'row' }, humanize(a.field ?? '')),
            h(
              'td',
              { class: 'wrap' },
              value(a.field, a.old_value),
              ' → ',
              value(a.field, a.new_value),
            ),
          ),
        ),
        'No changes recorded yet.',
        { id: 'audit-table' },
      ),
    );
  };

  const t = finding.triage;
  const stateSelect = h(
    'select',
    { id: 'triage-state', name: 'state', required: true },
    h('option', { value: '' }, 'Choose a state…'),
    STATES.map((st) => h('option', { value: st }, STATE_LABELS[st])),
  );
  stateSelect.value = t?.state && STATES.includes(t.state) ? t.state : '';
  const justSelect = h(
    'select',
    {
      id: 'triage-justification',
      name: 'justification',
      'aria-describedby': 'triage-justification-hint',
    },
    h('option', { value: '' }, 'Choose a justification…'),
    JUSTIFICATIONS.map(({ group, items }) =>
      h(
        'optgroup',
        { label: group },
        items.map(([value, label]) => h('option', { value }, label)),
      ),
    ),
  );
  justSelect.value = t?.justification ?? '';
  const justMark = h('span', { class: 'required-mark', 'aria-hidden': 'true' }, ' *');
  const syncJustification = () => {
    const needed = stateSelect.value === 'not_affected';
    justSelect.disabled = !needed;
    justSelect.required = needed;
    justMark.hidden = !needed;
  };
  syncJustification();
  stateSelect.addEventListener('change', syncJustification);
  const detail = h('textarea', {
    id: 'triage-detail',
    name: 'detail',
    rows: '3',
    maxlength: '4000',
  });
  detail.value = t?.detail ?? '';
  const today = new Date().toISOString().slice(0, 10);
  const suppress = h('input', {
    type: 'date',
    id: 'triage-suppress',
    name: 'suppressed_until',
    min: today,
    'aria-describedby': 'triage-suppress-hint',
  });
  const until = toDate(t?.suppressed_until);
  suppress.value = until ? ymd(until) : '';
  const problem = h('div', { 'aria-live': 'assertive' });
  const saved = h('div', { role: 'status' });
  const save = h(
    'button',
    { type: 'submit', class: 'btn btn-primary', id: 'triage-save' },
    'Save triage',
  );
  const canTriage = hasScope('triage');

  const form = h(
    'form',
    {
      class: 'triage-form',
      id: 'triage-form',
      onsubmit: async (e) => {
        e.preventDefault();
        fill(problem);
        fill(saved);
        if (!form.reportValidity()) return;
        const payload = {
          state: stateSelect.value,
          justification: stateSelect.value === 'not_affected' ? justSelect.value : null,
          detail: detail.value.trim() || null,
          // A bare day: the server suppresses through the end of that day (UTC).
          suppressed_until: suppress.value || null,
        };
        save.disabled = true;
        try {
          finding = await api.put(`/findings/${findingId}/triage`, payload);
          renderSummary();
          try {
            audit = await api.get(`/findings/${findingId}/audit`);
          } catch (err) {
            if (!err.handled)
              fill(problem, errorBox(err, 'Saved, but the audit trail could not be reloaded.'));
          }
          renderAudit();
          fill(
            saved,
            h(
              'p',
              { class: 'success' },
              `Saved: ${STATE_LABELS[finding?.triage?.state ?? payload.state] ?? payload.state}.`,
            ),
          );
          announce(`Triage of ${finding?.finding_id ?? 'the finding'} saved.`);
          onSaved?.(finding);
        } catch (err) {
          if (!err.handled) fill(problem, errorBox(err, 'The triage was not saved.'));
        } finally {
          save.disabled = false;
        }
      },
    },
    h(
      'div',
      { class: 'field' },
      h(
        'label',
        { for: 'triage-state' },
        'State',
        h('span', { class: 'required-mark', 'aria-hidden': 'true' }, ' *'),
      ),
      stateSelect,
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'triage-justification' }, 'Justification', justMark),
      justSelect,
      h(
        'span',
        { class: 'hint', id: 'triage-justification-hint' },
        'Required when the state is “not affected”.',
      ),
    ),
    h('div', { class: 'field span-2' }, h('label', { for: 'triage-detail' }, 'Detail'), detail),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'triage-suppress' }, 'Suppress until'),
      suppress,
      h(
        'span',
        { class: 'hint', id: 'triage-suppress-hint' },
        'Optional: hidden from finding lists through this day (UTC).',
      ),
    ),
    h('div', { class: 'span-2' }, problem, saved),
    h(
      'div',
      { class: 'dialog-actions span-2' },
      h('button', { type: 'button', class: 'btn', onclick: () => dialog.close() }, 'Close'),
      canTriage ? save : null,
    ),
  );
  if (!canTriage) {
    for (const control of form.querySelectorAll('select, textarea, input')) control.disabled = true;
  }

  renderSummary();
  renderAudit();
  fill(
    body,
    h('h2', { id: titleId }, finding.finding_id, ' ', sevBadge(finding.severity)),
    summary,
    h('h3', null, 'Triage'),
    canTriage
      ? null
      : h(
          'p',
          { class: 'notice' },
          'Your API key lacks the triage scope: you can read but not change the triage.',
        ),
    form,
    auditSection,
  );
  (canTriage ? stateSelect : dialog.querySelector('.dialog-close')).focus();
}

// ---------------------------------------------------------------------------------------------
// Diff

async function diffPage(view, ctx) {
  const from = ctx.params.get('from');
  const to = ctx.params.get('to');
  if (!/^\d+$/.test(from ?? '') || !/^\d+$/.test(to ?? '')) {
    add(
      view,
      pageHead('Compare versions'),
      h('p', { class: 'notice' }, 'Pick two versions to compare on a project page.'),
    );
    return;
  }
  const diff = await api.get(`/diff${qs({ from, to })}`);
  if (!ctx.alive()) return;
  const a = diff.from ?? {};
  const b = diff.to ?? {};
  const project = a.project ?? b.project ?? null;
  const projectCrumb = project
    ? [project.name, `#/projects/${encodeURIComponent(project.id)}`]
    : a.project_id != null
      ? ['Project', `#/projects/${encodeURIComponent(a.project_id)}`]
      : ['Project'];
  const c = diff.components ?? {};
  const f = diff.findings ?? {};
  const len = (list) => (Array.isArray(list) ? list.length : 0);

  add(
    view,
    pageHead(`Compare ${a.version ?? from} → ${b.version ?? to}`, {
      crumbs: [['Dashboard', '#/'], projectCrumb, ['Compare']],
      subtitle: project ? project.name : null,
      actions: h(
        'span',
        { class: 'badges' },
        h(
          'a',
          { class: 'btn', href: `#/versions/${encodeURIComponent(from)}` },
          `Open ${a.version ?? 'from'}`,
        ),
        h(
          'a',
          { class: 'btn', href: `#/versions/${encodeURIComponent(to)}` },
          `Open ${b.version ?? 'to'}`,
        ),
        h('a', { class: 'btn', href: `#/diff${qs({ from: to, to: from })}` }, 'Swap'),
      ),
    }),
    h(
      'p',
      { class: 'diff-summary' },
      h('span', { class: 'pill' }, `${fmtNum(len(f.new))} new findings`),
      h('span', { class: 'pill' }, `${fmtNum(len(f.resolved))} resolved findings`),
      h('span', { class: 'pill' }, `${fmtNum(len(c.added))} added`),
      h('span', { class: 'pill' }, `${fmtNum(len(c.removed))} removed`),
      h('span', { class: 'pill' }, `${fmtNum(len(c.upgraded))} upgraded`),
      h('span', { class: 'pill' }, `${fmtNum(len(c.downgraded))} downgraded`),
      len(c.changed) ? h('span', { class: 'pill' }, `${fmtNum(len(c.changed))} changed`) : null,
      h('span', { class: 'pill' }, `${fmtNum(Number(c.unchanged ?? 0))} unchanged`),
    ),
  );

  const section = (key, title, list, table) =>
    h(
      'section',
      { 'aria-labelledby': `diff-${key}`, dataset: { diff: key } },
      h('h2', { id: `diff-${key}` }, `${title} (${fmtNum(len(list))})`),
      len(list) ? table(list) : h('p', { class: 'muted' }, 'None.'),
    );
  const findingTable = (caption) => (list) =>
    dataTable(
      { text: caption, hidden: true },
      [
        { label: 'Severity' },
        { label: 'Finding' },
        { label: 'Package' },
        { label: 'Summary' },
        { label: 'Fixed in' },
      ],
      list.map((x) =>
        h(
          'tr',
          null,
          h('td', null, sevBadge(x.severity)),
          h(
            'th',
            { scope: 'row', class: 'wrap' },
            h('span', { class: 'finding-id' }, x.id),
            (x.aliases ?? []).length ? h('span', { class: 'aliases' }, x.aliases.join(', ')) : null,
          ),
          h(
            'td',
            { class: 'wrap' },
            x.package ?? '',
            (x.versions ?? []).length
              ? h('span', { class: 'muted' }, `@${[].concat(x.versions).join(', ')}`)
              : null,
            x.ecosystem ? h('span', { class: 'aliases' }, x.ecosystem) : null,
          ),
          h('td', null, x.summary ?? ''),
          h(
            'td',
            null,
            [].concat(x.fixed_versions ?? []).join(', ') ||
              h('span', { class: 'muted' }, 'no fix known'),
          ),
        ),
      ),
      '',
    );
  const componentTable = (caption) => (list) =>
    dataTable(
      { text: caption, hidden: true },
      [
        { label: 'Name' },
        { label: 'Version' },
        { label: 'Ecosystem' },
        { label: 'Kind' },
        { label: 'Package URL' },
      ],
      list.map((x) =>
        h(
          'tr',
          null,
          h('th', { scope: 'row', class: 'wrap' }, x.name),
          h('td', { class: 'wrap' }, x.version ?? '—'),
          h('td', null, x.ecosystem ?? '—'),
          h('td', null, x.kind ? humanize(x.kind) : '—'),
          h('td', { class: 'mono wrap-anywhere' }, x.purl ?? ''),
        ),
      ),
      '',
    );
  const changeTable = (caption) => (list) =>
    dataTable(
      { text: caption, hidden: true },
      [
        { label: 'Name' },
        { label: 'From' },
        { label: 'To' },
        { label: 'Ecosystem' },
        { label: 'Kind' },
      ],
      list.map((x) =>
        h(
          'tr',
          null,
          h('th', { scope: 'row', class: 'wrap' }, x.name),
          h('td', { class: 'wrap' }, x.old_version ?? '—'),
          h('td', { class: 'wrap' }, x.new_version ?? '—'),
          h('td', null, x.ecosystem ?? '—'),
          h('td', null, x.kind ? humanize(x.kind) : '—'),
        ),
      ),
      '',
    );
  add(
    view,
    section('new', 'New findings', f.new, findingTable('New findings')),
    section('resolved', 'Resolved findings', f.resolved, findingTable('Resolved findings')),
    section('added', 'Added components', c.added, componentTable('Added components')),
    section('removed', 'Removed components', c.removed, componentTable('Removed components')),
    section('upgraded', 'Upgraded components', c.upgraded, changeTable('Upgraded components')),
    section(
      'downgraded',
      'Downgraded components',
      c.downgraded,
      changeTable('Downgraded components'),
    ),
    len(c.changed)
      ? section(
          'changed',
          'Otherwise changed components',
          c.changed,
          changeTable('Otherwise changed components'),
        )
      : null,
  );
}

// ---------------------------------------------------------------------------------------------
// Upload

async function uploadPage(view, ctx) {
  add(
    view,
    pageHead('Upload an SBOM', {
      subtitle:
        'CycloneDX (JSON or XML) or SPDX JSON. The project and version are created as needed.',
    }),
  );
  if (!hasScope('upload')) {
    add(
      view,
      h(
        'p',
        { class: 'notice' },
        'Your API key lacks the upload scope, so the server will refuse uploads.',
      ),
    );
  }
  const projectList = h('datalist', { id: 'upload-projects' });
  const project = h('input', {
    type: 'text',
    id: 'upload-project',
    name: 'project',
    required: true,
    list: 'upload-projects',
    autocomplete: 'off',
    value: ctx.params.get('project') ?? '',
    dataset: { filter: '' },
  });
  const version = h('input', {
    type: 'text',
    id: 'upload-version',
    name: 'version',
    required: true,
    autocomplete: 'off',
    placeholder: 'e.g. 1.4.0 or a git sha',
  });
  const tags = h('input', {
    type: 'text',
    id: 'upload-tags',
    name: 'tags',
    autocomplete: 'off',
    placeholder: 'e.g. prod, gpu',
    'aria-describedby': 'upload-tags-hint',
  });
  const file = h('input', {
    type: 'file',
    id: 'upload-file',
    name: 'file',
    required: true,
    accept: '.json,.xml,application/json,application/xml',
  });
  const submit = h(
    'button',
    { type: 'submit', class: 'btn btn-primary', id: 'upload-submit' },
    'Upload',
  );
  const result = h('div', { id: 'upload-result' });
  const form = h(
    'form',
    {
      class: 'form-narrow card',
      id: 'upload-form',
      onsubmit: async (e) => {
        e.preventDefault();
        fill(result);
        if (!form.reportValidity()) return;
        const chosen = file.files[0];
        const tagList = tags.value
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean);
        const search = new URLSearchParams({
          project: project.value.trim(),
          version: version.value.trim(),
        });
        if (tagList.length) search.set('tags', tagList.join(','));
        submit.disabled = true;
        fill(result, loading(`Uploading ${chosen.name}…`));
        try {
          const answer = await api.post(`/sboms?${search}`, chosen, fileContentType(chosen));
          const v = answer?.version ?? {};
          const p = answer?.project ?? {};
          const link = h(
            'a',
            { href: `#/versions/${encodeURIComponent(v.id)}`, id: 'upload-version-link' },
            `Open ${p.name ?? ''} ${v.version ?? ''}`,
          );
          fill(
            result,
            h(
              'div',
              { class: 'success' },
              h('h2', { tabindex: '-1', id: 'upload-done' }, 'Uploaded'),
              h(
                'p',
                null,
                `${p.name ?? ''} ${v.version ?? ''}: ${fmtNum(answer?.components)} components, ${fmtNum(answer?.findings)} findings (${fmtNum(answer?.new_findings)} new).`,
              ),
              h(
                'p',
                null,
                link,
                ' · ',
                h('a', { href: `#/projects/${encodeURIComponent(p.id)}` }, 'Open the project'),
              ),
            ),
          );
          announce(`Uploaded ${p.name ?? ''} ${v.version ?? ''}.`);
          result.querySelector('h2').focus();
        } catch (err) {
          fill(result, err.handled ? '' : errorBox(err, 'The upload failed.'));
        } finally {
          submit.disabled = false;
        }
      },
    },
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'upload-project' }, 'Project name'),
      project,
      projectList,
    ),
    h('div', { class: 'field' }, h('label', { for: 'upload-version' }, 'Version'), version),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'upload-tags' }, 'Tags'),
      h(
        'span',
        { class: 'hint', id: 'upload-tags-hint' },
        'Optional, comma-separated; added to the project.',
      ),
      tags,
    ),
    h('div', { class: 'field' }, h('label', { for: 'upload-file' }, 'SBOM file'), file),
    h('div', { class: 'dialog-actions' }, submit),
  );
  add(view, form, result);
  // Suggest existing project names; the form works without them.
  api.get('/projects?limit=1000&sort=name').then(
    (page) => fill(projectList, ...(page?.items ?? []).map((p) => h('option', { value: p.name }))),
    () => {},
  );
}

// ---------------------------------------------------------------------------------------------
// Events

async function eventsPage(view, ctx) {
  add(
    view,
    pageHead('Events', {
      subtitle: 'What happened recently: uploads, new and gone findings, SLA breaches.',
    }),
  );
  const state = {
    project: /^\d+$/.test(ctx.params.get('project') ?? '') ? ctx.params.get('project') : '',
    kind: Object.hasOwn(EVENT_KINDS, ctx.params.get('kind') ?? '') ? ctx.params.get('kind') : '',
    offset: Math.max(0, Number.parseInt(ctx.params.get('offset') ?? '0', 10) || 0),
  };
  const projects = await api.get('/projects?limit=1000&sort=name');
  if (!ctx.alive()) return;
  const names = new Map((projects?.items ?? []).map((p) => [String(p.id), p.name]));
  const versionNames = new Map();

  const projectSelect = h(
    'select',
    { id: 'events-project', dataset: { filter: '' }, 'aria-keyshortcuts': '/' },
    h('option', { value: '' }, 'All projects'),
    (projects?.items ?? []).map((p) => h('option', { value: String(p.id) }, p.name)),
  );
  projectSelect.value = state.project;
  const kindSelect = h(
    'select',
    { id: 'events-kind' },
    h('option', { value: '' }, 'All kinds'),
    Object.entries(EVENT_KINDS).map(([value, label]) => h('option', { value }, label)),
  );
  kindSelect.value = state.kind;
  const results = h('div', null, loading());
  const run = latest();

  const versionLabel = async (items) => {
    const wanted = [
      ...new Set(
        items
          .filter(
            (e) => e.project_version_id != null && !versionNames.has(String(e.project_version_id)),
          )
          .map((e) => String(e.project_id)),
      ),
    ];
    await Promise.allSettled(
      wanted.map((pid) =>
        api.get(`/projects/${encodeURIComponent(pid)}/versions`).then((answer) => {
          for (const v of answer?.items ?? []) versionNames.set(String(v.id), v.version);
        }),
      ),
    );
  };

  const load = () => {
    replaceParams({ project: state.project, kind: state.kind, offset: state.offset || null });
    return run(
      async () => {
        try {
          const page = await api.get(
            `/events${qs({ project: state.project, kind: state.kind, limit: PAGE_SIZE, offset: state.offset })}`,
          );
          await versionLabel(page?.items ?? []);
          return { page };
        } catch (err) {
          return { err };
        }
      },
      ({ page, err }) => {
        if (!ctx.alive()) return;
        if (err) {
          if (!err.handled) fill(results, errorBox(err, 'Events could not be loaded.'));
          return;
        }
        const rows = (page?.items ?? []).map((e) =>
          h(
            'tr',
            { dataset: { kind: e.kind ?? '' } },
            h('td', null, timeEl(e.at)),
            h('th', { scope: 'row' }, EVENT_KINDS[e.kind] ?? humanize(e.kind ?? '')),
            h(
              'td',
              null,
              e.project_id != null
                ? h(
                    'a',
                    { href: `#/projects/${encodeURIComponent(e.project_id)}` },
                    names.get(String(e.project_id)) ?? `project ${e.project_id}`,
                  )
                : '—',
            ),
            h(
              'td',
              null,
              e.project_version_id != null
                ? h(
                    'a',
                    { href: `#/versions/${encodeURIComponent(e.project_version_id)}` },
                    versionNames.get(String(e.project_version_id)) ??
                      `version ${e.project_version_id}`,
                  )
                : '—',
            ),
            h(
              'td',
              { class: 'wrap' },
              e.finding_id ? h('span', { class: 'finding-id' }, e.finding_id) : '',
              e.component_name ? h('span', { class: 'aliases' }, e.component_name) : null,
            ),
            h('td', null, e.severity ? sevBadge(e.severity) : ''),
            h('td', null, eventDetail(e.detail)),
          ),
        );
        fill(
          results,
          dataTable(
            { text: 'Events, newest first', hidden: true },
            [
              { label: 'When' },
              { label: 'Event' },
              { label: 'Project' },
              { label: 'Version' },
              { label: 'Finding / component' },
              { label: 'Severity' },
              { label: 'Detail' },
            ],
            rows,
            state.project || state.kind ? 'No events match the filter.' : 'No events yet.',
            { id: 'events-table' },
          ),
          pager(
            'Events',
            { total: page?.total, limit: PAGE_SIZE, offset: state.offset },
            (offset) => {
              state.offset = offset;
              load();
            },
          ),
        );
      },
    );
  };
  const changed = () => {
    state.project = projectSelect.value;
    state.kind = kindSelect.value;
    state.offset = 0;
    load();
  };
  projectSelect.addEventListener('change', changed);
  kindSelect.addEventListener('change', changed);
  add(
    view,
    h(
      'form',
      { class: 'toolbar', 'aria-label': 'Filter events', onsubmit: (e) => e.preventDefault() },
      h('div', { class: 'field' }, h('label', { for: 'events-project' }, 'Project'), projectSelect),
      h('div', { class: 'field' }, h('label', { for: 'events-kind' }, 'Kind'), kindSelect),
    ),
    results,
  );
  load();
}

/** The detail of an event: the known parts in words, anything else as `key: value`. */
function eventDetail(detail) {
  if (detail == null || typeof detail !== 'object' || Array.isArray(detail))
    return inlineValue(detail);
  const {
    actor,
    title,
    components,
    findings,
    new_findings: fresh,
    sha256,
    format,
    ...rest
  } = detail;
  const upload =
    components != null
      ? `${fmtNum(components)} components, ${fmtNum(findings)} findings (${fmtNum(fresh)} new)${format ? `, ${format}` : ''}`
      : null;
  return [
    title ? h('span', { class: 'block' }, String(title)) : null,
    upload
      ? h('span', { class: 'block', title: sha256 ? `SHA-256 ${sha256}` : null }, upload)
      : null,
    Object.keys(rest).length
      ? h('span', { class: 'block wrap-anywhere' }, inlineValue(rest))
      : null,
    actor ? h('span', { class: 'aliases' }, `by ${actor}`) : null,
  ];
}

// ---------------------------------------------------------------------------------------------
// Keyboard: `g d`, `g u`, `g e`, `/`, `?`. Escape is the dialogs' own.

const TEXT_INPUTS = new Set([
  'text',
  'search',
  'password',
  'email',
  'url',
  'number',
  'date',
  'tel',
]);

function isTyping(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  return tag === 'INPUT' && TEXT_INPUTS.has(target.type);
}

let pendingG = 0;
document.addEventListener('keydown', (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
  if (document.querySelector('dialog[open]')) return;
  const now = Date.now();
  if (pendingG && now - pendingG < 1500) {
    pendingG = 0;
    const target = { d: '#/', u: '#/upload', e: '#/events' }[e.key];
    if (target && apiKey) {
      e.preventDefault();
      go(target);
      return;
    }
  }
  if (e.key === 'g') {
    pendingG = now;
    return;
  }
  pendingG = 0;
  if (e.key === '/') {
    const filter = main.querySelector('[data-filter]');
    if (filter) {
      e.preventDefault();
      filter.focus();
      if (typeof filter.select === 'function' && filter.type !== 'checkbox') filter.select();
    }
  } else if (e.key === '?') {
    e.preventDefault();
    openHelp();
  }
});

const help = document.getElementById('help');
function openHelp() {
  if (!help.open) help.showModal();
}
document.getElementById('help-open').addEventListener('click', openHelp);
document.getElementById('logout').addEventListener('click', () => logout('You have logged out.'));
document.getElementById('skip-link').addEventListener('click', (e) => {
  e.preventDefault();
  (main.querySelector('h1') ?? main).focus();
});

// ---------------------------------------------------------------------------------------------
// Start

window.addEventListener('hashchange', () => render());

async function start() {
  if (apiKey) {
    try {
      identity = await request('/whoami');
    } catch (err) {
      if (err.handled) return;
      // Server down or the like: show it, keep the key so a reload can retry.
      fill(main, pageHead('bulwark'), errorBox(err, 'The server could not be reached.'));
      return;
    }
  }
  showSession();
  render();
}

start();
