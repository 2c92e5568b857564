// strict_ws.test.mjs — the WSS listener held to RFC 6455 and to the HTTPS listener's request
// rules, over raw TLS sockets (bytes as written; a WebSocket library would mask, encode and
// normalise for us): Sec-WebSocket-Version other than 13 (426), unmasked client frames (1002),
// invalid UTF-8 (1007), any client message (1008; clients never send), paths that HTTPS refuses
// (//, .., needless %xx: 400 on both), and NUL, duplicated or conflicting headers (400).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import { startBridge, curl, localhostCerts } from '../lib/harness.mjs';

let br;
before(async () => { br = await startBridge(); });
after(async () => {
  if (br) {
    const { code } = await br.stop();
    assert.equal(code, 0, br.output);
    assert.doesNotMatch(br.output, /Sanitizer|runtime error/);
  }
});

const upgradeHead = ({ path = '/v1/events', version = '13', origin = br.origin, extra = [] } = {}) =>
  [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${br.wss}`, ...(origin === null ? [] : [`Origin: ${origin}`]),
    'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    `Sec-WebSocket-Version: ${version}`, ...extra].join('\r\n') + '\r\n\r\n';

// A raw TLS client on the WSS port. .status: the HTTP status of the answer; .headers: its
// header block; .closeCode: resolves with the status of the server's close frame (or 'none' if
// the connection ends without one); .send(bytes).
function open(head) {
  return new Promise((res, rej) => {
    const s = tls.connect({ host: '127.0.0.1', port: br.wss, ca: readFileSync(localhostCerts().ca), servername: 'localhost' });
    let buf = Buffer.alloc(0), answered = false, closeRes;
    const c = { send: (b) => s.write(b), end: () => s.destroy() };
    c.closeCode = new Promise((r) => { closeRes = r; });
    const frames = () => {
      for (;;) {
        if (buf.length < 2) return;
        let len = buf[1] & 0x7f, off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf.length < off + len) return;
        const op = buf[0] & 0x0f, payload = buf.subarray(off, off + len);
        buf = buf.subarray(off + len);
        if (op === 8) closeRes(payload.length >= 2 ? payload.readUInt16BE(0) : 1005);
      }
    };
    s.on('secureConnect', () => s.write(head));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!answered) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        answered = true;
        c.headers = buf.subarray(0, end).toString('latin1');
        c.status = Number(c.headers.match(/^HTTP\/1\.[01] (\d{3})/)?.[1]);
        buf = buf.subarray(end + 4);
        res(c);
      }
      frames();
    });
    s.on('close', () => { closeRes('none'); if (!answered) { c.status = 0; res(c); } });
    s.on('error', (e) => (answered ? closeRes('none') : rej(e)));
  });
}

function frame(op, payload, { mask = true } = {}) {
  payload = Buffer.from(payload);
  const len = payload.length;
  const head = Buffer.from([0x80 | op, (mask ? 0x80 : 0) | len]);
  if (!mask) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  return Buffer.concat([head, key, payload.map((b, i) => b ^ key[i % 4])]);
}

async function established() {
  const c = await open(upgradeHead());
  assert.equal(c.status, 101, c.headers);
  return c;
}

test('Sec-WebSocket-Version: only 13; others get 426 naming 13', async () => {
  await (await established()).end();
  for (const v of ['8', '12', '14', '13, 8', '']) {
    const c = await open(upgradeHead({ version: v }));
    assert.equal(c.status, 426, `${v}: ${c.headers}`);
    assert.match(c.headers, /^sec-websocket-version: 13$/mi);
    c.end();
  }
  assert.match(br.output, /upgrade refused \(426 unsupported_version\)/);
});

test('an unmasked client frame closes with 1002 (a text frame, a ping)', async () => {
  for (const [op, body] of [[1, 'hello'], [9, 'p'], [2, 'x']]) {
    const c = await established();
    c.send(frame(op, body, { mask: false }));
    assert.equal(await c.closeCode, 1002, `opcode ${op}`);
    c.end();
  }
  // Sent together with the upgrade request, before the 101.
  const c = await open(Buffer.concat([Buffer.from(upgradeHead()), frame(9, 'early', { mask: false })]));
  assert.equal(c.status, 101);
  assert.equal(await c.closeCode, 1002);
  c.end();
});

test('a text frame that is not UTF-8 closes with 1007', async () => {
  const c = await established();
  c.send(frame(1, Buffer.from([0x7b, 0xc3, 0x28, 0x7d])));
  assert.equal(await c.closeCode, 1007);
  c.end();
});

test('clients never send messages: any text or binary message closes with 1008; a masked ping is fine', async () => {
  const p = await established();
  p.send(frame(9, 'ping'));
  p.send(frame(1, JSON.stringify({ pin: '123456' })));
  assert.equal(await p.closeCode, 1008);
  p.end();
  const b = await established();
  b.send(frame(2, [1, 2, 3]));
  assert.equal(await b.closeCode, 1008);
  b.end();
  assert.ok(!br.output.includes('123456'), 'what a client sent is never logged');
});

test('paths HTTPS refuses are refused on WSS too, with the same 400 (the path as sent, not as lws rewrites it)', async () => {
  for (const path of ['/v1/%65vents', '//v1/events', '/v1/events/../events', '/v1/./events', '/v1/events%2f',
    '/v1/events\\']) {
    const c = await open(upgradeHead({ path }));
    assert.equal(c.status, 400, `${path}: ${c.headers}`);
    c.end();
    const h = await curl(`https://127.0.0.1:${br.https}${path.replace('/v1/events', '/v1/readers')}`,
      { headers: { Origin: br.origin }, args: ['--path-as-is'] });
    assert.equal(h.status, 400, `HTTPS ${path}: ${h.body}`);
    assert.equal(h.json?.error?.code, 'bad_path');
  }
  assert.match(br.output, /upgrade refused \(400 bad_path\)/);
  // %00 libwebsockets' own parser already rejects (it hangs up without an answer).
  const nul = await open(upgradeHead({ path: '/v1/events%00' }));
  assert.notEqual(nul.status, 101);
  nul.end();
  for (const path of ['/v1/event', '/v1/events/x', '/']) {
    const c = await open(upgradeHead({ path }));
    assert.equal(c.status, 404, path);
    c.end();
  }
});

test('NUL in Origin or Host, duplicated headers, Content-Length with Transfer-Encoding: 400', async () => {
  const cases = {
    'NUL in Origin': { origin: `${br.origin}\0.evil.example` },
    'control byte in Origin': { origin: `${br.origin}\x01` },
    'two Origin': { extra: ['Origin: https://evil.example'] },
    'two Host': { extra: ['Host: evil.example'] },
    'CL and TE': { extra: ['Content-Length: 5', 'Transfer-Encoding: chunked'] },
    'two Content-Length': { extra: ['Content-Length: 0', 'Content-Length: 0'] },
    'NUL in another header': { extra: ['User-Agent: a\0b'] },
  };
  for (const [what, o] of Object.entries(cases)) {
    const c = await open(upgradeHead(o));
    assert.equal(c.status, 400, `${what}: ${c.headers}`);
    c.end();
  }
  // Still serving.
  const ok = await established();
  ok.end();
});
