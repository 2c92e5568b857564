// siths-bridge.js — the client module for the siths-bridge daemon (REST over HTTPS + live events
// over secure WebSocket). The Mina sidor page uses it, and so can any portal on an allowlisted
// origin (--allow-origin): no dependencies, no build step, one ES module.
//
//   import { SithsBridge } from './siths-bridge.js';                // a copy served by the portal
//   const bridge = new SithsBridge();        // finds this user's bridge among the candidate ports
//   bridge.on('card-inserted', (ev) => console.log(ev.card));
//   bridge.on('connection', (ev) => console.log(ev.state));      // see CONNECTION_STATES
//   bridge.connect();                                              // reconnects by itself, with backoff
//   button.onclick = () => bridge.requestAccess();                 // on 'needs-permission' (see below)
//   const cards = await bridge.cards();
//   await bridge.login(cards[0].id, pin1);                         // session kept in memory only
//   await bridge.downloadSignatureCertificate(cards[0].id, pin2, { onProgress: (p) => show(p.percent) });
//   await bridge.changePin(cards[0].id, 'pin1', oldPin1, newPin1);    // or unblockPin(id, 'pin1', puk, newPin1)
//   await bridge.logout(cards[0].id);                              // the daemon ends the session at once
//
// Sessions: login() keeps the card's session token in memory (never in storage) and sends it
// as `Authorization: Bearer` on the card's later calls. It ends with logout() (forgotten here at
// once, ended in the daemon by POST /v1/cards/{id}/logout), after 15 minutes, or when the card is
// removed (the daemon drops it and this module forgets it on the card-removed event).
//
// Every failure is a BridgeError with .code (the daemon's error code, or 'unreachable' when the
// daemon cannot be reached or its certificate is not trusted), .status and, for a wrong PIN or
// PUK, .triesLeft. PINs and PUKs are only ever sent in a POST body; this module never stores them.
// The REST API is docs/api/openapi.yaml, the events are docs/api/events.md.
//
// Ports: on a shared machine every logged-in user has a bridge of their own, each on its own
// port pair (docs/install.md, "Ports"). Without a base URL (and not on a page the bridge serves
// itself) the module tries the candidate HTTPS ports in order and keeps the first whose /health
// answers over TLS: another user's bridge closes the connection before TLS, so it is never taken.
//
// Local Network Access (docs/portal.md): a page on a public origin needs the user's permission to
// reach 127.0.0.1 (Chrome 142+, Firefox 153+). connect() asks the Permissions API first
// ('loopback-network', falling back to 'local-network-access') and reports 'blocked' (denied),
// or 'needs-permission' (not decided yet: the page asks the user to click, and the click handler
// calls requestAccess(), whose fetch brings up the browser's question) without any request that
// would prompt the user unasked. A browser gives a page no way to tell a bridge that is not
// running from one whose certificate it does not trust: both are 'not-running' (docs/portal.md).

/** Event types the daemon pushes over the WebSocket (docs/api/events.md). */
export const EVENT_TYPES = Object.freeze(['hello', 'card-inserted', 'card-removed', 'card-updated',
  'reader-added', 'reader-removed', 'job-progress', 'job-done', 'job-failed', 'job-interrupted']);

/** Error raised by every method. `code` is stable and machine readable. */
export class BridgeError extends Error {
  constructor(code, message, { status = 0, triesLeft, body, cause } = {}) {
    super(message || code, cause ? { cause } : undefined);
    this.name = 'BridgeError';
    this.code = code;
    this.status = status;
    if (triesLeft !== undefined && triesLeft !== null) this.triesLeft = triesLeft;
    if (body !== undefined) this.body = body;
  }
}

/** The states of the 'connection' event (docs/portal.md, "States"). */
export const CONNECTION_STATES = Object.freeze(['connecting', 'connected', 'needs-permission', 'blocked',
  'not-running', 'untrusted', 'reconnecting']);

const JOB_MEMORY = 32;         // jobs whose events are remembered for a late followJob()

/** The HTTPS ports of the user service's candidate port pairs, in the order of its port rule
 * (docs/install.md, "Ports"): slot K is HTTPS 29443+2K and WSS 29444+2K, K = 0..15. */
export const CANDIDATE_PORTS = Object.freeze(Array.from({ length: 16 }, (_, k) => 29443 + 2 * k));

// A page the bridge serves itself (this module loaded from the page's own loopback origin):
// that origin is its bridge. Else null: the bridge is to be found among the candidate ports.
const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])$/;
function ownOrigin() {
  if (typeof location === 'undefined' || location.protocol !== 'https:' || !LOOPBACK_HOST.test(location.hostname)) return null;
  return new URL(import.meta.url).origin === location.origin ? location.origin : null;
}

// A page on a loopback origin is not subject to Local Network Access.
function pageOnLoopback() {
  return typeof location === 'undefined' || LOOPBACK_HOST.test(location.hostname);
}

/**
 * The page's Local Network Access permission for loopback: a PermissionStatus (state 'granted',
 * 'denied' or 'prompt', and a 'change' event), or null where the browser has no such permission
 * (then nothing is known before a request) or the page is on loopback itself.
 */
export async function loopbackPermission() {
  if (pageOnLoopback() || typeof navigator === 'undefined' || !navigator.permissions) return null;
  for (const name of ['loopback-network', 'local-network-access']) {
    try { return await navigator.permissions.query({ name }); } catch { /* not this browser's name */ }
  }
  return null;
}

// Every request to the bridge says where it goes, so the browser may ask the user (Chrome's LNA).
const FETCH_OPTS = Object.freeze({ cache: 'no-store', credentials: 'omit', mode: 'cors', referrerPolicy: 'no-referrer',
  targetAddressSpace: 'loopback' });

/**
 * Finds this user's bridge: the origin of the first port, in the order given, whose GET /health
 * answers over TLS with the bridge's health object, or null when none does. A port without a
 * listener refuses at once and another user's bridge closes the connection before TLS, so both
 * fail fast and the next port is tried; `timeoutMs` bounds a listener that never answers (a
 * socket-started bridge answers once it runs, which takes a moment on its first start).
 */
export async function findBridge({ host = '127.0.0.1', ports = CANDIDATE_PORTS, fetch, timeoutMs = 15000 } = {}) {
  const get = fetch || globalThis.fetch.bind(globalThis);
  for (const port of ports) {
    const origin = `https://${host}:${port}`;
    try {
      const res = await get(`${origin}/health`, { ...FETCH_OPTS, signal: AbortSignal.timeout(timeoutMs) });
      const h = res.ok ? await res.json() : null;
      if (h && typeof h === 'object' && h.listeners) return origin;
    } catch { /* not this user's bridge: the next port */ }
  }
  return null;
}

// `listeners.wss` of /health: "ADDR:PORT", e.g. "127.0.0.1:29444" or "[::1]:29444".
function wssUrlFrom(listener, base) {
  const port = typeof listener === 'string' ? Number(listener.slice(listener.lastIndexOf(':') + 1)) : NaN;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return null;
  // Same host name as the API, so the CSP (connect-src wss://127.0.0.1:P wss://localhost:P) allows it.
  return `wss://${new URL(base).hostname}:${port}/v1/events`;
}

/**
 * A connection to one siths-bridge daemon. Extends EventTarget: every WebSocket event is
 * dispatched as a CustomEvent of its `type` (detail = the message), plus 'message' for all of
 * them and 'connection' ({state, attempt, retryInMs?, error?}) when the connection's state changes;
 * state is one of CONNECTION_STATES:
 *   connecting        the first attempt is under way
 *   connected         the event stream is open (after its hello)
 *   needs-permission  the browser will ask the user first: show a button that calls
 *                     requestAccess() (detail.dismissed: the user closed the question unanswered)
 *   blocked           the browser refuses this page the connection (the user or a policy said no);
 *                     connects by itself once the permission changes
 *   not-running       no bridge answers (not started, or its certificate not trusted by this
 *                     browser: a page cannot tell these apart); retried with backoff (retryInMs)
 *   untrusted         reserved for a browser that lets a page tell an untrusted certificate apart
 *                     (none does today)
 *   reconnecting      the stream was open and went away; retried with backoff (retryInMs)
 */
export class SithsBridge extends EventTarget {
  #base; #wsUrl; #opts; #sessions = new Map(); #ws = null; #wanted = false; #timer = null;
  #attempt = 0; #jobs = new Map(); #followers = new Set(); #state = 'connecting';
  #discover; #finding = null; #wasConnected = false; #permitted = false; #watched = null; #opening = null;

  /**
   * @param {string} [baseUrl] the daemon's HTTPS origin, default: the page's own origin when it
   *   is served by the daemon, else the first candidate port that answers (findBridge())
   * @param {object} [opts] {wsUrl, backoff: {initialMs, maxMs, factor}, fetch, WebSocket,
   *   ports: the candidate HTTPS ports (default CANDIDATE_PORTS)}
   */
  constructor(baseUrl, opts = {}) {
    super();
    const given = baseUrl || ownOrigin();
    this.#base = given ? String(given).replace(/\/+$/, '') : null;
    this.#discover = !given;
    this.#wsUrl = opts.wsUrl || null;
    this.#opts = {
      initialMs: 500, maxMs: 15000, factor: 2, ...(opts.backoff || {}),
      fetch: opts.fetch || globalThis.fetch.bind(globalThis),
      WebSocket: opts.WebSocket || globalThis.WebSocket,
      ports: opts.ports || CANDIDATE_PORTS,
    };
  }

  /** The bridge's origin; null while it is still to be found among the candidate ports. */
  get baseUrl() { return this.#base; }

  // The bridge's origin, found once and kept; forgotten when it stops answering (the user's
  // port pair may have moved at the next login), so the next call looks again.
  async #origin() {
    if (this.#base) return this.#base;
    this.#finding ||= findBridge({ ports: this.#opts.ports, fetch: this.#opts.fetch })
      .finally(() => { this.#finding = null; });
    const found = await this.#finding;
    if (!found) throw new BridgeError('unreachable', `no siths-bridge answers on ports ${this.#opts.ports.join(', ')}`);
    return (this.#base = found);
  }
  /** One of CONNECTION_STATES. */
  get connectionState() { return this.#state; }

  /** Subscribes to one event type (or 'message' / 'connection'); returns an unsubscribe function. */
  on(type, fn) {
    const h = (e) => fn(e.detail);
    this.addEventListener(type, h);
    return () => this.removeEventListener(type, h);
  }

  // ---- REST ----

  async #request(method, path, { body, cardId, token: given } = {}) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const token = given || (cardId ? this.#sessions.get(cardId) : undefined);
    if (token) headers.Authorization = `Bearer ${token}`;
    const base = await this.#origin();
    let res;
    try {
      res = await this.#opts.fetch(base + path, {
        ...FETCH_OPTS, method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      // The browser does not say why (daemon down, TLS not trusted, blocked by the user): one code.
      if (this.#discover) this.#base = null;
      throw new BridgeError('unreachable', `siths-bridge at ${base} cannot be reached`, { cause: e });
    }
    let json = null;
    const text = await res.text().catch(() => '');
    if (text) {
      try { json = JSON.parse(text); } catch { json = null; }
    }
    if (!res.ok) {
      // A daemon error is {"error":{code, message[, tries_left]}}; libmicrohttpd's own refusals
      // (e.g. 431, headers too large) have no JSON body: then the code is http_STATUS.
      const err = (json && json.error) || {};
      const triesLeft = err.tries_left;
      if (cardId && (res.status === 401 && triesLeft === undefined)) this.#sessions.delete(cardId);
      throw new BridgeError(typeof err.code === 'string' ? err.code : `http_${res.status}`,
        typeof err.message === 'string' ? err.message : `HTTP ${res.status}`,
        { status: res.status, triesLeft, body: json });
    }
    if (json === null && res.status !== 204) throw new BridgeError('bad_response', 'response is not JSON', { status: res.status });
    return json;
  }

  /** GET /health: {status, version, listeners:{https, wss}, pcsc:{…}, issuer:{…}} */
  health() { return this.#request('GET', '/health'); }
  /** GET /v1/readers → [{id, name, card_present, card_id}] */
  async readers() { return (await this.#request('GET', '/v1/readers')).readers; }
  /** GET /v1/cards → [card model] */
  async cards() { return (await this.#request('GET', '/v1/cards')).cards; }
  /** GET /v1/cards/{id} → card model */
  card(id) { return this.#request('GET', `/v1/cards/${encodeURIComponent(id)}`); }

  /** Logs in to a card with PIN1 (authentication code). Keeps the session token in memory. */
  async login(cardId, pin) {
    const r = await this.#request('POST', `/v1/cards/${encodeURIComponent(cardId)}/login`, { body: { pin: String(pin) } });
    if (!r || typeof r.session !== 'string') throw new BridgeError('bad_response', 'no session in login answer');
    this.#sessions.set(cardId, r.session);
    return { expires_in: r.expires_in };
  }
  /** True while this module holds a session for the card (it may still have expired server-side). */
  isLoggedIn(cardId) { return this.#sessions.has(cardId); }
  /**
   * Logs out of a card: forgets the session here at once (isLoggedIn() is false as soon as this
   * is called), then asks the daemon to end it (POST /v1/cards/{id}/logout). Resolves true when
   * the daemon ended it, false when there was nothing to end (no session here, or the daemon had
   * already dropped it: expired, card removed). Rejects with a BridgeError when the daemon could
   * not be asked (e.g. 'unreachable'): the session then lives on there until it expires or the
   * card is removed, but this module no longer has it.
   */
  async logout(cardId) {
    const token = this.#sessions.get(cardId);
    if (!token) return false;
    this.#sessions.delete(cardId);
    try {
      await this.#request('POST', `/v1/cards/${encodeURIComponent(cardId)}/logout`, { body: {}, token });
      return true;
    } catch (e) {
      if (e instanceof BridgeError && e.status === 401) return false;
      throw e;
    }
  }
  /** Forgets the card's session here only, without asking the daemon (it already ended it). */
  forget(cardId) { this.#sessions.delete(cardId); }

  /**
   * Starts the signature-certificate job with PIN2 and, when the bridge's issuer signs its
   * requests with the card's authentication key (/health issuer.protection 'signature'), PIN1 as
   * authPin; resolves with the job id. A wrong PIN1 ends the job as a wrong PIN2 does, with
   * `field: 'auth_pin'` in the job-failed event (the error's .body).
   */
  async startSignatureCertificate(cardId, pin, { authPin } = {}) {
    const body = { pin: String(pin) };
    if (authPin !== undefined && authPin !== null) body.auth_pin = String(authPin);
    const r = await this.#request('POST', `/v1/cards/${encodeURIComponent(cardId)}/signature-certificate`,
      { body, cardId });
    if (!r || typeof r.job !== 'string') throw new BridgeError('bad_response', 'no job id in answer');
    return r.job;
  }

  /**
   * Changes PIN1 or PIN2 (`which`: 'pin1' | 'pin2') from `pin` to `newPin`; no session needed.
   * Resolves {pin, tries_left, card} (the card's new model). Rejects with a BridgeError:
   * 'wrong_pin' (.triesLeft), 'pin_blocked', 'bad_pin' (.body.error.field: which code had the
   * wrong form; no try used), 'change_interrupted' (the card went away during the command:
   * .body.error.last_change tells which code holds once the card is back, see the API).
   */
  changePin(cardId, which, pin, newPin) {
    return this.#pinCommand(cardId, which, 'change', { pin: String(pin), new_pin: String(newPin) });
  }

  /**
   * Unblocks PIN1 or PIN2 with the PUK and sets `newPin`; no session needed. Resolves like
   * changePin(); rejects also with 'wrong_puk' (.triesLeft) and 'puk_blocked' (final).
   */
  unblockPin(cardId, which, puk, newPin) {
    return this.#pinCommand(cardId, which, 'unblock', { puk: String(puk), new_pin: String(newPin) });
  }

  async #pinCommand(cardId, which, action, body) {
    if (which !== 'pin1' && which !== 'pin2') throw new BridgeError('bad_request', `no such PIN: ${which}`);
    const r = await this.#request('POST', `/v1/cards/${encodeURIComponent(cardId)}/pins/${which}/${action}`, { body });
    if (!r || !r.card || typeof r.card !== 'object') throw new BridgeError('bad_response', 'no card in answer');
    return r;
  }

  /** GET /v1/jobs/{id} → {job, card_id, state, stage, percent, message, code?, tries_left?} */
  job(jobId) { return this.#request('GET', `/v1/jobs/${encodeURIComponent(jobId)}`); }

  /**
   * Follows a job through its events until it ends. Resolves with the job-done event, rejects
   * with a BridgeError (code from job-failed, e.g. 'card_removed', 'wrong_pin') otherwise.
   * onProgress({stage, percent, message}) is called for every job-progress event, also for
   * events that arrived before this call. onInterrupted(ev) is called when the card was pulled
   * after the certificate was written (job-interrupted): the job is not over — it ends (resolve
   * or reject) when the same card is back and the daemon has checked it. Needs connect().
   */
  followJob(jobId, { onProgress, onInterrupted } = {}) {
    return new Promise((resolve, reject) => {
      let interrupted = false;
      const f = {
        jobId, seen: 0,
        deliver: (ev) => {
          if (ev.type === 'job-progress') { if (onProgress) onProgress(ev); return false; }
          if (ev.type === 'job-interrupted') {
            if (!interrupted && onInterrupted) onInterrupted(ev);
            interrupted = true;
            return false;
          }
          this.#followers.delete(f);
          if (ev.type === 'job-done') resolve(ev);
          else reject(new BridgeError(ev.code, ev.message, { triesLeft: ev.tries_left, body: ev }));
          return true;
        },
      };
      this.#followers.add(f);
      for (const ev of this.#jobs.get(jobId) || []) if (f.deliver(ev)) return;
      this.#pollJob(f);
    });
  }

  /** startSignatureCertificate + followJob. */
  async downloadSignatureCertificate(cardId, pin, { onProgress, authPin } = {}) {
    const job = await this.startSignatureCertificate(cardId, pin, { authPin });
    return this.followJob(job, { onProgress });
  }

  // A terminal event missed while the WebSocket was down is recovered from GET /v1/jobs/{id}.
  async #pollJob(f) {
    let j;
    try { j = await this.job(f.jobId); } catch { return; }
    if (!this.#followers.has(f) || !j) return;
    if (j.state === 'done') f.deliver({ ...j, type: 'job-done', job: f.jobId });
    else if (j.state === 'failed') f.deliver({ ...j, type: 'job-failed', job: f.jobId });
    else if (j.state === 'interrupted') f.deliver({ ...j, type: 'job-interrupted', job: f.jobId });
  }

  // ---- WebSocket ----

  /** Opens the event stream and keeps it open (exponential backoff with jitter) until close(). */
  connect() {
    this.#wanted = true;
    if (!this.#ws && !this.#timer) this.#open();
    return this;
  }

  /**
   * Call from the click handler of the page's "connect" button on 'needs-permission': its request
   * (GET /health, targetAddressSpace 'loopback') is what lets the browser ask the user, and a
   * WebSocket alone never does. Resolves once the answer is known; the outcome is reported as a
   * 'connection' event ('connected' follows, or 'blocked', 'needs-permission' with dismissed,
   * 'not-running').
   */
  async requestAccess() {
    this.#wanted = true;
    clearTimeout(this.#timer); this.#timer = null;
    this.#setState('connecting', {});
    try {
      await this.health();
    } catch (e) {
      if (this.#ws) return;   // allowed meanwhile (site settings): #hold's watch connected
      const p = await loopbackPermission();
      if (p && p.state === 'denied') return this.#hold('blocked', p);
      if (p && p.state === 'prompt' && !this.#permitted) return this.#hold('needs-permission', p, { dismissed: true });
      return this.#retry(e);
    }
    this.#permitted = true;
    await this.#open();
  }

  /** Closes the event stream and stops reconnecting. */
  close() {
    this.#wanted = false;
    clearTimeout(this.#timer); this.#timer = null;
    if (this.#ws) { const ws = this.#ws; this.#ws = null; ws.close(1000); }
  }

  #setState(state, extra) {
    this.#state = state;
    this.dispatchEvent(new CustomEvent('connection', { detail: { state, attempt: this.#attempt, ...extra } }));
  }

  // Waits for the user (or a policy) to change the permission: no request meanwhile, as one
  // would bring up the browser's question unasked. A decision (also one made in the site settings
  // while requestAccess()'s request still waits for the question's answer) starts it again.
  #hold(state, status, extra = {}) {
    this.#opening = null;   // this attempt ends here, now: a change right after it starts another
    this.#setState(state, extra);
    if (this.#watched === status) return;
    this.#watched = status;
    status.addEventListener('change', () => {
      if (this.#wanted && !this.#ws && status.state !== 'prompt') this.#open();
    });
  }

  // One attempt at a time: a permission change, a retry timer and a click may all ask for one.
  // #hold and #retry end an attempt at once (not a microtask later, as .finally would).
  #open() {
    if (!this.#opening) {
      const p = this.#openOnce().finally(() => { if (this.#opening === p) this.#opening = null; });
      this.#opening = p;
    }
    return this.#opening;
  }

  async #openOnce() {
    this.#timer = null;
    if (!this.#wasConnected && this.#attempt === 0) this.#setState('connecting', {});
    if (!this.#permitted) {
      const p = await loopbackPermission();
      if (p && p.state === 'denied') return this.#hold('blocked', p);
      if (p && p.state === 'prompt') return this.#hold('needs-permission', p);
    }
    let url = this.#wsUrl;
    if (!url) {
      try {
        const h = await this.health();
        url = wssUrlFrom(h && h.listeners && h.listeners.wss, await this.#origin());
        if (!url) throw new BridgeError('bad_response', '/health has no listeners.wss');
      } catch (e) {
        return this.#retry(e);
      }
    }
    if (!this.#wanted || this.#ws) return;
    let ws;
    try { ws = new this.#opts.WebSocket(url); } catch (e) { return this.#retry(e); }
    this.#ws = ws;
    let opened = false;
    ws.onopen = () => { opened = true; };
    ws.onmessage = (m) => {
      let ev;
      try { ev = JSON.parse(m.data); } catch { return; }
      if (!ev || typeof ev.type !== 'string') return;
      if (ev.type === 'hello') {
        this.#attempt = 0;
        this.#wasConnected = true;
        this.#setState('connected', { version: ev.version });
        for (const f of this.#followers) this.#pollJob(f);
      }
      this.#dispatch(ev);
    };
    ws.onclose = (c) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#retry(new BridgeError(opened ? 'disconnected' : 'unreachable', `WebSocket closed (${c.code})`));
    };
    ws.onerror = () => { /* onclose follows and handles it */ };
  }

  #retry(err) {
    this.#opening = null;
    if (!this.#wanted) return;
    const o = this.#opts;
    const base = Math.min(o.maxMs, o.initialMs * o.factor ** this.#attempt);
    const retryInMs = Math.round(base * (0.8 + Math.random() * 0.4));
    this.#attempt++;
    this.#setState(this.#wasConnected ? 'reconnecting' : 'not-running', { retryInMs, error: err });
    this.#timer = setTimeout(() => this.#open(), retryInMs);
  }

  /** Connects again now (e.g. a "try again" button), skipping the rest of the backoff wait. */
  reconnectNow() {
    if (!this.#wanted || this.#ws) return;
    clearTimeout(this.#timer);
    this.#open();
  }

  #dispatch(ev) {
    if (ev.type === 'card-removed') this.#sessions.delete(ev.card_id);   // the daemon revokes it too
    if (typeof ev.job === 'string' && ev.type.startsWith('job-')) {
      const list = this.#jobs.get(ev.job) || [];
      list.push(ev);
      if (list.length > 256) list.splice(0, list.length - 256);   // per-chunk progress is chatty
      this.#jobs.delete(ev.job);
      this.#jobs.set(ev.job, list);
      if (this.#jobs.size > JOB_MEMORY) this.#jobs.delete(this.#jobs.keys().next().value);
      for (const f of [...this.#followers]) if (f.jobId === ev.job) f.deliver(ev);
    }
    this.dispatchEvent(new CustomEvent(ev.type, { detail: ev }));
    this.dispatchEvent(new CustomEvent('message', { detail: ev }));
  }
}

/** The id of the card an event is about: `card_id`, or the id of its card model `card`
 * (docs/api/events.md); null for an event about no card. */
export function eventCardId(ev) {
  return ev.card_id ?? ev.card?.id ?? null;
}

export default SithsBridge;
