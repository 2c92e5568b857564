// app.js — the Mina sidor page: wires its parts (js/cards-view.js, js/pin-dialog.js,
// js/pin-manage.js, js/job-view.js) to one daemon connection and runs the user guide's flows
// across them — login with PIN1, logout, the signature certificate with PIN2, changing and
// unblocking a code — plus the connection banner and the language switch. All daemon access goes through siths-bridge.js; all texts through i18n.js.
import { SithsBridge } from './siths-bridge.js';
import { t, apply, setLang, getLang } from './i18n.js';
import { $, announce, restoreFocus } from './js/dom.js';
import { isSessionError } from './js/errors.js';
import { CardsView } from './js/cards-view.js';
import { PinDialog } from './js/pin-dialog.js';
import { JobView } from './js/job-view.js';
import { PinManage } from './js/pin-manage.js';
import { codeButton } from './js/codes-view.js';

// A portal hosting this page on its own origin names the bridge in <meta name="siths-bridge">
// (docs/portal.md); else the bridge serving the page, or the first candidate port that answers.
const bridgeMeta = document.querySelector('meta[name="siths-bridge"]');
const bridge = new SithsBridge(bridgeMeta ? bridgeMeta.content : undefined);
// The footer says who shows the page: the bridge itself (the page is on the bridge's own origin)
// or the portal hosting it.
const servedByBridge = bridge.baseUrl === location.origin;
const cards = new CardsView({
  bridge,
  flows: { login: loginFlow, logout: logoutFlow, download: downloadFlow, pins: pinsFlow },
  onCardGone: (id) => { pinDialog.cardGone(id); pinManage.cardGone(id); },
  onCardsChanged: () => jobView.cardChanged(),
});

let countdown = null;
bridge.on('connection', (c) => {
  const banner = $('#connection');
  const text = $('#connection-text');
  clearInterval(countdown);
  document.documentElement.dataset.connection = c.state;   // for styling and tests
  $('#permission').hidden = c.state !== 'needs-permission';
  $('#permission-dismissed').hidden = !c.dismissed;
  $('#blocked').hidden = c.state !== 'blocked';
  if (c.state === 'connected') {
    banner.hidden = true;
    cards.refresh();
    return;
  }
  if (c.state === 'needs-permission' || c.state === 'blocked') {
    banner.hidden = true;
    $('#loading').hidden = true;   // nothing is being read until the browser lets the page
    // The question closed unanswered, or no bridge answers where the browser does not say it
    // allows (Firefox's SkipDomains): a page cannot tell these apart, so both advices show.
    if (c.dismissed) cards.setUnreachable(true);
    return;
  }
  if (c.state === 'connecting') {
    if (banner.hidden && !cards.readersKnown) { text.textContent = t('conn_connecting'); $('#connection-retry').hidden = true; banner.hidden = false; }
    return;
  }
  if (c.error && c.error.code === 'unreachable') cards.setUnreachable(true);
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

const pinDialog = new PinDialog();
const jobView = new JobView({ bridge, hasCard: (id) => cards.hasCard(id) });
const pinManage = new PinManage({ bridge, card: (id) => cards.card(id) });

// ---------- flows ----------

async function loginFlow(cardId, opener) {
  const card = cards.card(cardId);
  if (!card) return false;
  const r = await pinDialog.ask({
    mode: 'pin1', card, opener,
    onSubmit: async (pin) => {
      try { await bridge.login(cardId, pin); return true; } catch (e) { return { error: e }; }
    },
  });
  if (r !== true) return false;
  cards.refreshPanel(cardId);
  announce(t('ann_logged_in'));
  return true;
}

// `Logga ut`: the page forgets the session at once and the daemon ends it (POST …/logout). If
// the daemon cannot be reached the session still dies with its 15 minutes or with the card.
async function logoutFlow(cardId, panel) {
  const done = bridge.logout(cardId);
  cards.refreshPanel(cardId);
  $('.login-button', panel).focus();
  announce(t('ann_logged_out'));
  try { await done; } catch { /* already forgotten here; see above */ }
}

// The download's codes: PIN2 and, when the issuer signs with the card's authentication key,
// PIN1 after it (the order of the daemon's VERIFYs). A job that failed on PIN1 shows its error in
// the PIN1 question. Resolves with start()'s result, or null when cancelled.
async function askCodes(card, opener, error, start) {
  const onPin1 = Boolean(error && error.body && error.body.field === 'auth_pin');
  if (!cards.issuerSignsWithCard) {
    return pinDialog.ask({ mode: 'pin2', card, opener, error, onSubmit: (pin) => start(pin) });
  }
  const pin2 = await pinDialog.ask({ mode: 'pin2', card, opener, error: onPin1 ? null : error, onSubmit: async (pin) => ({ pin }) });
  if (!pin2) return null;
  return pinDialog.ask({
    mode: 'pin1', purpose: 'auth_sign', card, opener, error: onPin1 ? error : null,
    onSubmit: (pin1) => start(pin2.pin, pin1),
  });
}

async function downloadFlow(cardId, opener) {
  if (cards.isBusy(cardId)) return;
  cards.setBusy(cardId, true);
  try {
    let error = null;
    for (;;) {
      if (!cards.hasCard(cardId)) return;
      if (!bridge.isLoggedIn(cardId) && !(await loginFlow(cardId, opener))) return;
      const card = cards.card(cardId);
      if (!card) return;
      let relogin = false;
      const start = async (pin, authPin) => {
        try { return await bridge.startSignatureCertificate(cardId, pin, { authPin }); } catch (e) {
          if (isSessionError(e)) { relogin = true; bridge.forget(cardId); return null; }
          return { error: e };
        }
      };
      const jobId = await askCodes(card, opener, error, start);
      error = null;
      if (relogin) continue;
      if (typeof jobId !== 'string') return;
      const res = await jobView.run(jobId, cardId);
      if (res.pinError) { error = res.pinError; continue; }
      if (res.retry) continue;
      return;
    }
  } finally {
    cards.setBusy(cardId, false);
    if (!jobView.open) restoreFocus(opener);
  }
}

// `Byt legitimeringskod`, `Byt underskriftskod`, `Lås upp med PUK`: no login needed (the card
// checks the old code or the PUK itself). The card's other flows wait meanwhile.
async function pinsFlow(cardId, which, action, opener) {
  if (cards.isBusy(cardId)) return;
  cards.setBusy(cardId, true);
  try {
    await pinManage.run({ cardId, which, action });
  } finally {
    cards.setBusy(cardId, false);
    // Back to the code's row (its button may have changed: a blocked code shows "Lås upp med PUK").
    restoreFocus(codeButton(cardId, which) || opener);
  }
}

// ---------- language ----------

function applyLanguage(l) {
  setLang(l);
  try { localStorage.setItem('siths-lang', l); } catch { /* private mode */ }
  document.title = t('doc_title');
  apply(document);
  $('#footer-text').textContent = servedByBridge ? t('footer') : t('footer_portal', { site: location.hostname });
  const sw = $('#lang-switch');
  sw.lang = l === 'sv' ? 'en' : 'sv';
  cards.relabel();
  pinDialog.relabel();
  pinManage.relabel();
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
$('#permission-connect').addEventListener('click', () => bridge.requestAccess());
$('#unreachable-retry').addEventListener('click', () => { bridge.reconnectNow(); cards.refresh(); });

applyLanguage(initialLanguage());
// The cards are read once the connection is up (the 'connected' state): no request goes out
// before the browser's Local Network Access permission is known.
bridge.connect();
