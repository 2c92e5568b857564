// pin-manage.js — changing PIN1 or PIN2 and unblocking them with the PUK (the card panel's code
// buttons, js/codes-view.js): the dialog with the current code or the PUK and the new code twice,
// each code's length rule and tries left before entry, and every outcome in plain words. A card
// pulled during the command leaves either code on it: the page remembers the code's last_change
// from the answer and says which code holds when the same card is back.
import { $, announce, cardPanel } from './dom.js';
import { errorText } from './errors.js';
import { pinInfo, codeFits, lenText, triesText } from './pin-rules.js';
import { t } from '../i18n.js';

// Answers after which the form is of no more use: the dialog shows the outcome instead.
const OUTCOMES = new Set(['pin_blocked', 'puk_blocked', 'change_interrupted', 'card_not_found']);
const FIELDS = ['old', 'new', 'repeat'];
// The daemon's bad_pin `field` → the dialog's field.
const FIELD_OF = { pin: 'old', puk: 'old', new_pin: 'new' };

const input = (f) => $(`#pm-${f}`);
// A code's name inside a sentence: {code} "legitimeringskoden (PIN1)", {name} "legitimeringskod (PIN1)".
const codeNames = (which) => ({ code: t(`def_${which}`), name: t(`ind_${which}`) });

/** The page's one #pm-dialog: one code at a time. */
export class PinManage {
  #dlg = $('#pm-dialog');
  #bridge;
  #card;                    // (id) → the card's current model, or undefined when it is gone
  // {cardId, which, action, resolve, pending, error: {field, local|err}, tries, result, done, back}
  #cur = null;
  #interrupted = new Map(); // cardId → {which, action, lastChange}: cut short, waiting for the card
  #notices = new Map();     // cardId → {key, which}: what the card said when it came back

  /** card(id): the card's current model (js/cards-view.js), undefined when it is not present. */
  constructor({ bridge, card }) {
    this.#bridge = bridge;
    this.#card = card;
    $('#pm-form').addEventListener('submit', (e) => this.#submit(e));
    $('#pm-cancel').addEventListener('click', () => this.#finish());
    $('#pm-close').addEventListener('click', () => this.#finish());
    $('#pm-unblock').addEventListener('click', () => this.#switchToUnblock());
    // Escape: nothing is sent, no try is used; while the card works on a code it waits.
    this.#dlg.addEventListener('cancel', (e) => { e.preventDefault(); if (this.#cur && !this.#cur.pending) this.#finish(); });
    this.#dlg.addEventListener('close', () => { if (this.#cur && !this.#cur.pending && !this.#dlg.open) this.#finish(); });
    // After js/cards-view.js's own listener (registered first): the card's panel is there.
    bridge.on('card-inserted', (ev) => this.#cardBack(ev.card));
  }

  /**
   * Opens the dialog to change ('change') or unblock ('unblock') `which` ('pin1' | 'pin2') of
   * card `cardId`. Resolves when the user closed it (true when the code was changed or unblocked).
   */
  run({ cardId, which, action }) {
    if (this.#cur) this.#finish();
    const card = this.#card(cardId);
    if (!card) return Promise.resolve(false);
    this.#setNotice(cardId, null);
    return new Promise((resolve) => {
      this.#cur = { cardId, which, action, resolve, pending: false, error: null, tries: null, result: null, done: false };
      this.#showEntry();
      this.#dlg.showModal();
      input('old').focus();
    });
  }

  /** The open dialog and the panels' notices again, in the current language. */
  relabel() {
    this.#texts();
    for (const id of this.#notices.keys()) this.#renderNotice(id);
  }

  /** The card went away: a question not yet sent is cancelled; an outcome stays to be read. */
  cardGone(id) {
    this.#notices.delete(id);
    const cur = this.#cur;
    if (cur && cur.cardId === id && !cur.pending && !cur.result) this.#finish();
  }

  // ---- entry ----

  #rules(card) {
    const cur = this.#cur;
    return { old: pinInfo(card, cur.action === 'unblock' ? 'puk' : cur.which), new: pinInfo(card, cur.which) };
  }

  #showEntry() {
    for (const f of FIELDS) input(f).value = '';
    $('#pm-ok').disabled = false;
    $('#pm-entry').hidden = false;
    $('#pm-result').hidden = true;
    this.#texts();
  }

  #texts() {
    const cur = this.#cur;
    if (!cur) return;
    const card = this.#card(cur.cardId);
    const { which, action } = cur;
    $('#pm-title').textContent = t(action === 'change' ? `btn_change_${which}` : `pm_title_unblock_${which}`);
    if (cur.result) { this.#resultTexts(); return; }
    if (!card) return;
    const rules = this.#rules(card);
    $('#pm-holder').textContent = card.holder || '';
    $('#pm-desc').textContent = t(`pm_desc_${action}`);
    $('#pm-old-label').textContent = t(action === 'change' ? `pm_old_${which}` : 'pm_puk');
    $('#pm-new-label').textContent = t(`pm_new_${which}`);
    $('#pm-repeat-label').textContent = t('pm_repeat');
    $('#pm-ok').textContent = t(`pm_ok_${action}`);
    $('#pm-old-len').textContent = lenText(rules.old);
    // Tries left before entry: the model's, or the last answer's when it said so.
    const tries = cur.tries ?? rules.old.tries;
    $('#pm-old-tries').textContent = triesText(tries, action === 'unblock' ? 'puk' : 'pin');
    $('#pm-old-tries').dataset.tries = tries ?? '';
    $('#pm-new-rule').textContent = lenText(rules.new);
    for (const f of FIELDS) {
      const r = f === 'old' ? rules.old : rules.new;
      input(f).minLength = r.min;
      input(f).maxLength = r.max;
      input(f).setAttribute('aria-invalid', cur.error && cur.error.field === f ? 'true' : 'false');
    }
    const e = cur.error;
    $('#pm-error').textContent = cur.pending ? t(`pm_working_${action}`) : e ? (e.local || errorText(e.err)) : '';
  }

  // Shown in the form, the field to correct focused; the codes typed are dropped.
  #formError(field, error) {
    const cur = this.#cur;
    cur.error = { field, ...error };
    for (const f of FIELDS) input(f).value = '';
    this.#texts();
    input(field).focus();
  }

  // The codes' form is checked here so that a malformed code or a typing mistake in the new
  // code never reaches the card (no request, no try used).
  #localError(card, codes) {
    const cur = this.#cur;
    const rules = this.#rules(card);
    if (!codeFits(codes.old, rules.old))
      return { field: 'old', key: cur.action === 'unblock' ? 'pm_invalid_puk' : 'pm_invalid_old', len: lenText(rules.old) };
    if (!codeFits(codes.new, rules.new)) return { field: 'new', key: 'pm_invalid_new', len: lenText(rules.new) };
    if (codes.new !== codes.repeat) return { field: 'new', key: 'pm_mismatch' };
    return null;
  }

  async #submit(e) {
    e.preventDefault();
    const cur = this.#cur;
    if (!cur || cur.pending || cur.result) return;
    const card = this.#card(cur.cardId);
    if (!card) { this.#finish(); return; }
    const codes = { old: input('old').value, new: input('new').value, repeat: input('repeat').value };
    const bad = this.#localError(card, codes);
    if (bad) { this.#formError(bad.field, { local: t(bad.key, { len: bad.len }) }); return; }
    for (const f of FIELDS) input(f).value = '';
    const lastChange = pinInfo(card, cur.which).lastChange;
    cur.pending = true;
    cur.error = null;
    $('#pm-ok').disabled = true;
    this.#texts();
    let out;
    try {
      const r = cur.action === 'change'
        ? await this.#bridge.changePin(cur.cardId, cur.which, codes.old, codes.new)
        : await this.#bridge.unblockPin(cur.cardId, cur.which, codes.old, codes.new);
      out = { ok: r };
    } catch (err) {
      out = { err };
    }
    if (this.#cur !== cur) return;
    cur.pending = false;
    $('#pm-ok').disabled = false;
    if (out.ok) { cur.done = true; this.#showResult({ kind: cur.action === 'change' ? 'changed' : 'unblocked' }); return; }
    this.#failed(out.err, lastChange);
  }

  #failed(err, lastChange) {
    const cur = this.#cur;
    if (err.code === 'change_interrupted') {
      const d = (err.body && err.body.error) || {};
      this.#interrupted.set(cur.cardId, {
        which: cur.which, action: cur.action, lastChange: d.last_change !== undefined ? d.last_change : lastChange,
      });
    }
    if (OUTCOMES.has(err.code)) {
      this.#showResult({ kind: err.code, err });
      // The same card was back before the answer came: tell now what it holds.
      if (err.code === 'change_interrupted' && cur.back) this.#cardBack(cur.back);
      return;
    }
    if (err.code === 'wrong_pin' || err.code === 'wrong_puk') cur.tries = err.triesLeft ?? null;
    const field = err.code === 'bad_pin' ? FIELD_OF[err.body && err.body.error && err.body.error.field] || 'old' : 'old';
    this.#formError(field, { err });
  }

  // ---- outcomes ----

  // kind: 'changed' | 'unblocked' | 'pin_blocked' | 'puk_blocked' | 'change_interrupted' |
  // 'card_not_found' | 'back-new' | 'back-old' | 'back-still-blocked' | 'back-unknown'
  #showResult(result) {
    const cur = this.#cur;
    cur.result = result;
    $('#pm-entry').hidden = true;
    $('#pm-result').hidden = false;
    $('#pm-result').dataset.result = result.kind;
    this.#texts();
    const unblock = $('#pm-unblock');
    (unblock.hidden ? $('#pm-close') : unblock).focus();
    announce(`${$('#pm-result-title').textContent}. ${$('#pm-result-text').textContent}`);
  }

  #resultTexts() {
    const { result, which, cardId } = this.#cur;
    const code = codeNames(which);
    const ok = result.kind === 'changed' || result.kind === 'unblocked' || result.kind === 'back-new';
    let title, text;
    if (result.kind.startsWith('back-')) {
      title = t('pm_back_title');
      text = t(`pm_${result.kind.replace(/-/g, '_')}`, code);
    } else if (ok) {
      title = t(`pm_${result.kind}_title`);
      text = t(`pm_${result.kind}_text`, code);
    } else {
      title = t({ pin_blocked: 'pm_blocked_title', puk_blocked: 'pm_puk_blocked_title', change_interrupted: 'pm_pulled_title' }[result.kind] || 'pm_failed_title');
      text = result.kind === 'pin_blocked' ? t('pm_blocked_text', code)
        : result.kind === 'card_not_found' ? t('pm_removed_text') : errorText(result.err);
    }
    $('#pm-result-title').textContent = title;
    $('#pm-result-text').textContent = text;
    $('#pm-result .result').className = `result ${ok ? 'result-ok' : 'result-error'}`;
    // Blocked by this try: unblocking is the next step, if the card has a PUK that still works.
    const card = this.#card(cardId);
    const puk = card ? pinInfo(card, 'puk') : null;
    $('#pm-unblock').hidden = !(result.kind === 'pin_blocked' && puk && puk.present && !puk.blocked);
  }

  #switchToUnblock() {
    const cur = this.#cur;
    if (!cur) return;
    Object.assign(cur, { action: 'unblock', error: null, tries: null, result: null });
    this.#showEntry();
    input('old').focus();
  }

  // ---- the card back after a command cut short ----

  #cardBack(card) {
    const w = this.#interrupted.get(card.id);
    const cur = this.#cur;
    if (!w) {
      if (cur && cur.pending && cur.cardId === card.id) cur.back = card;
      return;
    }
    this.#interrupted.delete(card.id);
    const info = pinInfo(card, w.which);
    let kind;
    // Both null: the card does not tell when its code changed, so it cannot be told apart.
    if (card.status === 'error' || !info.present || (info.lastChange === null && w.lastChange === null)) kind = 'back-unknown';
    else if (info.lastChange !== w.lastChange) kind = 'back-new';
    else kind = w.action === 'unblock' && info.blocked ? 'back-still-blocked' : 'back-old';
    const shown = cur && cur.cardId === card.id && cur.result && cur.result.kind === 'change_interrupted';
    this.#setNotice(card.id, { key: `pm_${kind.replace(/-/g, '_')}`, which: w.which });
    if (shown) { cur.done = kind === 'back-new'; this.#showResult({ kind }); } else announce(this.#noticeText(card.id));
  }

  #noticeText(id) {
    const n = this.#notices.get(id);
    return n ? `${t('pm_back_title')}. ${t(n.key, codeNames(n.which))}` : '';
  }

  #setNotice(id, notice) {
    if (notice) this.#notices.set(id, notice); else this.#notices.delete(id);
    this.#renderNotice(id);
  }

  #renderNotice(id) {
    const panel = cardPanel(id);
    const el = panel && panel.querySelector('.pin-notice');
    if (!el) return;
    el.textContent = this.#noticeText(id);
    el.hidden = !el.textContent;
  }

  #finish() {
    const cur = this.#cur;
    if (!cur) return;
    this.#cur = null;
    for (const f of FIELDS) input(f).value = '';
    if (this.#dlg.open) this.#dlg.close();
    cur.resolve(cur.done);
  }
}
