// client-states.test.mjs — the 'connection' states of www/siths-bridge.js on a page of a public
// origin, with the layer below stubbed (the Permissions API, fetch, WebSocket): which state each
// permission gives, and above all that no request leaves the page before the permission allows it
// or the user clicked (a request would bring up the browser's question unasked). The real
// browsers run the same paths in browser.portal.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

// A page on https://minasidor.test (not loopback: Local Network Access applies).
Object.defineProperty(globalThis, 'location', { configurable: true,
  value: { protocol: 'https:', hostname: 'minasidor.test', origin: 'https://minasidor.test' } });

class FakePermission extends EventTarget {
  constructor(state) { super(); this.state = state; }
  set(state) { this.state = state; this.dispatchEvent(new Event('change')); }
}
let perm;          // the page's loopback-network permission
let names;         // the names the module asked the Permissions API for
let knownNames;    // the names this "browser" knows
Object.defineProperty(globalThis, 'navigator', { configurable: true, value: { permissions: {
  query: async ({ name }) => {
    names.push(name);
    if (!knownNames.includes(name)) throw new TypeError(`'${name}' is not a valid value for enumeration PermissionName.`);
    return perm;
  },
} } });

const { SithsBridge, CONNECTION_STATES } = await import('../../www/siths-bridge.js');
const BASE = 'https://127.0.0.1:29443';

let fetches, sockets, answer;
function fakeFetch(url, opts) {
  fetches.push({ url, opts });
  return answer(url, opts);
}
const healthy = async () => new Response(JSON.stringify({ status: 'ok', listeners: { https: '127.0.0.1:29443', wss: '127.0.0.1:29444' } }),
  { status: 200, headers: { 'Content-Type': 'application/json' } });
const refused = async () => { throw new TypeError('Failed to fetch'); };

let socketWaiter = null;
class FakeWebSocket {
  constructor(url) {
    this.url = url;
    sockets.push(this);
    if (socketWaiter) { const w = socketWaiter; socketWaiter = null; w(this); }
  }
  hello() { this.onopen?.(); this.onmessage?.({ data: JSON.stringify({ type: 'hello', version: 'test' }) }); }
  drop() { this.onclose?.({ code: 1006 }); }
  close() {}
}

// Resolves once the module has opened its first WebSocket.
const firstSocket = () => (sockets.length ? Promise.resolve(sockets[0]) : new Promise((r) => { socketWaiter = r; }));

function bridge() {
  const b = new SithsBridge(BASE, { fetch: fakeFetch, WebSocket: FakeWebSocket, backoff: { initialMs: 5, maxMs: 20 } });
  const states = [];
  const next = [];
  b.on('connection', (c) => { states.push(c); const w = next.shift(); if (w) w(c); });
  // Resolves with the next 'connection' event whose state is `state`.
  b.until = (state) => new Promise((resolve) => {
    const seen = states.find((c) => c.state === state && !c.taken);
    if (seen) { seen.taken = true; resolve(seen); return; }
    const wait = (c) => { if (c.state === state) { c.taken = true; resolve(c); } else next.unshift(wait); };
    next.push(wait);
  });
  b.states = states;
  return b;
}

beforeEach(() => {
  fetches = []; sockets = []; names = []; answer = healthy;
  knownNames = ['loopback-network', 'local-network-access'];
});

test('the states are the documented contract', () => {
  assert.deepEqual(CONNECTION_STATES, ['connecting', 'connected', 'needs-permission', 'blocked', 'not-running', 'untrusted', 'reconnecting']);
});

test('denied: blocked, and no request at all; allowed later: connects by itself', async () => {
  perm = new FakePermission('denied');
  const b = bridge().connect();
  await b.until('blocked');
  assert.equal(fetches.length, 0, 'no request while blocked');
  assert.equal(sockets.length, 0);
  perm.set('granted');
  await firstSocket();
  assert.equal(fetches[0].url, `${BASE}/health`);
  assert.equal(fetches[0].opts.targetAddressSpace, 'loopback');
  sockets[0].hello();
  await b.until('connected');
  assert.equal(b.connectionState, 'connected');
  b.close();
});

test('not decided: needs-permission without a request; the click\'s request (targetAddressSpace loopback) comes before the WebSocket', async () => {
  perm = new FakePermission('prompt');
  const b = bridge().connect();
  await b.until('needs-permission');
  assert.equal(fetches.length, 0, 'no request before the click');
  assert.equal(sockets.length, 0, 'no WebSocket before the click');
  answer = async (url, opts) => { assert.equal(sockets.length, 0, 'the fetch goes first'); return healthy(url, opts); };
  await b.requestAccess();
  assert.equal(fetches[0].url, `${BASE}/health`);
  assert.equal(fetches[0].opts.targetAddressSpace, 'loopback');
  assert.equal(sockets.length, 1);
  assert.equal(sockets[0].url, 'wss://127.0.0.1:29444/v1/events');
  sockets[0].hello();
  await b.until('connected');
  b.close();
});

test('the click\'s request fails and the permission still reads prompt: needs-permission again, dismissed, no retrying', async () => {
  perm = new FakePermission('prompt');
  const b = bridge().connect();
  await b.until('needs-permission');
  answer = refused;
  await b.requestAccess();
  const c = await b.until('needs-permission');
  assert.equal(c.dismissed, true);
  assert.equal(fetches.length, 1);
  assert.equal(sockets.length, 0);
  assert.ok(!b.states.some((s) => s.retryInMs !== undefined), 'no retry timer that would ask again unasked');
  b.close();
});

test('the click\'s request is refused by the user: blocked', async () => {
  perm = new FakePermission('prompt');
  const b = bridge().connect();
  await b.until('needs-permission');
  answer = async () => { perm.state = 'denied'; throw new TypeError('Failed to fetch'); };
  await b.requestAccess();
  await b.until('blocked');
  assert.equal(sockets.length, 0);
  b.close();
});

test('allowed but nobody answers: not-running with backoff; once connected, a drop is reconnecting', async () => {
  perm = new FakePermission('granted');
  answer = refused;
  const b = bridge().connect();
  const first = await b.until('not-running');
  assert.ok(first.retryInMs > 0);
  assert.equal(first.error.code, 'unreachable');
  answer = healthy;
  await firstSocket();
  sockets[0].hello();
  await b.until('connected');
  sockets[0].drop();
  const again = await b.until('reconnecting');
  assert.ok(again.retryInMs > 0);
  b.close();
});

test('a browser without \'loopback-network\' is asked for \'local-network-access\'; one without either just connects', async () => {
  knownNames = ['local-network-access'];
  perm = new FakePermission('denied');
  const b = bridge().connect();
  await b.until('blocked');
  assert.deepEqual(names, ['loopback-network', 'local-network-access']);
  b.close();

  knownNames = [];
  const c = bridge().connect();
  await firstSocket();
  sockets[0].hello();
  await c.until('connected');
  assert.equal(c.states[0].state, 'connecting');
  c.close();
});
