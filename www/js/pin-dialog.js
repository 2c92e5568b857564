// pin-dialog.js — the PIN dialog (the user guide's step 3 with PIN1, step 6 with PIN2, with step
// 6's reserve-card note while the card's signature code is not yet activated). A code of the
// wrong form (js/pin-rules.js) is refused here, so it never costs a try; a code sent is cleared
// from the field at once.
import { $, restoreFocus } from './dom.js';
import { errorText } from './errors.js';
import { pinInfo, codeFits, lenText, triesText } from './pin-rules.js';
import { t } from '../i18n.js';

/** The page's one #pin-dialog: one question at a time. */
export class PinDialog {
  #dlg = $('#pin-dialog');
  #input = $('#pin-input');
  #cur = null;   // {mode, purpose, card, onSubmit, resolve, opener, error, pending}

  constructor() {
    $('#pin-form').addEventListener('submit', (e) => this.#submit(e));
    $('#pin-cancel').addEventListener('click', () => this.#finish(null));
    this.#dlg.addEventListener('cancel', (e) => { e.preventDefault(); if (!this.#cur || !this.#cur.pending) this.#finish(null); });
    // A close event is queued as a task: when the next ask() reopened the dialog meanwhile it is stale.
    this.#dlg.addEventListener('close', () => { if (this.#cur && !this.#cur.pending && !this.#dlg.open) this.#finish(null); });
  }

  /**
   * Opens the dialog for `mode` ('pin1' | 'pin2') of `card`; onSubmit(pin) resolves with a result
   * or {error} (shown, the dialog stays). Resolves with onSubmit's result, or null when cancelled.
   * `purpose` names the texts when they are not the mode's own ('auth_sign': PIN1 for the
   * download, whose request the card signs with the authentication key).
   */
  ask({ mode, purpose = mode, card, onSubmit, opener, error = null }) {
    if (this.#cur) this.#finish(null);
    return new Promise((resolve) => {
      this.#cur = { mode, purpose, card, onSubmit, resolve, opener, error, pending: false };
      this.#input.value = '';
      $('#pin-ok').disabled = false;
      this.#texts();
      this.#dlg.showModal();
      this.#input.focus();
    });
  }

  /** Shows the open question again in the current language. */
  relabel() { this.#texts(); }

  /** The card went away: a question about it that is not being checked is cancelled. */
  cardGone(id) { if (this.#cur && this.#cur.card.id === id && !this.#cur.pending) this.#finish(null); }

  #texts() {
    const cur = this.#cur;
    if (!cur) return;
    const { mode, purpose, card } = cur;
    const info = pinInfo(card, mode);
    $('#pin-holder').textContent = card.holder || '';
    $('#pin-desc').textContent = t(`${purpose}_desc`);
    $('#pin-sub').textContent = t(`${purpose}_sub`);
    $('#pin-label').textContent = t(`${purpose}_label`);
    $('#pin-len').textContent = lenText(info);
    const tries = cur.error && cur.error.triesLeft !== undefined ? cur.error.triesLeft : info.tries;
    $('#pin-tries').textContent = triesText(tries);
    $('#pin-tries').dataset.tries = tries ?? '';
    $('#pin-error').textContent = cur.error ? (cur.error.local || errorText(cur.error)) : '';
    // Step 6's note is for the holder of a reserve card whose signature code is still to be
    // activated: the code entered now becomes it (step 8).
    $('#pin-reserve').hidden = !(mode === 'pin2' && !info.activated);
    this.#input.minLength = info.min;
    this.#input.maxLength = info.max;
    this.#input.pattern = `[0-9]{${info.min},${info.max}}`;
    this.#input.setAttribute('aria-invalid', cur.error ? 'true' : 'false');
  }

  #finish(result) {
    if (!this.#cur) return;
    const { resolve, opener } = this.#cur;
    this.#cur = null;
    this.#input.value = '';
    if (this.#dlg.open) this.#dlg.close();
    resolve(result);
    // Focus goes back to what opened the dialog (or its replacement after a re-render).
    if (result === null && opener) restoreFocus(opener);
  }

  async #submit(e) {
    e.preventDefault();
    if (!this.#cur || this.#cur.pending) return;
    const info = pinInfo(this.#cur.card, this.#cur.mode);
    const pin = this.#input.value;
    if (!codeFits(pin, info)) {
      // Checked here so a malformed code never costs a try.
      this.#cur.error = { local: t('pin_invalid', { len: lenText(info) }) };
      this.#texts();
      this.#input.focus();
      return;
    }
    this.#input.value = '';
    this.#cur.pending = true;
    $('#pin-ok').disabled = true;
    $('#pin-error').textContent = t('checking');
    let out;
    try { out = await this.#cur.onSubmit(pin); } catch (err) { out = { error: err }; }
    const cur = this.#cur;
    if (!cur) return;
    cur.pending = false;
    $('#pin-ok').disabled = false;
    if (out && out.error) {
      cur.error = out.error;
      if (out.error.triesLeft !== undefined) {
        const p = cur.card.pins && cur.card.pins[cur.mode];
        if (p) p.tries_left = out.error.triesLeft;
      }
      this.#texts();
      this.#input.focus();
      return;
    }
    this.#finish(out ?? true);
  }
}
