// job-view.js — the download view (the user guide's steps 7 and 8): the job's progress bar and
// stage from its events, then the result — with step 8's "the code you entered is now activated
// as the signature code" when the job activated a reserve card's PIN2 — and "try again" when
// another attempt can help. A card pulled after the certificate was written only has to be put
// back: the daemon checks it and ends the job, so the view waits for that (no "try again").
import { $, announce } from './dom.js';
import { errorText, isPinError, isSessionError } from './errors.js';
import { t } from '../i18n.js';

// The stages of docs/api/events.md; one added later is shown with the daemon's message.
const STAGES = ['queued', 'verify_pin', 'generate_key', 'build_csr', 'submit', 'validate', 'write', 'verify', 'done'];

// The submit stage's "waiting" (docs/api/events.md): the CA has the request and will answer later.
const WAITING = 'waiting for the issuer';

function stageText(ev) {
  if (ev.stage === 'submit' && ev.message === WAITING) return t('stage_submit_waiting');
  return STAGES.includes(ev.stage) ? t(`stage_${ev.stage}`) : ev.message;
}

/** The page's one #job-dialog: one job at a time. */
export class JobView {
  #dlg = $('#job-dialog');
  #bar = $('#job-progress');
  #cur = null;   // {cardId, percent, stage, bucket, done, interrupted, resolve, err, retryable, pulled}
  #bridge;
  #hasCard;

  /** hasCard(id): whether the card is present now (a pulled card must be back to try again). */
  constructor({ bridge, hasCard }) {
    this.#bridge = bridge;
    this.#hasCard = hasCard;
    $('#job-close').addEventListener('click', () => this.#close({ closed: true }));
    $('#job-retry').addEventListener('click', () => this.#close({ retry: true }));
    // While the card is written the view stays: Escape does nothing until the job has ended.
    // An interrupted job may be closed too: the card is out, nothing is being written.
    this.#dlg.addEventListener('cancel', (e) => {
      e.preventDefault();
      if (this.#cur && (this.#cur.done || this.#cur.interrupted)) this.#close({ closed: true });
    });
  }

  /** Shows the download view for jobId until the user closes it. Resolves {pinError}|{retry}|{closed}. */
  run(jobId, cardId) {
    return new Promise((resolve) => {
      this.#cur = { cardId, percent: 0, stage: '', bucket: -1, done: false, resolve };
      this.#bar.value = 0;
      $('#job-percent').textContent = '0%';
      $('#job-stage').textContent = t('stage_queued');
      $('#job-running').hidden = false;
      $('#job-result').hidden = true;
      $('#job-activated').hidden = true;
      $('#job-close').hidden = true;
      $('#job-retry').hidden = true;
      this.#dlg.showModal();
      $('#job-started').setAttribute('tabindex', '-1');
      $('#job-started').focus();
      const mine = this.#cur;
      this.#bridge.followJob(jobId, {
        onProgress: (ev) => { if (this.#cur === mine) this.#showProgress(ev); },
        onInterrupted: () => { if (this.#cur === mine) this.#showInterrupted(); },
      })
        .then((ev) => { if (this.#cur === mine) this.#showResult(true, null, ev); })
        .catch((err) => {
          if (this.#cur !== mine) return;
          if (isPinError(err) && err.code !== 'pin_blocked') { this.#close({ pinError: err }); return; }
          if (isSessionError(err)) this.#bridge.forget(cardId);
          mine.err = err;
          this.#showResult(false, err);
        });
    });
  }

  /** A card came or went: "try again" is possible only while the job's card is present. */
  cardChanged() { this.#updateRetry(); }

  get open() { return this.#cur !== null; }

  #showProgress(ev) {
    const cur = this.#cur;
    if (!cur || cur.done) return;
    const p = Math.max(cur.percent, ev.percent);
    cur.percent = p;
    this.#bar.value = p;
    $('#job-percent').textContent = `${p}%`;
    const st = stageText(ev);
    $('#job-stage').textContent = st;
    // Announce stage changes and every 25 %, not every chunk.
    const bucket = Math.floor(p / 25);
    if (st !== cur.stage || bucket !== cur.bucket) announce(t('ann_progress', { stage: st, p }));
    cur.stage = st; cur.bucket = bucket;
  }

  // The card went after the commit: the certificate may well be on it. Put it back; the daemon
  // checks it and ends the job (#showResult follows). Never "download again" here.
  #showInterrupted() {
    const cur = this.#cur;
    if (!cur || cur.done) return;
    cur.interrupted = true;
    $('#job-running').hidden = true;
    $('#job-result').hidden = false;
    $('#job-result').dataset.result = 'interrupted';
    $('#job-result').className = 'result';
    $('#job-result-title').textContent = t('job_interrupted_title');
    $('#job-result-text').textContent = t('job_interrupted_text');
    $('#job-activated').hidden = true;
    $('#job-retry').hidden = true;
    $('#job-close').hidden = false;
    announce(`${$('#job-result-title').textContent}. ${$('#job-result-text').textContent}`);
    $('#job-result-title').focus();
  }

  #showResult(ok, err, done = {}) {
    const cur = this.#cur;
    cur.done = true;
    $('#job-running').hidden = true;
    $('#job-result').hidden = false;
    $('#job-result').dataset.result = ok ? 'done' : 'failed';
    $('#job-result').className = ok ? 'result result-ok' : 'result result-error';
    $('#job-result-title').textContent = ok ? t('job_done_title') : t('job_failed_title');
    $('#job-result-text').textContent = ok ? t('job_done_text') : errorText(err);
    $('#job-activated').hidden = !(ok && done.pin2_activated === true);
    if (ok) { this.#bar.value = 100; $('#job-percent').textContent = '100%'; }
    $('#job-close').hidden = false;
    const retry = $('#job-retry');
    cur.retryable = !ok && err && !isPinError(err);
    retry.hidden = !cur.retryable;
    this.#updateRetry();
    const activated = $('#job-activated').hidden ? '' : ` ${$('#job-activated').textContent}`;
    announce(`${$('#job-result-title').textContent}.${activated} ${$('#job-result-text').textContent}`);
    (ok || retry.hidden ? $('#job-close') : retry).focus();
  }

  #updateRetry() {
    const cur = this.#cur;
    if (!cur || !cur.retryable) return;
    const back = this.#hasCard(cur.cardId);
    // A card error followed by the card going away is a pulled card (a card pulled mid-APDU
    // often shows as a card error first): the advice is the same (put it back, try again).
    if (!back && cur.err && cur.err.code === 'card_error') cur.pulled = true;
    $('#job-retry').disabled = !back;
    $('#job-retry').setAttribute('aria-describedby', 'job-result-text');
    if (cur.pulled || (cur.err && cur.err.code === 'card_removed')) {
      $('#job-result-text').textContent = t('err_card_removed') + (back ? '' : ` ${t('wait_card')}`);
    }
  }

  #close(value) {
    if (!this.#cur) return;
    const c = this.#cur;
    this.#cur = null;
    if (this.#dlg.open) this.#dlg.close();
    c.resolve(value);
  }
}
