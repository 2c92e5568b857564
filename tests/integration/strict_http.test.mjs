// strict_http.test.mjs — the HTTPS listener's request-head rules over raw TLS sockets (node tls,
// bytes written as they are, so nothing normalises them on the way): request smuggling
// (Content-Length with Transfer-Encoding, two Content-Length), duplicated Host/Origin, NUL and
// control bytes in header values, folded lines — each 400 and the connection closed before any
// processing; Expect: 100-continue refused without "100 Continue"; the max-header limit as
// configured; no query string on a POST, and the request head wiped. Real daemon, real card.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { localhostCerts } from '../lib/harness.mjs';
import { setup, insert, PIN1 } from '../lib/bridge-rig.mjs';

let t, card, host, own;

before(async () => {
  t = await setup();
  card = await insert(t);
  host = `127.0.0.1:${t.bridge.https}`;
  own = t.bridge.origin;
});
after(async () => { if (t) await t.close(); });

// Writes `bytes` on a fresh TLS connection and collects everything until the server closes it
// (or `deadline` ms pass: then .closed is false). .statuses: every response's status in order.
function raw(bytes, { deadline = 10000, writes } = {}) {
  return new Promise((res, rej) => {
    const s = tls.connect({ host: '127.0.0.1', port: t.bridge.https, ca: readFileSync(localhostCerts().ca),
      servername: 'localhost' });
    const chunks = [];
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const statuses = [...text.matchAll(/^HTTP\/1\.[01] (\d{3})/gm)].map((m) => Number(m[1]));
      res({ text, statuses, closed });
    };
    const timer = setTimeout(() => finish(false), deadline);
    s.on('secureConnect', async () => {
      if (writes) { for (const w of writes) await w(s); } else s.write(bytes);
    });
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => finish(true));
    s.on('close', () => finish(true));
    s.on('error', (e) => (chunks.length ? finish(true) : rej(e)));
  });
}

const head = (lines) => `${lines.join('\r\n')}\r\n\r\n`;
const loginBody = JSON.stringify({ pin: PIN1 });
const loginReq = () => head([`POST /v1/cards/${card.id}/login HTTP/1.1`, `Host: ${host}`, `Origin: ${own}`,
  'Content-Type: application/json', `Content-Length: ${loginBody.length}`, 'Connection: close']) + loginBody;

async function refusedAndClosed(bytes, what) {
  const from = t.bridge.mark();
  const r = await raw(bytes);
  assert.deepEqual(r.statuses, [400], `${what}: exactly one answer, 400\n${r.text}`);
  assert.ok(r.closed, `${what}: the connection must be closed`);
  assert.match(r.text, /"code":"bad_request"/, what);
  assert.doesNotMatch(t.bridge.output.slice(from), /logged in/, `${what}: nothing processed`);
  return r;
}

test('positive control: the same raw login, unsmuggled, logs in (so the refusals below are real)', async () => {
  const from = t.bridge.mark();
  const r = await raw(loginReq());
  assert.equal(r.statuses[0], 200, r.text);
  await t.bridge.waitFor(/logged in/, { from });
});

test('smuggling: GET /health with Content-Length and chunked hiding a POST …/login is refused, nothing logs in', async () => {
  const hidden = loginReq();
  const smuggle = head(['GET /health HTTP/1.1', `Host: ${host}`, `Content-Length: ${5 + hidden.length}`,
    'Transfer-Encoding: chunked']) + '0\r\n\r\n' + hidden;
  await refusedAndClosed(smuggle, 'CL + TE');
  // The same with the headers the other way round, and with a POST.
  await refusedAndClosed(head(['GET /health HTTP/1.1', `Host: ${host}`, 'Transfer-Encoding: chunked',
    'Content-Length: 5']) + '0\r\n\r\n' + hidden, 'TE + CL');
});

test('two Content-Length (even equal), two Host, two Origin, two Transfer-Encoding: 400 and closed', async () => {
  const body = '{"pin":"1"}';
  await refusedAndClosed(head([`POST /v1/cards/${card.id}/login HTTP/1.1`, `Host: ${host}`, `Origin: ${own}`,
    'Content-Type: application/json', 'Content-Length: 2', `Content-Length: ${body.length}`]) + body, 'two CL');
  await refusedAndClosed(head(['GET /health HTTP/1.1', `Host: ${host}`, 'Content-Length: 0', 'Content-Length: 0']), 'equal CLs');
  await refusedAndClosed(head(['GET /health HTTP/1.1', `Host: ${host}`, 'Host: evil.example']), 'two Host');
  await refusedAndClosed(head(['GET /v1/readers HTTP/1.1', `Host: ${host}`, `Origin: ${own}`,
    'Origin: https://evil.example']), 'two Origin');
  await refusedAndClosed(head(['POST /v1/cards/x/login HTTP/1.1', `Host: ${host}`, `Origin: ${own}`,
    'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked']) + '0\r\n\r\n', 'two TE');
  await refusedAndClosed(head(['POST /v1/cards/x/login HTTP/1.1', `Host: ${host}`, `Origin: ${own}`,
    'Transfer-Encoding: gzip, chunked']) + '0\r\n\r\n', 'TE not chunked');
});

test('NUL or control bytes in a header value, a folded line, a name with a space: 400 and closed', async () => {
  const cases = {
    'NUL in Origin': `Origin: ${own}\0.evil.example`,
    'NUL in Host': null, // built below: Host itself carries the NUL
    'NUL in another header': 'X-Note: a\0b',
    'control byte in a value': 'X-Note: a\x01b',
    'bare CR in a value': 'X-Note: a\rb',
    'DEL in a value': 'X-Note: a\x7fb',
    'folded Origin': `Origin: ${own}\r\n .evil.example`,
    'space before the colon': 'Origin : https://evil.example',
  };
  for (const [what, line] of Object.entries(cases)) {
    const lines = ['GET /v1/readers HTTP/1.1', line === null ? `Host: ${host}\0.evil.example` : `Host: ${host}`];
    if (line !== null) lines.push(line);
    await refusedAndClosed(head(lines), what);
  }
  // A NUL in the path is refused too (it would cut the path libmicrohttpd reports).
  await refusedAndClosed(head([`GET /health\0/../x HTTP/1.1`, `Host: ${host}`]), 'NUL in the path');
  // The daemon still serves an ordinary request after all that.
  const ok = await raw(head(['GET /health HTTP/1.1', `Host: ${host}`, 'Connection: close']));
  assert.deepEqual(ok.statuses, [200], ok.text);
});

test('Expect: 100-continue with a foreign Origin: 403 at once, never "100 Continue"', async () => {
  const r = await raw(null, { writes: [(s) => s.write(head([`POST /v1/cards/${card.id}/login HTTP/1.1`, `Host: ${host}`,
    'Origin: https://evil.example', 'Content-Type: application/json', `Content-Length: ${loginBody.length}`,
    'Expect: 100-continue']))] });
  assert.deepEqual(r.statuses, [403], r.text);
  assert.doesNotMatch(r.text, /100 Continue/);
  // An allowed request still gets its "100 Continue", then the answer.
  const ok = await raw(null, { writes: [(s) => new Promise((done) => {
    s.write(head([`POST /v1/cards/${card.id}/logout HTTP/1.1`, `Host: ${host}`, `Origin: ${own}`,
      'Content-Type: application/json', 'Content-Length: 2', 'Expect: 100-continue', 'Connection: close']));
    s.once('data', () => { s.write('{}'); done(); });
  })] });
  assert.equal(ok.statuses[0], 100, ok.text);
  assert.ok(ok.statuses.length === 2 && ok.statuses[1] >= 400, ok.text);
});

test('max-header is the limit: 400 headers of 9 bytes and a 16000-byte head pass, 16385 bytes get 431', async () => {
  const many = [];
  for (let i = 0; i < 400; i++) many.push(`X${String(i).padStart(3, '0')}: ab`);
  const r = await raw(head(['GET /health HTTP/1.1', `Host: ${host}`, ...many, 'Connection: close']));
  assert.deepEqual(r.statuses, [200], r.text.slice(0, 300));
  const line = (n) => head(['GET /health HTTP/1.1', `Host: ${host}`, 'Connection: close', `X-Pad: ${'p'.repeat(n)}`]);
  const base = line(0).length;
  const fits = await raw(line(16384 - base));
  assert.equal(line(16384 - base).length, 16384);
  assert.deepEqual(fits.statuses, [200], fits.text.slice(0, 300));
  const over = await raw(line(16385 - base));
  assert.deepEqual(over.statuses, [431], over.text.slice(0, 300));
});

test('a query string on a POST is refused (a PIN in a URL is never acted on)', async () => {
  const from = t.bridge.mark();
  const r = await raw(head([`POST /v1/cards/${card.id}/login?pin=${PIN1} HTTP/1.1`, `Host: ${host}`, `Origin: ${own}`,
    'Content-Type: application/json', `Content-Length: ${loginBody.length}`, 'Connection: close']) + loginBody);
  assert.deepEqual(r.statuses, [400], r.text);
  assert.match(r.text, /"code":"query_not_allowed"/);
  assert.doesNotMatch(t.bridge.output.slice(from), /logged in/);
  assert.ok(!t.bridge.output.includes(`pin=${PIN1}`), 'the query is never logged');
  for (const q of ['?', '?a', '?&']) {
    const e = await raw(head([`POST /v1/cards/${card.id}/logout${q} HTTP/1.1`, `Host: ${host}`, `Origin: ${own}`,
      'Content-Length: 0', 'Connection: close']));
    assert.deepEqual(e.statuses, [400], `${q}: ${e.text}`);
  }
  // GET of a static file with a query string is still served (browsers add them).
  const g = await raw(head(['GET /?v=1 HTTP/1.1', `Host: ${host}`, 'Connection: close']));
  assert.deepEqual(g.statuses, [200], g.text.slice(0, 200));
});
