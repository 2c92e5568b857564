// app.js — the Mina sidor page: card panels kept live from the daemon's events, login with PIN1,
// the PIN2 dialog, the download view with its progress bar and the result (the user guide's
// steps 1–8). All daemon access goes through siths-bridge.js; all texts through i18n.js.
import { SithsBridge, eventCardId } from './siths-bridge.js';
import { t, apply, setLang, getLang } from './i18n.js';

const $ = (sel, root = document) => root.querySelector(sel);
const bridge = new SithsBridge();
const state = {
  cards: new Map(),      // id → card model (GET /v1/cards shape)
  readers: null,         // [{id, name, card_present}] or null when unknown
  health: null,
  unreachable: false,
  busyCards: new Set(),  // cards with a flow (dialog or download) open
  apiError: null,        // a BridgeError that kept the cards from loading (not 'unreachable')
};

// ---------- helpers ----------

function announce(text) {
  const el = $('#announcer');
  el.textContent = '';
  // A fresh text node after a tick is announced even when the text repeats.
  setTimeout(() => { el.textContent = text; }, 30);
}

function isTestIssuer(h) {
  const iss = h && h.issuer;
  return Boolean(iss && iss.test === true);
}

function pinInfo(card, which) {
  const p = (card && card.pins && card.pins[which]) || {};
  let min = Number(p.min_length ?? p.min_len);
  let max = Number(p.max_length ?? p.max_len);
  if (!Number.isInteger(min) || min < 4 || min > 16) min = 6;
  if (!Number.isInteger(max) || max < min || max > 16) max = Math.max(min, 8);
  const tries = Number.isInteger(p.tries_left) && p.tries_left >= 0 ? p.tries_left : null;
  return { min, max, tries, blocked: p.blocked === true || tries === 0 };
}

function lenText({ min, max }) {
  return min === max ? t('pin_len_fixed', { min }) : t('pin_len', { min, max });
}

function triesText(n) {
  if (n === null || n === undefined) return '';
  return n === 1 ? t('tries_1') : t('tries', { n });
}

const PIN_ERRORS = new Set(['wrong_pin', 'pin_incorrect', 'pin_blocked', 'blocked', 'bad_pin', 'invalid_pin']);
function isPinError(e) {
  return Boolean(e) && (PIN_ERRORS.has(e.code) || e.triesLeft !== undefined || e.status === 423);
}
function isSessionError(e) {
  return Boolean(e) && ((e.status === 401 && e.triesLeft === undefined && !PIN_ERRORS.has(e.code)) ||
    ['login_required', 'session_missing', 'session_expired', 'missing', 'expired', 'unauthorized'].includes(e.code));
}

/** Plain-language text for any error from the client module or a job-failed event. */
function errorText(e) {
  if (!e) return '';
  const c = e.code || '';
  if (c === 'pin_blocked' || c === 'blocked' || e.status === 423 || e.triesLeft === 0) return t('err_pin_blocked');
  if (c === 'wrong_pin' || c === 'pin_incorrect' || e.triesLeft !== undefined) {
    if (e.triesLeft === undefined || e.triesLeft === null) return t('err_wrong_pin_unknown');
    return e.triesLeft === 1 ? t('err_wrong_pin_1') : t('err_wrong_pin', { n: e.triesLeft });
  }
  if (c === 'bad_pin' || c === 'invalid_pin') return t('err_bad_pin');
  if (c === 'card_removed') return t('err_card_removed');
  if (c === 'card_not_found' || e.status === 404) return t('err_card_not_found');
  if (c === 'job_running' || c === 'busy' || e.status === 409) return t('err_job_running');
  if (c === 'unreachable' || c === 'disconnected') return t('err_unreachable');
  if (c.startsWith('issuer') || c.startsWith('cert_') || c === 'validation_failed') return t('err_issuer');
  if (c.startsWith('card_') || c === 'apdu' || c === 'transmit') return t('err_card_io');
  if (isSessionError(e)) return t('err_session');
  return t('err_generic', { code: c || e.status || '?' });
}

function readerName(card) {
  const r = card.reader;
  return r && typeof r === 'object' ? (r.name || r.id || '') : (r || '');
}

// ---------- card panels ----------

function panelFor(id) {
  return [...document.querySelectorAll('#card-list .card-panel')].find((p) => p.dataset.cardId === id) || null;
}

function setField(panel, name, value) {
  for (const el of panel.querySelectorAll(`[data-field="${name}"]`)) el.textContent = value ?? '';
}

// The eIDs of a card, one table row each: the model's `eids`, or its top-level fields when the
// daemon sent none (older daemons, a card whose authentication certificate could not be read).
function eidsOf(card) {
  const list = Array.isArray(card.eids) ? card.eids.filter((e) => e && typeof e === 'object') : [];
  return list.length ? list : [card];
}

// The row template, taken out of the card template once so each panel clones its own rows.
const eidRowProto = $('#card-template').content.querySelector('.eid-row');
eidRowProto.remove();

// Exactly n rows in the panel's table; existing rows stay (a focused button keeps its focus).
function syncEidRows(panel, cardId, n) {
  const body = $('.eid-table tbody', panel);
  while (body.rows.length > n) body.rows[body.rows.length - 1].remove();
  while (body.rows.length < n) {
    const row = eidRowProto.cloneNode(true);
    $('.get-sign', row).addEventListener('click', (e) => downloadFlow(cardId, e.currentTarget));
    body.append(row);
  }
  return [...body.rows];
}

// One eID row: its ids, and its signature certificate (its own if the entry has one, else the
// card's: the download is per card) as `Finns`, blocked, or the `Hämta …` action.
function fillEidRow(row, eid, card, broken) {
  for (const f of ['hsa_id', 'upn', 'email']) setField(row, f, eid[f]);
  const sig = eid.signature_certificate && typeof eid.signature_certificate === 'object'
    ? eid.signature_certificate : card.signature_certificate;
  const present = Boolean(sig && sig.present);
  const pin2 = pinInfo(card, 'pin2');
  $('.sign-present', row).hidden = !present;
  const blocked = $('.sign-blocked', row);
  blocked.hidden = present || !pin2.blocked;
  blocked.textContent = t('sign_blocked');
  const action = $('.get-sign', row);
  action.hidden = present || pin2.blocked || broken;
  action.disabled = state.busyCards.has(card.id);
}

function fillPanel(panel, card) {
  const eids = eidsOf(card);
  const rows = syncEidRows(panel, card.id, eids.length);
  apply(panel);
  setField(panel, 'card_type', card.card_type === 'reserve' ? t('reserve') : t('ordinary'));
  for (const f of ['organisation', 'valid_to', 'valid_from', 'card_number', 'holder'])
    setField(panel, f, card[f]);
  setField(panel, 'trust_level', card.trust_level ?? '');
  setField(panel, 'reader', readerName(card));

  const err = panel.querySelector('.card-error');
  const broken = card.status === 'error' || (card.error && typeof card.error === 'object');
  err.hidden = !broken;
  err.textContent = broken ? t('card_error') : '';

  const logged = bridge.isLoggedIn(card.id);
  $('.login-state', panel).textContent = logged ? t('logged_in', { name: card.holder || '' }) : t('login_hint');
  $('.login-button', panel).hidden = logged || broken;
  $('.logout-button', panel).hidden = !logged;

  eids.forEach((eid, i) => fillEidRow(rows[i], eid, card, broken));
}

function renderCard(card) {
  let panel = panelFor(card.id);
  if (!panel) {
    panel = $('#card-template').content.firstElementChild.cloneNode(true);
    panel.dataset.cardId = card.id;
    const titleId = `card-${card.id}-title`;
    $('.card-summary', panel).id = titleId;
    panel.setAttribute('aria-labelledby', titleId);
    $('.login-button', panel).addEventListener('click', (e) => loginFlow(card.id, e.currentTarget));
    $('.logout-button', panel).addEventListener('click', () => logoutFlow(card.id, panel));
    $('#card-list').append(panel);
  }
  fillPanel(panel, card);
}

function refreshPanel(id) {
  const c = state.cards.get(id);
  if (c) renderCard(c);
}

function renderAll() {
  for (const p of [...document.querySelectorAll('#card-list .card-panel')])
    if (!state.cards.has(p.dataset.cardId)) p.remove();
  for (const c of state.cards.values()) renderCard(c);
  renderEmpty();
}

function renderEmpty() {
  const empty = $('#empty');
  $('#loading').hidden = state.readers !== null || state.unreachable || Boolean(state.apiError);
  if (state.unreachable || state.cards.size > 0 || state.readers === null) { empty.hidden = true; return; }
  const noReader = state.readers.length === 0;
  $('#empty-title').textContent = t(noReader ? 'no_reader_title' : 'no_card_title');
  $('#empty-text').textContent = t(noReader ? 'no_reader_text' : 'no_card_text');
  empty.dataset.state = noReader ? 'no-reader' : 'no-card';
  empty.hidden = false;
}

function renderHealth() {
  const test = isTestIssuer(state.health);
  for (const id of ['#test-marker', '#pin-test', '#job-test']) $(id).hidden = !test;
  const pcsc = state.health && state.health.pcsc;
  $('#pcsc-down').hidden = !(pcsc && pcsc.reachable === false) || state.unreachable;
}

function renderApiError() {
  const el = $('#api-error');
  const e = state.unreachable ? null : state.apiError;
  el.hidden = !e;
  el.textContent = e ? t('err_api', { code: e.code }) : '';
  if (e) $('#loading').hidden = true;
}

function setUnreachable(on) {
  state.unreachable = on;
  $('#unreachable').hidden = !on;
  if (on) { state.cards.clear(); state.readers = null; }
  renderHealth();
  renderAll();
}

// One load at a time; an event that arrives during a load makes it run again, so a stale
// answer never overwrites what an event just said.
let inflight = null;
let dirty = false;
function refresh() {
  if (inflight) { dirty = true; return inflight; }
  inflight = (async () => {
    do { dirty = false; await load(); } while (dirty);
  })().finally(() => { inflight = null; });
  return inflight;
}
const touched = () => { if (inflight) dirty = true; };

async function load() {
  try {
    const [health, readers, cards] = await Promise.all([bridge.health(), bridge.readers(), bridge.cards()]);
    state.health = health;
    state.readers = readers;
    state.cards = new Map(cards.map((c) => [c.id, c]));
    state.apiError = null;
    setUnreachable(false);
  } catch (e) {
    if (e.code === 'unreachable') setUnreachable(true);
    else { state.apiError = e; state.cards.clear(); state.readers = null; renderAll(); }
  }
  renderApiError();
}

// ---------- live events ----------

function onCardEvent(ev) {
  touched();
  const card = ev.card && typeof ev.card === 'object' ? ev.card : null;
  if (card && card.id) {
    const isNew = !state.cards.has(card.id);
    state.cards.set(card.id, card);
    renderCard(card);
    renderEmpty();
    if (isNew && ev.type === 'card-inserted') announce(t('ann_card_in', { name: card.holder || card.card_number || '' }));
    jobView.cardChanged();
  } else {
    refresh();
  }
}

bridge.on('card-inserted', onCardEvent);
bridge.on('card-updated', onCardEvent);
bridge.on('card-removed', (ev) => {
  touched();
  const id = eventCardId(ev);
  // The daemon ends the card's sessions when it goes: forget ours too (a re-inserted card asks
  // for PIN1 again).
  if (id) bridge.forget(id);
  if (id && state.cards.delete(id)) announce(t('ann_card_out'));
  renderAll();
  if (id) pinDialog.cardGone(id);
  jobView.cardChanged();
});
const refreshReaders = async () => {
  try { state.readers = await bridge.readers(); state.health = await bridge.health(); } catch { /* next event or reconnect */ }
  renderHealth();
  renderEmpty();
};
bridge.on('reader-added', refreshReaders);
bridge.on('reader-removed', refreshReaders);

let countdown = null;
bridge.on('connection', (c) => {
  const banner = $('#connection');
  const text = $('#connection-text');
  clearInterval(countdown);
  if (c.state === 'open') {
    banner.hidden = true;
    refresh();
    return;
  }
  if (c.state === 'connecting') {
    if (banner.hidden && state.readers === null) { text.textContent = t('conn_connecting'); $('#connection-retry').hidden = true; banner.hidden = false; }
    return;
  }
  if (c.error && c.error.code === 'unreachable') setUnreachable(true);
  if (c.retryInMs !== undefined) {
    const until = Date.now() + c.retryInMs;
    const tick = () => {
      text.textContent = t('conn_lost', { s: Math.max(0, Math.ceil((until - Date.now()) / 1000)) });
    };
    tick();
    countdown = setInterval(tick, 1000);
    $('#connection-retry').hidden = false;
    banner.hidden = false;
  }
});

// ---------- PIN dialog (step 3 PIN1, step 6 PIN2) ----------

const pinDialog = (() => {
  const dlg = $('#pin-dialog');
  const input = $('#pin-input');
  let cur = null;   // {mode, card, onSubmit, resolve, opener, error}

  function texts() {
    if (!cur) return;
    const { mode, card } = cur;
    const info = pinInfo(card, mode);
    $('#pin-holder').textContent = card.holder || '';
    $('#pin-desc').textContent = t(`${mode}_desc`);
    $('#pin-sub').textContent = t(`${mode}_sub`);
    $('#pin-label').textContent = t(`${mode}_label`);
    $('#pin-len').textContent = lenText(info);
    const tries = cur.error && cur.error.triesLeft !== undefined ? cur.error.triesLeft : info.tries;
    $('#pin-tries').textContent = triesText(tries);
    $('#pin-tries').dataset.tries = tries ?? '';
    $('#pin-error').textContent = cur.error ? (cur.error.local || errorText(cur.error)) : '';
    $('#pin-reserve').hidden = mode !== 'pin2';
    input.minLength = info.min;
    input.maxLength = info.max;
    input.pattern = `[0-9]{${info.min},${info.max}}`;
    input.setAttribute('aria-invalid', cur.error ? 'true' : 'false');
  }

  function finish(result) {
    if (!cur) return;
    const { resolve, opener } = cur;
    cur = null;
    input.value = '';
    if (dlg.open) dlg.close();
    resolve(result);
    // Focus goes back to what opened the dialog (or its replacement after a re-render).
    if (result === null && opener) restoreFocus(opener);
  }

  $('#pin-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!cur || cur.pending) return;
    const info = pinInfo(cur.card, cur.mode);
    const pin = input.value;
    if (!/^[0-9]+$/.test(pin) || pin.length < info.min || pin.length > info.max) {
      // Checked here so a malformed code never costs a try.
      cur.error = { local: t('pin_invalid', { len: lenText(info) }) };
      texts();
      input.focus();
      return;
    }
    input.value = '';
    cur.pending = true;
    $('#pin-ok').disabled = true;
    $('#pin-error').textContent = t('checking');
    let out;
    try { out = await cur.onSubmit(pin); } catch (err) { out = { error: err }; }
    if (!cur) return;
    cur.pending = false;
    $('#pin-ok').disabled = false;
    if (out && out.error) {
      cur.error = out.error;
      if (out.error.triesLeft !== undefined) {
        const p = cur.card.pins && cur.card.pins[cur.mode];
        if (p) p.tries_left = out.error.triesLeft;
      }
      texts();
      input.focus();
      return;
    }
    finish(out ?? true);
  });

  $('#pin-cancel').addEventListener('click', () => finish(null));
  dlg.addEventListener('cancel', (e) => { e.preventDefault(); if (!cur || !cur.pending) finish(null); });
  // A close event is queued as a task: when the next ask() reopened the dialog meanwhile it is stale.
  dlg.addEventListener('close', () => { if (cur && !cur.pending && !dlg.open) finish(null); });

  return {
    /** Opens the dialog; resolves with onSubmit's result, or null when cancelled. */
    ask({ mode, card, onSubmit, opener, error = null }) {
      if (cur) finish(null);
      return new Promise((resolve) => {
        cur = { mode, card, onSubmit, resolve, opener, error, pending: false };
        input.value = '';
        $('#pin-ok').disabled = false;
        texts();
        dlg.showModal();
        input.focus();
      });
    },
    relabel: texts,
    cardGone(id) { if (cur && cur.card.id === id && !cur.pending) finish(null); },
  };
})();

function restoreFocus(opener) {
  if (opener && opener.isConnected && !opener.hidden && !opener.disabled) { opener.focus(); return; }
  const panel = opener && opener.closest && opener.closest('.card-panel');
  const fallback = panel && panel.isConnected && panel.querySelector('button:not([hidden]):not([disabled])');
  (fallback || $('#main')).focus();
}

// ---------- download view (steps 7, 8) ----------

const STAGES = ['queued', 'verify_pin', 'generate_key', 'build_csr', 'submit', 'validate', 'write', 'verify', 'done'];
const STAGE_ALIASES = { verify_pin2: 'verify_pin', pin: 'verify_pin', keygen: 'generate_key', generate: 'generate_key',
  csr: 'build_csr', request: 'build_csr', issue: 'submit', check: 'validate', write_cert: 'write', readback: 'verify', read_back: 'verify' };

function stageText(ev) {
  const s = STAGE_ALIASES[ev.stage] || ev.stage;
  if (STAGES.includes(s)) return t(`stage_${s}`);
  return ev.message || ev.stage || '';
}

const jobView = (() => {
  const dlg = $('#job-dialog');
  const bar = $('#job-progress');
  let cur = null;   // {cardId, percent, stage, done, resolve, failed}

  function showProgress(ev) {
    if (!cur || cur.done) return;
    const p = Math.max(cur.percent, Math.min(100, Math.max(0, Math.round(Number(ev.percent) || 0))));
    cur.percent = p;
    bar.value = p;
    $('#job-percent').textContent = `${p}%`;
    const st = stageText(ev);
    $('#job-stage').textContent = st;
    // Announce stage changes and every 25 %, not every chunk.
    const bucket = Math.floor(p / 25);
    if (st !== cur.stage || bucket !== cur.bucket) announce(t('ann_progress', { stage: st, p }));
    cur.stage = st; cur.bucket = bucket;
  }

  function showResult(ok, err) {
    cur.done = true;
    $('#job-running').hidden = true;
    $('#job-result').hidden = false;
    $('#job-result').dataset.result = ok ? 'done' : 'failed';
    $('#job-result').className = ok ? 'result result-ok' : 'result result-error';
    $('#job-result-title').textContent = ok ? t('job_done_title') : t('job_failed_title');
    $('#job-result-text').textContent = ok ? t('job_done_text') : errorText(err);
    if (ok) { bar.value = 100; $('#job-percent').textContent = '100%'; }
    $('#job-close').hidden = false;
    const retry = $('#job-retry');
    cur.retryable = !ok && err && !isPinError(err);
    retry.hidden = !cur.retryable;
    updateRetry();
    announce(`${$('#job-result-title').textContent}. ${$('#job-result-text').textContent}`);
    (ok || retry.hidden ? $('#job-close') : retry).focus();
  }

  function updateRetry() {
    if (!cur || !cur.retryable) return;
    const back = state.cards.has(cur.cardId);
    // A card error followed by the card going away is a pulled card, whatever PC/SC called it:
    // the advice is the same (put it back, try again).
    if (!back && cur.err && /^card_/.test(cur.err.code || '')) cur.pulled = true;
    $('#job-retry').disabled = !back;
    $('#job-retry').setAttribute('aria-describedby', 'job-result-text');
    if (cur.pulled || (cur.err && cur.err.code === 'card_removed')) {
      $('#job-result-text').textContent = t('err_card_removed') + (back ? '' : ` ${t('wait_card')}`);
    }
  }

  function close(value) {
    if (!cur) return;
    const c = cur;
    cur = null;
    if (dlg.open) dlg.close();
    c.resolve(value);
  }

  $('#job-close').addEventListener('click', () => close({ closed: true }));
  $('#job-retry').addEventListener('click', () => close({ retry: true }));
  // While the card is written the view stays: Escape does nothing until the job has ended.
  dlg.addEventListener('cancel', (e) => { e.preventDefault(); if (cur && cur.done) close({ closed: true }); });

  return {
    /** Shows the download view for jobId until the user closes it. Resolves {ok}|{pinError}|{retry}|{closed}. */
    run(jobId, cardId) {
      return new Promise((resolve) => {
        cur = { cardId, percent: 0, stage: '', bucket: -1, done: false, resolve };
        bar.value = 0;
        $('#job-percent').textContent = '0%';
        $('#job-stage').textContent = t('stage_queued');
        $('#job-running').hidden = false;
        $('#job-result').hidden = true;
        $('#job-close').hidden = true;
        $('#job-retry').hidden = true;
        dlg.showModal();
        $('#job-started').setAttribute('tabindex', '-1');
        $('#job-started').focus();
        const mine = cur;
        bridge.followJob(jobId, { onProgress: (ev) => { if (cur === mine) showProgress(ev); } })
          .then(() => { if (cur === mine) showResult(true); })
          .catch((err) => {
            if (cur !== mine) return;
            if (isPinError(err) && err.code !== 'pin_blocked' && err.triesLeft !== 0) { close({ pinError: err }); return; }
            if (isSessionError(err)) bridge.forget(cardId);
            mine.err = err;
            showResult(false, err);
          });
      });
    },
    cardChanged: updateRetry,
    get open() { return cur !== null; },
  };
})();

// ---------- flows ----------

async function loginFlow(cardId, opener) {
  const card = state.cards.get(cardId);
  if (!card) return false;
  const r = await pinDialog.ask({
    mode: 'pin1', card, opener,
    onSubmit: async (pin) => {
      try { await bridge.login(cardId, pin); return true; } catch (e) { return { error: e }; }
    },
  });
  if (r !== true) return false;
  refreshPanel(cardId);
  announce(t('ann_logged_in'));
  return true;
}

// `Logga ut`: the page forgets the session at once and the daemon ends it (POST …/logout). If
// the daemon cannot be reached the session still dies with its 15 minutes or with the card.
async function logoutFlow(cardId, panel) {
  const done = bridge.logout(cardId);
  refreshPanel(cardId);
  $('.login-button', panel).focus();
  announce(t('ann_logged_out'));
  try { await done; } catch { /* already forgotten here; see above */ }
}

async function downloadFlow(cardId, opener) {
  if (state.busyCards.has(cardId)) return;
  state.busyCards.add(cardId);
  refreshPanel(cardId);
  try {
    let error = null;
    for (;;) {
      if (!state.cards.has(cardId)) return;
      if (!bridge.isLoggedIn(cardId) && !(await loginFlow(cardId, opener))) return;
      const card = state.cards.get(cardId);
      if (!card) return;
      let relogin = false;
      const jobId = await pinDialog.ask({
        mode: 'pin2', card, opener, error,
        onSubmit: async (pin) => {
          try { return await bridge.startSignatureCertificate(cardId, pin); } catch (e) {
            if (isSessionError(e)) { relogin = true; bridge.forget(cardId); return null; }
            return { error: e };
          }
        },
      });
      error = null;
      if (relogin) continue;
      if (typeof jobId !== 'string') return;
      const res = await jobView.run(jobId, cardId);
      if (res.pinError) { error = res.pinError; continue; }
      if (res.retry) continue;
      return;
    }
  } finally {
    state.busyCards.delete(cardId);
    refreshPanel(cardId);
    if (!jobView.open) restoreFocus(opener);
  }
}

// ---------- language ----------

function applyLanguage(l) {
  setLang(l);
  try { localStorage.setItem('siths-lang', l); } catch { /* private mode */ }
  document.title = t('doc_title');
  apply(document);
  const sw = $('#lang-switch');
  sw.lang = l === 'sv' ? 'en' : 'sv';
  renderAll();
  renderHealth();
  renderApiError();
  pinDialog.relabel();
}

function initialLanguage() {
  const q = new URLSearchParams(location.search).get('lang');
  if (q === 'sv' || q === 'en') return q;
  try { const s = localStorage.getItem('siths-lang'); if (s === 'sv' || s === 'en') return s; } catch { /* none */ }
  return 'sv';
}

// ---------- start ----------

$('#lang-switch').addEventListener('click', () => { applyLanguage(getLang() === 'sv' ? 'en' : 'sv'); $('#lang-switch').focus(); });
$('#connection-retry').addEventListener('click', () => bridge.reconnectNow());
$('#unreachable-retry').addEventListener('click', () => { bridge.reconnectNow(); refresh(); });

applyLanguage(initialLanguage());
refresh().then(() => bridge.connect());
