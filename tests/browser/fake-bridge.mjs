// fake-bridge.mjs — a stand-in for siths-bridge that speaks the documented API (docs/api/openapi.yaml,
// docs/api/events.md) with in-memory cards, for developing the page and for page-contract tests
// before or beside the real daemon. It serves www/ with the daemon's CSP, over TLS with a
// certificate from the given CA. It is NOT the daemon: acceptance tests use startBridge().
//
//   node tests/browser/fake-bridge.mjs [--port 29443] [--wss 29444]   (then open the printed URL)
import https from 'node:https';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { join, extname, normalize } from 'node:path';
import { randomBytes } from 'node:crypto';
import { WebSocketServer } from 'ws';
import { SRC } from '../lib/harness.mjs';

export const SEED_CARD = Object.freeze({
  id: 'c0123456789abcdef', reader: 'Virtual PCD 00 00', reader_id: 'r00000000000000a1',
  card_number: '9752269885715693047', card_type: 'ordinary', holder: 'Olof Svensson Andersson',
  organisation: 'Västra Götalandsregionen', valid_from: '2023-11-18', valid_to: '2028-09-30', trust_level: 3,
  hsa_id: 'TSTNMT2321000156-10XK', upn: 'osa@test.se', email: 'cathrine.andersson@inera.se',
  signature_certificate: { present: false },
  pins: {
    pin1: { tries_left: 3, blocked: false, label: 'legitimering', min_length: 6, max_length: 8, activated: true, last_change: '20231118080000Z' },
    pin2: { tries_left: 3, blocked: false, label: 'underskrift', min_length: 6, max_length: 8, activated: true, last_change: '20231118080000Z' },
    puk: { tries_left: 3, blocked: false, label: 'PUK', min_length: 8, max_length: 8, activated: true, last_change: '20231118080000Z' },
  },
});

/** A two-code reserve card (docs/virtual-card.md): PIN2 not activated, holding the security code = PIN1. */
export const RESERVE_CARD = Object.freeze({
  ...structuredClone(SEED_CARD), id: 'c00000000000000r1', card_type: 'reserve', card_number: '9752269885715690003',
  pins: { ...structuredClone(SEED_CARD.pins), pin2: { ...SEED_CARD.pins.pin2, activated: false } },
});

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json' };
// The daemon's card model always lists its eIDs (none for a card whose authentication certificate
// could not be read: the page then shows the card's own fields) and gives each eID a
// signature_certificate (the card's). A test's card without them gets them here.
function asDaemonModel(c) {
  if (!Array.isArray(c.eids)) c.eids = [];
  for (const e of c.eids) if (!e.signature_certificate) e.signature_certificate = c.signature_certificate;
  return c;
}

export const STAGES = [['verify_pin', 10], ['generate_key', 35], ['build_csr', 50], ['submit', 60], ['validate', 70], ['write', 90], ['verify', 100]];

/**
 * Starts the fake daemon. opts: {cert, key, port=0, wssPort=0, pins: {pin1, pin2, puk}, testIssuer=true,
 * stepMs=150 (time between job stages)}. Returns a controller; its `pinFault` ('before' | 'after')
 * pulls the card during the next PIN change or unblock, before or after the card carried it out.
 */
export async function startFakeBridge({ cert, key, port = 0, wssPort = 0, pins: givenPins = {},
  testIssuer = true, stepMs = 150, allowOrigins = [] } = {}) {
  const pins = { pin1: '123456', pin2: '654321', puk: '12345678', ...givenPins };
  const www = join(SRC, 'www');
  const tls = { cert: readFileSync(cert), key: readFileSync(key) };
  const cards = new Map();
  const readers = new Map([['r00000000000000a1', { id: 'r00000000000000a1', name: 'Virtual PCD 00 00', card_present: false }],
    ['r00000000000000a2', { id: 'r00000000000000a2', name: 'Virtual PCD 00 01', card_present: false }]]);
  const sessions = new Map();
  const jobs = new Map();
  const requests = [];
  let wss;
  const clients = new Set();
  const ctl = { cards, readers, requests, sessions, pins, jobHold: null, failNextJobAt: null, pcscReachable: true, refuseApi: null, wsRefuse: false,
    pinFault: null, pinHold: null };

  const send = (ev) => { const s = JSON.stringify(ev); for (const c of clients) c.send(s); };
  const json = (res, status, body) => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const err = (res, status, code, message, extra = {}) => json(res, status, { error: { code, message, ...extra } });

  const server = https.createServer(tls, async (req, res) => {
    const url = new URL(req.url, 'https://127.0.0.1');
    const logged = { method: req.method, path: url.pathname, origin: req.headers.origin, auth: Boolean(req.headers.authorization) };
    requests.push(logged);
    res.setHeader('Content-Security-Policy', `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' wss://127.0.0.1:${wss.address().port} wss://localhost:${wss.address().port}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const origin = req.headers.origin;
    const allowed = origin && (allowOrigins.includes(origin) || origin === `https://127.0.0.1:${server.address().port}`);
    if (allowed) { res.setHeader('Access-Control-Allow-Origin', origin); res.setHeader('Vary', 'Origin'); }
    if (req.method === 'OPTIONS') {
      if (!allowed) return err(res, 403, 'origin_not_allowed', 'Origin refused');
      res.writeHead(204, { 'Access-Control-Allow-Methods': 'GET, POST', 'Access-Control-Allow-Headers': 'Content-Type, Authorization', 'Access-Control-Max-Age': '600' });
      return res.end();
    }
    let body = '';
    for await (const chunk of req) body += chunk;
    let data = null;
    try { data = body ? JSON.parse(body) : null; } catch { return err(res, 400, 'bad_json', 'body is not JSON'); }
    // The body's shape only (member names): a test checks what was sent, never the codes.
    if (data && typeof data === 'object') logged.keys = Object.keys(data).sort();
    const p = url.pathname;
    let m;
    // The daemon's rule (docs/api/openapi.yaml): API calls need an allowlisted Origin; a GET
    // without one passes only with Sec-Fetch-Site: same-origin (browsers omit Origin there).
    const own = [`https://127.0.0.1:${server.address().port}`, `https://localhost:${server.address().port}`, ...allowOrigins];
    if (p.startsWith('/v1/') && ctl.refuseApi) return err(res, 403, ctl.refuseApi, 'refused (test)');
    if (p.startsWith('/v1/')) {
      const o = req.headers.origin;
      const sameOriginGet = !o && req.method === 'GET' && req.headers['sec-fetch-site'] === 'same-origin';
      if (!sameOriginGet && !own.includes(o)) return err(res, 403, o ? 'origin_not_allowed' : 'origin_required', 'Origin refused');
    }
    if (req.method === 'GET' && p === '/health') {
      return json(res, 200, { status: 'ok', version: 'fake', uptime_s: 1,
        listeners: { https: `127.0.0.1:${server.address().port}`, wss: `127.0.0.1:${wss.address().port}` },
        pcsc: { reachable: ctl.pcscReachable, readers: readers.size, cards: cards.size },
        issuer: testIssuer ? { configured: true, name: 'TEST SITHS e-id Person HSA-id 3 CA v1', test: true } : { configured: false } });
    }
    if (req.method === 'GET' && p === '/v1/readers') return json(res, 200, { readers: [...readers.values()] });
    if (req.method === 'GET' && p === '/v1/cards') return json(res, 200, { cards: [...cards.values()] });
    if (req.method === 'GET' && (m = p.match(/^\/v1\/cards\/([^/]+)$/))) {
      const c = cards.get(m[1]);
      return c ? json(res, 200, c) : err(res, 404, 'card_not_found', 'no such card');
    }
    if (req.method === 'POST' && (m = p.match(/^\/v1\/cards\/([^/]+)\/login$/))) {
      const c = cards.get(m[1]);
      if (!c) return err(res, 404, 'card_not_found', 'no such card');
      return checkPin(res, c, 'pin1', data && data.pin, () => {
        const s = randomBytes(32).toString('base64url');
        sessions.set(s, c.id);
        json(res, 200, { session: s, expires_in: 900 });
      });
    }
    if (req.method === 'POST' && (m = p.match(/^\/v1\/cards\/([^/]+)\/logout$/))) {
      const tok = (req.headers.authorization || '').replace(/^Bearer /, '');
      if (!sessions.has(tok)) return err(res, 401, 'login_required', 'no such session');
      if (sessions.get(tok) !== m[1]) return err(res, 403, 'wrong_card', 'session of another card');
      sessions.delete(tok);
      res.writeHead(204, { 'Cache-Control': 'no-store' });
      return res.end();
    }
    if (req.method === 'POST' && (m = p.match(/^\/v1\/cards\/([^/]+)\/signature-certificate$/))) {
      const c = cards.get(m[1]);
      if (!c) return err(res, 404, 'card_not_found', 'no such card');
      const tok = (req.headers.authorization || '').replace(/^Bearer /, '');
      if (!sessions.has(tok)) return err(res, 401, 'login_required', 'log in first');
      if (sessions.get(tok) !== c.id) return err(res, 403, 'wrong_card', 'session of another card');
      if ([...jobs.values()].some((j) => j.card_id === c.id && j.state === 'running')) return err(res, 409, 'job_running', 'busy');
      const pin = data && data.pin;
      if (typeof pin !== 'string' || !/^[0-9]{6,8}$/.test(pin)) return err(res, 400, 'bad_pin', 'PIN must be 6 to 8 digits');
      const id = `j${randomBytes(8).toString('hex')}`;
      const job = { job: id, card_id: c.id, card: c.id, state: 'running', stage: 'queued', percent: 0 };
      jobs.set(id, job);
      json(res, 202, { job: id });
      runJob(job, c, pin);
      return undefined;
    }
    if (req.method === 'POST' && (m = p.match(/^\/v1\/cards\/([^/]+)\/pins\/([^/]+)\/(change|unblock)$/))) {
      const c = cards.get(m[1]);
      if (m[2] !== 'pin1' && m[2] !== 'pin2') return err(res, 404, 'not_found', 'no such PIN');
      if (!c) return err(res, 404, 'card_not_found', 'no such card');
      return pinCommand(res, c, m[2], m[3], data);
    }
    if (req.method === 'GET' && (m = p.match(/^\/v1\/jobs\/([^/]+)$/))) {
      const j = jobs.get(m[1]);
      return j ? json(res, 200, j) : err(res, 404, 'job_not_found', 'no such job');
    }
    if (p.startsWith('/v1/')) return err(res, 404, 'not_found', 'no such route');
    if (req.method !== 'GET') return err(res, 405, 'method_not_allowed', 'GET only');
    const rel = normalize(p === '/' ? '/index.html' : p);
    const f = join(www, rel);
    if (!f.startsWith(www) || !existsSync(f) || !statSync(f).isFile()) { res.writeHead(404); return res.end('not found'); }
    res.writeHead(200, { 'Content-Type': TYPES[extname(f)] || 'application/octet-stream' });
    return res.end(readFileSync(f));
  });

  function checkPin(res, card, which, pin, ok) {
    const st = card.pins[which];
    if (typeof pin !== 'string' || !/^[0-9]{6,8}$/.test(pin)) return err(res, 400, 'bad_pin', 'PIN must be 6 to 8 digits');
    if (st.blocked) return err(res, 423, 'pin_blocked', 'PIN blocked: unblock it with the PUK');
    if (pin !== ctl.pins[which]) {
      st.tries_left -= 1;
      if (st.tries_left <= 0) { st.tries_left = 0; st.blocked = true; return err(res, 423, 'pin_blocked', 'PIN blocked: unblock it with the PUK'); }
      return err(res, 401, 'wrong_pin', 'wrong PIN', { tries_left: st.tries_left });
    }
    st.tries_left = 3;
    return ok();
  }

  // The API's PIN change / unblock (docs/api/openapi.yaml): strict body, formats checked before
  // the "card", counters, last_change, card-updated; pinFault pulls the card during it.
  let changes = 0;
  // lastPinChange as the daemon reports it (GeneralizedTime, e.g. 20250101000001Z), one second apart.
  const stamp = () => new Date(Date.UTC(2025, 0, 1) + 1000 * ++changes).toISOString().replace(/[-:T]|\.000/g, '');
  async function pinCommand(res, card, which, action, data) {
    const secret = action === 'change' ? 'pin' : 'puk';
    const keys = data && typeof data === 'object' && !Array.isArray(data) ? Object.keys(data).sort() : null;
    if (!keys || keys.join() !== [secret, 'new_pin'].sort().join() || keys.some((k) => typeof data[k] !== 'string'))
      return err(res, 400, 'bad_request', `body must be {"${secret}": …, "new_pin": …}`);
    if ([...jobs.values()].some((j) => j.card_id === card.id && j.state === 'running')) return err(res, 409, 'job_running', 'busy');
    const st = card.pins[which];
    const puk = card.pins.puk;
    for (const [field, rule] of [[secret, secret === 'puk' ? puk : st], ['new_pin', st]]) {
      const max = rule.max_length ?? 8;
      if (!new RegExp(`^[0-9]{${rule.min_length},${max}}$`).test(data[field]))
        return err(res, 400, 'bad_pin', `${field}: ${rule.min_length} to ${max} digits`, { field, min_length: rule.min_length, max_length: max });
    }
    if (ctl.pinHold) await ctl.pinHold;
    const before = st.last_change;
    const fault = ctl.pinFault;
    ctl.pinFault = null;
    if (fault === 'before') { ctl.remove(card.id); return interrupted(); }
    const answer = action === 'change' ? changeOn(card, which, data) : unblockOn(card, which, data);
    send({ type: 'card-updated', card });
    if (fault === 'after') { ctl.remove(card.id); return interrupted(); }
    return answer(res);
    function interrupted() {
      return err(res, 409, 'change_interrupted', 'the card was removed during the command', { pin: which, last_change: before });
    }
  }
  function setPin(card, which, value) {
    Object.assign(card.pins[which], { tries_left: 3, blocked: false, activated: true, last_change: stamp() });
    pins[which] = value;
  }
  const ok = (card, which) => (res) => json(res, 200, { pin: which, tries_left: 3, card });
  const fails = (status, code, extra) => (res) => err(res, status, code, code, extra);
  function tryCode(st, right, given, wrong, blocked) {
    if (st.blocked) return fails(423, blocked, { tries_left: 0 });
    if (given === right) return null;
    st.tries_left -= 1;
    if (st.tries_left > 0) return fails(401, wrong, { tries_left: st.tries_left });
    Object.assign(st, { tries_left: 0, blocked: true });
    return fails(423, blocked, { tries_left: 0 });
  }
  function changeOn(card, which, data) {
    const refused = tryCode(card.pins[which], pins[which], data.pin, 'wrong_pin', 'pin_blocked');
    if (refused) return refused;
    setPin(card, which, data.new_pin);
    return ok(card, which);
  }
  function unblockOn(card, which, data) {
    const refused = tryCode(card.pins.puk, pins.puk, data.puk, 'wrong_puk', 'puk_blocked');
    if (refused) return refused;
    card.pins.puk.tries_left = 3;
    setPin(card, which, data.new_pin);
    return ok(card, which);
  }

  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  async function runJob(job, card, pin) {
    const fail = (code, message, extra = {}) => {
      Object.assign(job, { state: 'failed', code, message, ...extra });
      send({ type: 'job-failed', job: job.job, card_id: card.id, card: card.id, stage: job.stage, code, message, ...extra });
    };
    await wait(stepMs);
    Object.assign(job, { stage: 'verify_pin', percent: 5 });
    send({ type: 'job-progress', job: job.job, card_id: card.id, card: card.id, stage: 'verify_pin', percent: 5, message: 'verifying PIN2' });
    const st = card.pins.pin2;
    if (st.blocked) return fail('pin_blocked', 'PIN2 blocked', { tries_left: 0 });
    if (pin !== ctl.pins.pin2) {
      st.tries_left -= 1;
      if (st.tries_left <= 0) { st.blocked = true; st.tries_left = 0; return fail('pin_blocked', 'PIN2 blocked', { tries_left: 0 }); }
      return fail('wrong_pin', 'wrong PIN2', { tries_left: st.tries_left });
    }
    st.tries_left = 3;
    // A reserve card's PIN2 not yet activated: the code entered (the letter's) becomes it.
    const activated = st.activated === false;
    if (activated) Object.assign(st, { activated: true, last_change: stamp() });
    for (const [stage, pct] of STAGES) {
      if (ctl.jobHold) await ctl.jobHold;
      if (!cards.has(card.id)) return fail('card_removed', 'the card was removed');
      if (ctl.failNextJobAt === stage) { ctl.failNextJobAt = null; return fail(ctl.failCode || 'card_removed', 'failed (test)'); }
      Object.assign(job, { stage, percent: pct });
      send({ type: 'job-progress', job: job.job, card_id: card.id, card: card.id, stage, percent: pct, message: stage });
      await wait(stepMs);
    }
    card.signature_certificate = { present: true, valid_to: card.valid_to };
    for (const e of card.eids) e.signature_certificate = card.signature_certificate;
    Object.assign(job, { state: 'done', stage: 'done', percent: 100, message: 'done' });
    send({ type: 'card-updated', card });
    if (activated) job.pin2_activated = true;
    send({ type: 'job-done', job: job.job, card_id: card.id, card: card.id, stage: 'done', percent: 100, message: 'done', ...(activated ? { pin2_activated: true } : {}) });
    return undefined;
  }

  // Every TCP socket of both listeners, from accept on: stop() destroys them all, so a browser's
  // socket still in its TLS handshake or idle in its pool cannot hold server.close() open.
  const sockets = new Set();
  const track = (srv) => srv.on('connection', (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  track(server);
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  const wsServer = https.createServer(tls);
  track(wsServer);
  wss = new WebSocketServer({ server: wsServer, path: '/v1/events' });
  wss.on('connection', (ws) => {
    if (ctl.wsRefuse) { ws.terminate(); return; }
    clients.add(ws);
    ws.on('close', () => clients.delete(ws));
    ws.send(JSON.stringify({ type: 'hello', version: 'fake' }));
  });
  await new Promise((r) => wsServer.listen(wssPort, '127.0.0.1', r));

  return Object.assign(ctl, {
    https: server.address().port,
    wss: wsServer.address().port,
    origin: `https://127.0.0.1:${server.address().port}`,
    url: (path) => `https://127.0.0.1:${server.address().port}${path}`,
    insert(card = SEED_CARD, readerId = 'r00000000000000a1') {
      const c = asDaemonModel(structuredClone(card));
      const r = readers.get(readerId);
      c.reader = r.name; c.reader_id = r.id;
      r.card_present = true;
      cards.set(c.id, c);
      send({ type: 'card-inserted', card: c });
      return c;
    },
    /** Changes a card's model (patch merged in) and sends card-updated, as after a download. */
    update(id, patch) {
      const c = cards.get(id);
      if (!c) return null;
      asDaemonModel(Object.assign(c, structuredClone(patch)));
      send({ type: 'card-updated', card: c });
      return c;
    },
    remove(id) {
      const c = cards.get(id);
      if (!c) return;
      cards.delete(id);
      const r = readers.get(c.reader_id);
      if (r) r.card_present = false;
      for (const [s, cid] of sessions) if (cid === id) sessions.delete(s);
      send({ type: 'card-removed', card_id: id, reader: c.reader, reader_id: c.reader_id });
    },
    disconnectClients() { for (const c of clients) c.terminate(); },
    async stop() {
      for (const c of clients) c.terminate();
      const closed = Promise.all([new Promise((r) => server.close(r)), new Promise((r) => { wss.close(); wsServer.close(r); })]);
      for (const sock of sockets) sock.destroy();
      await closed;
    },
  });
}

// Manual run: node tests/browser/fake-bridge.mjs → prints the URL; Ctrl-C stops.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { localhostCerts } = await import('../lib/browser.mjs');
  const c = localhostCerts();
  const arg = (n, d) => { const i = process.argv.indexOf(n); return i > 0 ? Number(process.argv[i + 1]) : d; };
  const fb = await startFakeBridge({ cert: c.cert, key: c.key, port: arg('--port', 29443), wssPort: arg('--wss', 29444), stepMs: 700 });
  fb.insert();
  console.log(`fake bridge: ${fb.url('/')} (CA ${c.ca})`);
}
