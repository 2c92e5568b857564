// cards-view.js — the card panels (the user guide's steps 1, 2 and 4) and what surrounds them:
// loading, no reader / no card, the test-issuer and PC/SC markers, API errors and the daemon
// being unreachable. It holds the page's cards, readers and health, loads them from the daemon
// and keeps them live from its card and reader events; the buttons (its codes' through
// js/codes-view.js) call the flows it is given.
import { t, apply } from '../i18n.js';
import { $, announce, cardPanel } from './dom.js';
import { pinInfo } from './pin-rules.js';
import { initCodes, fillCodes } from './codes-view.js';

function isTestIssuer(h) {
  const iss = h && h.issuer;
  return Boolean(iss && iss.test === true);
}

function setField(panel, name, value) {
  for (const el of panel.querySelectorAll(`[data-field="${name}"]`)) el.textContent = value ?? '';
}

// The eIDs of a card, one table row each: the model's `eids`, or its top-level fields when it
// lists none (a card whose authentication certificate could not be read).
function eidsOf(card) {
  return card.eids.length ? card.eids : [card];
}

/** The page's #card-list and its notices. */
export class CardsView {
  #bridge;
  #flows;          // {login(cardId, opener), logout(cardId, panel), download(cardId, opener),
                   //  pins(cardId, 'pin1'|'pin2', 'change'|'unblock', opener)}
  #onCardGone;     // (cardId) after a card-removed event
  #onCardsChanged; // () after any card event that changed the cards
  #rowProto;       // the eID row template, taken out of the card template once
  #cards = new Map();      // id → card model (GET /v1/cards shape)
  #readers = null;         // [{id, name, card_present}] or null when unknown
  #health = null;
  #unreachable = false;
  #busy = new Set();       // cards with a flow (dialog or download) open
  #apiError = null;        // a BridgeError that kept the cards from loading (not 'unreachable')
  #inflight = null;
  #dirty = false;

  constructor({ bridge, flows, onCardGone, onCardsChanged }) {
    this.#bridge = bridge;
    this.#flows = flows;
    this.#onCardGone = onCardGone;
    this.#onCardsChanged = onCardsChanged;
    this.#rowProto = $('#card-template').content.querySelector('.eid-row');
    this.#rowProto.remove();
    bridge.on('card-inserted', (ev) => this.#onCardEvent(ev));
    bridge.on('card-updated', (ev) => this.#onCardEvent(ev));
    bridge.on('card-removed', (ev) => this.#onCardRemoved(ev));
    bridge.on('reader-added', () => this.#refreshReaders());
    bridge.on('reader-removed', () => this.#refreshReaders());
  }

  card(id) { return this.#cards.get(id); }
  hasCard(id) { return this.#cards.has(id); }
  /** False until the readers have been loaded (and again while the daemon is unreachable). */
  get readersKnown() { return this.#readers !== null; }
  /** The issuer signs its requests with the card's authentication key: a download needs PIN1 too. */
  get issuerSignsWithCard() {
    return Boolean(this.#health && this.#health.issuer && this.#health.issuer.protection === 'signature');
  }

  isBusy(id) { return this.#busy.has(id); }
  /** A flow runs on the card: its download and code buttons are disabled meanwhile. */
  setBusy(id, on) {
    if (on) this.#busy.add(id); else this.#busy.delete(id);
    this.refreshPanel(id);
  }

  refreshPanel(id) {
    const c = this.#cards.get(id);
    if (c) this.#renderCard(c);
  }

  /** Everything again, e.g. in another language. */
  relabel() {
    this.#renderAll();
    this.#renderHealth();
    this.#renderApiError();
  }

  setUnreachable(on) {
    this.#unreachable = on;
    $('#unreachable').hidden = !on;
    if (on) { this.#cards.clear(); this.#readers = null; }
    this.#renderHealth();
    this.#renderAll();
  }

  // One load at a time; an event that arrives during a load makes it run again, so a stale
  // answer never overwrites what an event just said.
  refresh() {
    if (this.#inflight) { this.#dirty = true; return this.#inflight; }
    this.#inflight = (async () => {
      do { this.#dirty = false; await this.#load(); } while (this.#dirty);
    })().finally(() => { this.#inflight = null; });
    return this.#inflight;
  }

  #touched() { if (this.#inflight) this.#dirty = true; }

  async #load() {
    const bridge = this.#bridge;
    try {
      const [health, readers, cards] = await Promise.all([bridge.health(), bridge.readers(), bridge.cards()]);
      this.#health = health;
      this.#readers = readers;
      this.#cards = new Map(cards.map((c) => [c.id, c]));
      this.#apiError = null;
      this.setUnreachable(false);
    } catch (e) {
      if (e.code === 'unreachable') this.setUnreachable(true);
      else { this.#apiError = e; this.#cards.clear(); this.#readers = null; this.#renderAll(); }
    }
    this.#renderApiError();
  }

  // ---- live events ----

  #onCardEvent({ type, card }) {
    this.#touched();
    const isNew = !this.#cards.has(card.id);
    this.#cards.set(card.id, card);
    this.#renderCard(card);
    this.#renderEmpty();
    if (isNew && type === 'card-inserted') announce(t('ann_card_in', { name: card.holder || card.card_number || '' }));
    this.#onCardsChanged();
  }

  #onCardRemoved({ card_id: id }) {
    this.#touched();
    // The daemon ends the card's sessions when it goes: forget ours too (a re-inserted card asks
    // for PIN1 again).
    this.#bridge.forget(id);
    if (this.#cards.delete(id)) announce(t('ann_card_out'));
    this.#renderAll();
    this.#onCardGone(id);
    this.#onCardsChanged();
  }

  async #refreshReaders() {
    try { this.#readers = await this.#bridge.readers(); this.#health = await this.#bridge.health(); } catch { /* next event or reconnect */ }
    this.#renderHealth();
    this.#renderEmpty();
  }

  // ---- rendering ----

  // Exactly n rows in the panel's table; existing rows stay (a focused button keeps its focus).
  #syncEidRows(panel, cardId, n) {
    const body = $('.eid-table tbody', panel);
    while (body.rows.length > n) body.rows[body.rows.length - 1].remove();
    while (body.rows.length < n) {
      const row = this.#rowProto.cloneNode(true);
      $('.get-sign', row).addEventListener('click', (e) => this.#flows.download(cardId, e.currentTarget));
      body.append(row);
    }
    return [...body.rows];
  }

  // One eID row: its ids, and its signature certificate as `Finns`, blocked, or the `Hämta …`
  // action (the download is per card).
  #fillEidRow(row, eid, card, broken) {
    for (const f of ['hsa_id', 'upn', 'email']) setField(row, f, eid[f]);
    const present = eid.signature_certificate.present;
    const pin2 = pinInfo(card, 'pin2');
    $('.sign-present', row).hidden = !present;
    const blocked = $('.sign-blocked', row);
    blocked.hidden = present || !pin2.blocked;
    blocked.textContent = t('sign_blocked');
    const action = $('.get-sign', row);
    action.hidden = present || pin2.blocked || broken;
    action.disabled = this.#busy.has(card.id);
  }

  #fillPanel(panel, card) {
    const eids = eidsOf(card);
    const rows = this.#syncEidRows(panel, card.id, eids.length);
    apply(panel);
    setField(panel, 'card_type', card.card_type === 'reserve' ? t('reserve') : t('ordinary'));
    for (const f of ['organisation', 'valid_to', 'valid_from', 'card_number', 'holder'])
      setField(panel, f, card[f]);
    setField(panel, 'trust_level', card.trust_level ?? '');
    setField(panel, 'reader', card.reader);

    const err = panel.querySelector('.card-error');
    const broken = card.status === 'error';
    err.hidden = !broken;
    err.textContent = broken ? t('card_error') : '';

    const logged = this.#bridge.isLoggedIn(card.id);
    $('.login-state', panel).textContent = logged ? t('logged_in', { name: card.holder || '' }) : t('login_hint');
    $('.login-button', panel).hidden = logged || broken;
    $('.logout-button', panel).hidden = !logged;

    fillCodes(panel, card, { busy: this.#busy.has(card.id) });
    eids.forEach((eid, i) => this.#fillEidRow(rows[i], eid, card, broken));
  }

  #renderCard(card) {
    let panel = cardPanel(card.id);
    if (!panel) {
      panel = $('#card-template').content.firstElementChild.cloneNode(true);
      panel.dataset.cardId = card.id;
      const titleId = `card-${card.id}-title`;
      $('.card-summary', panel).id = titleId;
      panel.setAttribute('aria-labelledby', titleId);
      $('.login-button', panel).addEventListener('click', (e) => this.#flows.login(card.id, e.currentTarget));
      $('.logout-button', panel).addEventListener('click', () => this.#flows.logout(card.id, panel));
      initCodes(panel, card.id, (...a) => this.#flows.pins(...a));
      $('#card-list').append(panel);
    }
    this.#fillPanel(panel, card);
  }

  #renderAll() {
    for (const p of [...document.querySelectorAll('#card-list .card-panel')])
      if (!this.#cards.has(p.dataset.cardId)) p.remove();
    for (const c of this.#cards.values()) this.#renderCard(c);
    this.#renderEmpty();
  }

  #renderEmpty() {
    const empty = $('#empty');
    $('#loading').hidden = this.#readers !== null || this.#unreachable || Boolean(this.#apiError);
    if (this.#unreachable || this.#cards.size > 0 || this.#readers === null) { empty.hidden = true; return; }
    const noReader = this.#readers.length === 0;
    $('#empty-title').textContent = t(noReader ? 'no_reader_title' : 'no_card_title');
    $('#empty-text').textContent = t(noReader ? 'no_reader_text' : 'no_card_text');
    empty.dataset.state = noReader ? 'no-reader' : 'no-card';
    empty.hidden = false;
  }

  #renderHealth() {
    const test = isTestIssuer(this.#health);
    for (const id of ['#test-marker', '#pin-test', '#pm-test', '#job-test']) $(id).hidden = !test;
    const pcsc = this.#health && this.#health.pcsc;
    $('#pcsc-down').hidden = !(pcsc && pcsc.reachable === false) || this.#unreachable;
  }

  #renderApiError() {
    const el = $('#api-error');
    const e = this.#unreachable ? null : this.#apiError;
    el.hidden = !e;
    el.textContent = e ? t('err_api', { code: e.code }) : '';
    if (e) $('#loading').hidden = true;
  }
}
