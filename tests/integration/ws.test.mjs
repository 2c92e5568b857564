// ws.test.mjs — the secure WebSocket listener over real TLS with the npm `ws`
// client. The security and limit checks run against the real daemon (siths-bridge) and against
// ws_harness, a test-only program that runs server/ws.c alone and lets the test call
// ws_broadcast() from other threads (stdin commands) before card events exist.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import https from 'node:https';
import tls from 'node:tls';
import net from 'node:net';
import WebSocket from 'ws';
import { BUILD, SRC, Proc, localhostCerts, startBridge, until } from '../lib/harness.mjs';

const VERSION = readFileSync(join(SRC, 'CMakeLists.txt'), 'utf8').match(/project\(siths-bridge VERSION ([0-9.]+)/)[1];
const CA = () => readFileSync(localhostCerts().ca);
// The harness's own origin is that of an HTTPS listener on this (never opened) port.
const HARNESS_HTTPS_PORT = 29443;

// ws_harness with the daemon's options; .wss is its port, .cmd(line) writes a stdin command.
async function startHarness({ args = [], env = {} } = {}) {
  const c = localhostCerts();
  const p = new Proc(join(BUILD, 'tests', 'integration', 'ws_harness'),
    ['--https', `127.0.0.1:${HARNESS_HTTPS_PORT}`, '--wss', '127.0.0.1:0', '--cert', c.cert, '--key', c.key,
      '--log-level', 'debug', ...args],
    { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const m = await p.waitFor(/ready wss=\S+:(\d+)/);
  p.wss = Number(m[1]);
  p.origin = `https://127.0.0.1:${HARNESS_HTTPS_PORT}`;
  p.cmd = (line) => p.child.stdin.write(`${line}\n`);
  // Asks for the client count; resolves with the number printed in answer.
  p.count = async () => {
    const from = p.mark();
    p.cmd('count');
    return Number((await p.waitFor(/clients (\d+)/, { from }))[1]);
  };
  // EOF on stdin is the harness's clean stop: ws_stop() with clients connected, leak-checked.
  p.quit = async () => { p.child.stdin.end(); return p.exited; };
  return p;
}

// A WebSocket client that keeps every message. Resolves once open, or with .status/.error when
// the upgrade is refused. Options: origin (undefined = none sent), host, path, ws options.
function connect(port, { origin, host, path = '/v1/events', addr = '127.0.0.1', opts = {} } = {}) {
  const headers = host ? { Host: host } : {};
  const ws = new WebSocket(`wss://${addr}:${port}${path}`, { ca: CA(), headers, ...(origin !== undefined ? { origin } : {}), ...opts });
  const c = { ws, msgs: [], waiters: [] };
  c.closed = new Promise((res) => ws.on('close', (code, reason) => res({ code, reason: reason.toString() })));
  ws.on('message', (d, binary) => {
    c.msgs.push({ binary, json: JSON.parse(d.toString()) });
    c.waiters = c.waiters.filter((w) => !w());
  });
  // Resolves once `n` messages arrived (deadline: `timeout` ms).
  c.waitCount = (n, timeout = 15000) => new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`got ${c.msgs.length} of ${n} messages`)), timeout);
    const w = () => { if (c.msgs.length >= n) { clearTimeout(t); res(c.msgs); return true; } return false; };
    if (!w()) c.waiters.push(w);
  });
  return new Promise((res) => {
    ws.once('open', () => res(c));
    ws.once('unexpected-response', (req, r) => { c.status = r.statusCode; r.resume(); req.destroy(); res(c); });
    ws.once('error', (e) => { c.error = e; res(c); });
  });
}

// Resolves like `p`, or fails after `ms`: every wait here has a deadline.
function within(p, ms, what) {
  let timer;
  return Promise.race([p, new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`timeout: ${what}`)), ms); })])
    .finally(() => clearTimeout(timer));
}

// A good client gets the hello (and the greeting, if `extra`) and can close cleanly.
async function assertServes(t, extra = 0) {
  const c = await connect(t.wss, { origin: t.origin });
  assert.equal(c.status, undefined, 'upgrade refused');
  assert.equal(c.error, undefined, String(c.error));
  const msgs = await c.waitCount(1 + extra);
  assert.deepEqual(msgs[0].json, { type: 'hello', version: VERSION });
  assert.equal(msgs[0].binary, false, 'events are text messages');
  c.ws.close();
  await c.closed;
}

// The same refusals and limits apply in the daemon and in the listener alone.
function securitySuite(name, start) {
  describe(name, () => {
    let t;
    before(async () => { t = await start(); });
    after(async () => {
      if (!t) return;
      // A clean stop with clients gone: exit 0, which under ASan also means no leak.
      const { code } = await (t.quit ? t.quit() : t.stop());
      assert.equal(code, 0, `exit status\n${t.output}`);
    });

    test('a good client gets hello with the version', async () => {
      await assertServes(t);
    });

    const refusals = [
      ['a foreign Origin', () => ({ origin: 'https://evil.example' }), 403, /origin/],
      ['a null Origin', () => ({ origin: 'null' }), 403, /origin/],
      ['a missing Origin', () => ({}), 403, /origin/],
      ['the daemon origin on another port', () => ({ origin: `https://127.0.0.1:${t.wss}` }), 403, /origin/],
      ['a bad Host (DNS rebinding)', () => ({ origin: t.origin, host: `evil.example:${t.wss}` }), 421, /bad_host/],
      ['a Host with the wrong port', () => ({ origin: t.origin, host: `127.0.0.1:${t.wss + 1}` }), 421, /bad_host/],
      ['another path', () => ({ origin: t.origin, path: '/v1/other' }), 404, /not_found/],
      ['the path with a suffix', () => ({ origin: t.origin, path: '/v1/events/x' }), 404, /not_found/],
    ];
    for (const [what, opts, status, logged] of refusals) {
      test(`upgrade refused for ${what}, one log line, and still serving`, async () => {
        const from = t.mark();
        const c = await connect(t.wss, opts());
        assert.equal(c.status, status, `status for ${what}`);
        const line = (await t.waitFor(/upgrade refused[^\n]*\n/, { from }))[0];
        assert.match(line, logged);
        assert.equal(t.output.slice(from).match(/upgrade refused/g).length, 1, 'exactly one log line');
        await assertServes(t);
      });
    }

    test('a plain HTTPS request is answered 404 and is never upgraded', async () => {
      const status = await new Promise((res, rej) => {
        https.get({ host: '127.0.0.1', port: t.wss, path: '/v1/events', ca: CA(), headers: { Origin: t.origin } },
          (r) => { r.resume(); res(r.statusCode); }).on('error', rej);
      });
      assert.equal(status, 404);
      await assertServes(t);
    });

    test('TLS 1.1 is refused by the server, TLS 1.2 with AEAD works', async () => {
      const hs = (o) => new Promise((res) => {
        const s = tls.connect({ host: '127.0.0.1', port: t.wss, ca: CA(), servername: 'localhost', ...o });
        s.once('secureConnect', () => { const r = { version: s.getProtocol(), cipher: s.getCipher().name }; s.destroy(); res(r); });
        s.once('error', (e) => res({ error: e }));
      });
      const old = await hs({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
      assert.ok(old.error, 'TLS 1.1 handshake must fail');
      // The refusal comes from the server (an alert), not from the client's own policy.
      assert.match(String(old.error.code || old.error.message), /ALERT_PROTOCOL_VERSION|protocol version/i);
      const cbc = await hs({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA' });
      assert.ok(cbc.error, 'a CBC-only TLS 1.2 client must fail');
      const v12 = await hs({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
      assert.equal(v12.version, 'TLSv1.2');
      assert.match(v12.cipher, /GCM|CHACHA20/);
      const v13 = await hs({ minVersion: 'TLSv1.3' });
      assert.equal(v13.version, 'TLSv1.3');
      await assertServes(t);
    });

    test('an oversized request header is refused and the listener keeps serving', async () => {
      const c = await connect(t.wss, { origin: t.origin, opts: { headers: { Cookie: `a=${'x'.repeat(64 * 1024)}` } } });
      assert.ok(c.status >= 400 || c.error, 'a 64 KiB header must not be upgraded');
      await assertServes(t);
    });

    test('a client message over ws-max-message closes the connection with 1009', async () => {
      const c = await connect(t.wss, { origin: t.origin });
      await c.waitCount(1);
      c.ws.send('z'.repeat(5000)); // over the limit (1024 in these runs); a smaller one gets 1008
      const { code } = await within(c.closed, 10000, 'close after the oversized message');
      assert.equal(code, 1009);
      await t.waitFor(/over 1024 bytes: closing with 1009/);
      await assertServes(t);
    });

    test('many clients connect at once and all get hello', async () => {
      const cs = await Promise.all(Array.from({ length: 40 }, () => connect(t.wss, { origin: t.origin })));
      for (const c of cs) assert.equal(c.status ?? c.error, undefined);
      for (const c of cs) assert.equal((await c.waitCount(1))[0].json.type, 'hello');
      await Promise.all(cs.map((c) => { c.ws.close(); return c.closed; }));
    });
  });
}

const LIMITS = ['--ws-max-message', '1024', '--ws-max-clients', '48'];

securitySuite('WSS listener alone (ws_harness)', () => startHarness({ args: LIMITS }));
securitySuite('WSS listener in the daemon', async () => {
  const b = await startBridge({ args: LIMITS });
  // The ready line carries the real, bound port.
  assert.ok(b.wss > 0 && b.wss !== 29444);
  assert.match(b.output, new RegExp(`listening on wss://127\\.0\\.0\\.1:${b.wss}/v1/events`));
  return b;
});

test('the daemon stops cleanly on SIGTERM with WebSocket clients connected', async () => {
  const b = await startBridge();
  const cs = await Promise.all([0, 1, 2].map(() => connect(b.wss, { origin: b.origin })));
  for (const c of cs) await c.waitCount(1);
  const { code, signal } = await b.stop('SIGTERM');
  assert.equal(signal, null, b.output);
  assert.equal(code, 0, `exit status (leaks under ASan fail it)\n${b.output}`);
  for (const c of cs) await within(c.closed, 10000, 'clients see the close');
});

describe('broadcast (ws_harness)', () => {
  let t;
  const greeting = [{ type: 'card-inserted', card: { id: 'c1' } }, { no_type: true }, { type: 'reader-added', reader: 'R' }];
  before(async () => {
    t = await startHarness({ args: ['--ws-max-clients', '3'], env: { WS_HARNESS_GREETING: JSON.stringify(greeting) } });
  });
  after(async () => {
    if (!t) return;
    const { code, signal } = await t.quit();
    assert.equal(signal, null);
    assert.equal(code, 0, `harness exit (leaks under ASan fail it)\n${t.output}`);
  });

  test('hello, then the greeting messages that have a type, in order', async () => {
    const c = await connect(t.wss, { origin: t.origin });
    const msgs = await c.waitCount(3);
    assert.deepEqual(msgs.map((m) => m.json), [{ type: 'hello', version: VERSION },
      greeting[0], greeting[2]]);
    await t.waitFor(/greeting message 1 has no "type"/);
    c.ws.close();
    await c.closed;
  });

  test('a broadcast from another thread reaches every client, in order, and ws_client_count sees them', async () => {
    const cs = [];
    for (let i = 0; i < 3; i++) cs.push(await connect(t.wss, { origin: t.origin }));
    await Promise.all(cs.map((c) => c.waitCount(3)));
    assert.equal(await t.count(), 3);
    t.cmd('send {"type":"job-progress","job":"j1","done":1}');
    const from = t.mark();
    t.cmd('flood 200 100');
    await t.waitFor(/flooded/, { from });
    for (const c of cs) {
      const msgs = await c.waitCount(3 + 1 + 200);
      assert.deepEqual(msgs[3].json, { type: 'job-progress', job: 'j1', done: 1 });
      assert.deepEqual(msgs.slice(4).map((m) => m.json.i), Array.from({ length: 200 }, (_, i) => i));
    }
    // Capacity: a fourth client is refused while three are connected, accepted after one leaves.
    const extra = await connect(t.wss, { origin: t.origin });
    assert.equal(extra.status, 503);
    cs[0].ws.close();
    await cs[0].closed;
    await t.waitFor(/client disconnected \(2 connected\)/);
    const again = await connect(t.wss, { origin: t.origin });
    assert.equal(again.status, undefined);
    await again.waitCount(3);
    for (const c of [cs[1], cs[2], again]) { c.ws.close(); await c.closed; }
    await t.waitFor(/\(0 connected\)/);
    assert.equal(await t.count(), 0);
  });

  test('a broadcast is delivered at once (woken by lws_cancel_service, not by polling)', async () => {
    const c = await connect(t.wss, { origin: t.origin });
    await c.waitCount(3);
    const lat = [];
    for (let i = 0; i < 20; i++) {
      const t0 = process.hrtime.bigint();
      t.cmd(`send {"type":"ping-test","i":${i}}`);
      await c.waitCount(4 + i);
      lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    assert.deepEqual(c.msgs.slice(3).map((m) => m.json.i), Array.from({ length: 20 }, (_, i) => i));
    lat.sort((a, b) => a - b);
    // The median round trip; a poll of even 100 ms would put it near 50 ms.
    assert.ok(lat[10] < 40, `median delivery ${lat[10].toFixed(1)} ms (${lat.map((x) => x.toFixed(1)).join(' ')})`);
    c.ws.close();
    await c.closed;
  });

  test('a client that stops reading is cut off; a reading one gets everything', async () => {
    const slow = await connect(t.wss, { origin: t.origin });
    const fast = await connect(t.wss, { origin: t.origin });
    await slow.waitCount(3);
    await fast.waitCount(3);
    slow.ws._socket.pause();   // stop reading: its queue in the daemon grows
    const from = t.mark();
    let sent = 0;
    // Rounds of 100 × 64 KiB; the reader drains each round before the next, the slow one never does.
    for (let round = 0; round < 40 && !/too many messages behind/.test(t.output.slice(from)); round++) {
      const f = t.mark();
      t.cmd('flood 100 65536');
      await t.waitFor(/flooded/, { from: f });
      sent += 100;
      await fast.waitCount(3 + sent, 30000);
    }
    await t.waitFor(/closing client [^\n]*too many messages behind/, { from });
    slow.ws._socket.resume();
    const { code } = await within(slow.closed, 15000, 'the slow client cut off');
    assert.notEqual(code, 1000, 'cut off, not a normal close');
    assert.ok(sent <= 1500, `cut off after ${sent} messages`);
    const ids = fast.msgs.slice(3).map((m) => m.json.i);
    assert.equal(ids.length, sent);
    assert.ok(ids.every((v, i) => v === i % 100), 'every message, in order');
    assert.equal(await t.count(), 1);
    fast.ws.close();
    await fast.closed;
  });
});

// Sends one raw upgrade request over TLS; resolves with the status line's code (0: hung up).
function rawUpgrade(port, headerLines) {
  return new Promise((res, rej) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: CA(), servername: 'localhost' }, () => {
      s.write(['GET /v1/events HTTP/1.1', 'Upgrade: websocket', 'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', ...headerLines, '', ''].join('\r\n'));
    });
    let buf = '';
    s.on('data', (d) => { buf += d; const m = buf.match(/^HTTP\/1\.[01] (\d+)/); if (m) { s.destroy(); res(Number(m[1])); } });
    s.on('close', () => res(0));
    s.on('error', rej);
  });
}

describe('timeouts, keepalive and header edge cases (ws_harness, --conn-timeout 1)', () => {
  let t;
  before(async () => { t = await startHarness({ args: ['--conn-timeout', '1'] }); });
  after(async () => { if (t) assert.equal((await t.quit()).code, 0, t.output); });

  test('a raw upgrade with good headers is accepted (control for the cases below)', async () => {
    assert.equal(await rawUpgrade(t.wss, [`Host: 127.0.0.1:${t.wss}`, `Origin: ${t.origin}`]), 101);
  });

  test('duplicate Origin or Host headers are refused', async () => {
    const host = `Host: 127.0.0.1:${t.wss}`, origin = `Origin: ${t.origin}`;
    // Even two identical ones: there is no guessing which header counts.
    for (const lines of [[host, origin, 'Origin: https://evil.example'], [host, 'Host: evil.example', origin],
      [host, origin, origin]])
      assert.equal(await rawUpgrade(t.wss, lines), 400, lines.join(' | '));
    await assertServes(t);
  });

  test('a connection that never starts TLS is closed after the timeout', async () => {
    const start = Date.now();
    await new Promise((res, rej) => {
      const s = net.connect(t.wss, '127.0.0.1');
      s.on('close', res);
      s.on('error', rej);
      s.setTimeout(15000, () => { s.destroy(); rej(new Error('still open after 15 s')); });
    });
    assert.ok(Date.now() - start >= 900, 'closed by the timeout, not at once');
  });

  test('a TLS connection that never sends a request is closed after the timeout', async () => {
    await new Promise((res, rej) => {
      const s = tls.connect({ host: '127.0.0.1', port: t.wss, ca: CA(), servername: 'localhost' });
      s.on('close', res);
      s.on('error', () => {});
      s.setTimeout(15000, () => { s.destroy(); rej(new Error('still open after 15 s')); });
    });
    await assertServes(t);
  });

  test('an idle client is pinged and stays while it answers; one that never answers is hung up', async () => {
    const live = await connect(t.wss, { origin: t.origin });
    const deaf = await connect(t.wss, { origin: t.origin, opts: { autoPong: false } });
    let livePings = 0;
    live.ws.on('ping', () => { livePings++; });
    const { code } = await within(deaf.closed, 15000, 'hang-up of the client that never answers pings');
    assert.notEqual(code, 1000);
    await until(() => livePings >= 2, { what: 'two pings to the live client', timeout: 10000 });
    assert.equal(live.ws.readyState, WebSocket.OPEN);
    // Only the live one is left once the server has seen every hang-up (earlier tests' too).
    await until(async () => (await t.count()) === 1, { what: 'one client left' });
    live.ws.close();
    await live.closed;
  });
});

describe('start-up: addresses and errors (ws_harness)', () => {
  test('an IPv6 loopback listener ([::1]) serves with Host [::1]:PORT', async () => {
    const t = await startHarness({ args: ['--wss', '[::1]:0'] });
    assert.match(t.output, /listening on wss:\/\/\[::1\]:\d+\/v1\/events/);
    const c = await connect(t.wss, { origin: t.origin, addr: '[::1]' });
    assert.equal(c.status ?? c.error, undefined);
    assert.equal((await c.waitCount(1))[0].json.type, 'hello');
    c.ws.close();
    await c.closed;
    assert.equal((await t.quit()).code, 0);
  });

  test('an unreadable key is a TLS error, not a crash', async () => {
    const p = new Proc(join(BUILD, 'tests', 'integration', 'ws_harness'),
      ['--wss', '127.0.0.1:0', '--cert', localhostCerts().cert, '--key', '/nonexistent/key.pem']);
    assert.equal((await p.exited).code, 1);
    assert.match(p.output, /key \/nonexistent\/key\.pem: /);
    assert.match(p.output, /TLS certificate or key could not be loaded/);
  });

  test('a port in use is a bind error', async () => {
    const t = await startHarness();
    const c = localhostCerts();
    const p = new Proc(join(BUILD, 'tests', 'integration', 'ws_harness'),
      ['--wss', `127.0.0.1:${t.wss}`, '--cert', c.cert, '--key', c.key]);
    const { code } = await p.exited;
    assert.equal(code, 1);
    assert.match(p.output, /cannot listen on 127\.0\.0\.1:\d+/);
    assert.equal((await t.quit()).code, 0);
  });
});

