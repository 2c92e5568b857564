// http.test.mjs — the HTTPS listener of the real daemon over real TLS (curl, openssl s_client,
// node tls): /health, every refusal of the request pipeline (Host 421, Origin 403, CORS preflight, 404/405/
// 413/415/400, traversal, symlinks), security headers, TLS versions and ciphers, the slowloris
// deadline, the config file, loopback-only startup, clean exit on SIGTERM/SIGINT.
// After every bad request the daemon must still answer /health.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, symlinkSync, readFileSync } from 'node:fs';
import tls from 'node:tls';
import { startBridge, curl, localhostCerts, tmp, bin, Proc, until, freePort, SRC } from '../lib/harness.mjs';

let br;        // the daemon most tests talk to, on a temp copy of a www dir we control
let www;
let outside;   // a directory next to www holding a "secret" a symlink points at

function makeWww() {
  const base = tmp('www-');
  const w = join(base, 'www');
  outside = join(base, 'outside');
  mkdirSync(w); mkdirSync(outside); mkdirSync(join(w, 'sub')); mkdirSync(join(w, '.git'));
  writeFileSync(join(w, 'index.html'), '<!doctype html><title>t</title><p>index-marker</p>\n');
  writeFileSync(join(w, 'a.js'), 'export const js = 1;\n');
  writeFileSync(join(w, 'a.css'), 'body{}\n');
  writeFileSync(join(w, 'a.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>\n');
  writeFileSync(join(w, 'a.png'), Buffer.from('89504e470d0a1a0a', 'hex'));
  writeFileSync(join(w, 'a.ico'), Buffer.from([0, 0, 1, 0]));
  writeFileSync(join(w, 'a.json'), '{"ok":true}\n');
  writeFileSync(join(w, 'a.woff2'), 'wOF2');
  writeFileSync(join(w, 'ok.txt'), 'plain-marker\n');
  writeFileSync(join(w, 'a.sh'), 'echo no\n');
  writeFileSync(join(w, 'sub', 'page.txt'), 'sub-marker\n');
  writeFileSync(join(w, 'sub', 'm.js'), 'export const m = 1;\n');
  writeFileSync(join(w, '.git', 'config.txt'), 'hidden-marker\n');
  writeFileSync(join(outside, 'secret.txt'), 'SECRET-OUTSIDE\n');
  symlinkSync(join(outside, 'secret.txt'), join(w, 'leak.txt'));      // file symlink out of www
  symlinkSync(outside, join(w, 'outdir'));                           // directory symlink out of www
  symlinkSync('ok.txt', join(w, 'inner.txt'));                       // even inside www: refused
  return w;
}

before(async () => {
  www = makeWww();
  br = await startBridge({ args: ['--www', www, '--allow-origin', 'https://portal.example:8443'] });
});
after(async () => {
  if (br) {
    const { code } = await br.stop();
    assert.equal(code, 0, br.output);
  }
});

const own = () => br.origin;
const json = { 'Content-Type': 'application/json' };

async function alive(b = br) {
  const r = await curl(b.url('/health'));
  assert.equal(r.status, 200, `daemon must still answer /health\n${b.output}`);
}

function assertError(r, status, code) {
  assert.equal(r.status, status, r.body);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.json?.error?.code, code, r.body);
  assert.equal(typeof r.json.error.message, 'string');
}

function assertSecurityHeaders(r, { api }) {
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  assert.equal(r.headers['referrer-policy'], 'no-referrer');
  const csp = r.headers['content-security-policy'] || '';
  for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
    "base-uri 'none'", "form-action 'none'", `wss://127.0.0.1:${br.wss}`, `wss://localhost:${br.wss}`])
    assert.ok(csp.includes(d), `CSP lacks ${d}: ${csp}`);
  assert.ok(!/unsafe-inline|unsafe-eval/.test(csp), csp);
  if (api) assert.equal(r.headers['cache-control'], 'no-store');
}

describe('health and headers', () => {
  test('GET /health: 200 JSON with status, version, uptime, listeners, pcsc; no Origin needed', async () => {
    const r = await curl(br.url('/health'));
    assert.equal(r.status, 200, r.body);
    assert.ok(['ok', 'degraded'].includes(r.json.status), r.body);
    assert.match(r.json.version, /^\d+\.\d+\.\d+/);
    assert.equal(typeof r.json.uptime_s, 'number');
    assert.equal(r.json.listeners.https, `127.0.0.1:${br.https}`);
    assert.equal(r.json.listeners.wss, `127.0.0.1:${br.wss}`);
    assert.equal(typeof r.json.pcsc.reachable, 'boolean');
    // Without a reachable pcscd the daemon says so.
    if (!r.json.pcsc.reachable) assert.equal(r.json.status, 'degraded');
    assertSecurityHeaders(r, { api: true });
  });

  test('security headers on the page, on API answers and on refusals', async () => {
    const page = await curl(br.url('/'));
    assert.equal(page.status, 200);
    assert.ok(page.body.includes('index-marker'));
    assertSecurityHeaders(page, { api: false });
    const api = await curl(br.url('/v1/cards'), { headers: { Origin: own() } });
    assertSecurityHeaders(api, { api: true });
    const refused = await curl(br.url('/v1/cards'), { headers: { Origin: 'https://evil.example' } });
    assert.equal(refused.status, 403);
    assertSecurityHeaders(refused, { api: true });
  });

  test('Content-Type per extension; unknown types, directories and hidden files are not served', async () => {
    const want = { '/': 'text/html', '/index.html': 'text/html', '/a.js': 'text/javascript',
      '/a.css': 'text/css', '/a.svg': 'image/svg+xml', '/a.png': 'image/png', '/a.ico': 'image/x-icon',
      '/a.json': 'application/json', '/a.woff2': 'font/woff2', '/sub/page.txt': 'text/plain' };
    for (const [p, type] of Object.entries(want)) {
      const r = await curl(br.url(p));
      assert.equal(r.status, 200, `${p}: ${r.body}`);
      assert.equal(r.headers['content-type'].split(';')[0], type, p);
    }
    const head = await curl(br.url('/a.js'), { method: 'HEAD', args: ['-I'] });
    assert.equal(head.status, 200);
    for (const p of ['/a.sh', '/sub', '/sub/', '/.git/config.txt', '/nope.html']) {
      const r = await curl(br.url(p));
      assertError(r, 404, 'not_found');
      assert.ok(!r.body.includes('marker'), r.body);
    }
    await alive();
  });
});

describe('Host (DNS rebinding)', () => {
  test('Host must be 127.0.0.1, localhost or [::1] with the listener port: else 421, nothing done', async () => {
    const P = br.https;
    for (const h of ['127.0.0.1', 'localhost', 'LOCALHOST', '[::1]'])
      assert.equal((await curl(br.url('/health'), { headers: { Host: `${h}:${P}` } })).status, 200, h);
    const bad = [`evil.example:${P}`, `127.0.0.1:${P + 1}`, `localhost:0${P}`, `localhost.:${P}`,
      `user@localhost:${P}`, '127.0.0.1', `127.0.0.2:${P}`, `[::1]:${P + 1}`, `localhost:${P}.evil.example`];
    for (const h of bad) {
      const r = await curl(br.url('/health'), { headers: { Host: h } });
      assertError(r, 421, 'bad_host');
      assert.ok(!r.body.includes('evil'), 'the refusal must not echo the Host');
    }
    // "nothing done": a POST with a bad Host is refused before Origin, Content-Type and body checks.
    const r = await curl(br.url('/v1/cards/x/login'),
      { method: 'POST', headers: { Host: `evil.example:${P}`, 'Content-Type': 'text/plain' }, data: 'x'.repeat(100000) });
    assertError(r, 421, 'bad_host');
    assert.match(br.output, /refused 421 bad_host/);
    await alive();
  });
});

describe('Origin and CORS', () => {
  test('foreign, null and missing Origin are refused with 403 before any work', async () => {
    const cases = [
      ['GET', '/v1/cards', 'https://evil.example', 'origin_not_allowed'],
      ['GET', '/v1/cards', 'null', 'origin_not_allowed'],
      ['GET', '/v1/cards', undefined, 'origin_required'],
      ['GET', '/v1/readers', `http://127.0.0.1:${br.https}`, 'origin_not_allowed'],  // scheme mismatch
      ['GET', '/v1/readers', `https://127.0.0.1:${br.https + 1}`, 'origin_not_allowed'], // port mismatch
      ['GET', '/v1/readers', `https://127.0.0.1:${br.https}/`, 'origin_not_allowed'],
      ['GET', '/', 'https://evil.example', 'origin_not_allowed'],  // static GET: optional, not any
      ['GET', '/health', 'null', 'origin_not_allowed'],
    ];
    for (const [method, p, origin, code] of cases) {
      const r = await curl(br.url(p), { method, headers: origin ? { Origin: origin } : {} });
      assertError(r, 403, code);
      assert.equal(r.headers['access-control-allow-origin'], undefined);
    }
    // POST: refused on Origin before Content-Type (415), body size (413) and JSON (400).
    for (const origin of ['https://evil.example', 'null', undefined]) {
      const r = await curl(br.url('/v1/cards/x/login'), { method: 'POST',
        headers: { ...(origin ? { Origin: origin } : {}), 'Content-Type': 'text/plain' }, data: '{bad' });
      assert.equal(r.status, 403, `${origin}: ${r.body}`);
    }
    await alive();
  });

  test('a same-origin browser read without Origin (Sec-Fetch-Site: same-origin) is served; nothing else is', async () => {
    const ok = await curl(br.url('/v1/readers'), { headers: { 'Sec-Fetch-Site': 'same-origin' } });
    assert.equal(ok.status, 200, ok.body);
    for (const site of ['cross-site', 'same-site', 'none']) {
      const r = await curl(br.url('/v1/readers'), { headers: { 'Sec-Fetch-Site': site } });
      assertError(r, 403, 'origin_required');
    }
    // The header never replaces a bad Origin, and never stands in for Origin on a POST.
    const foreign = await curl(br.url('/v1/readers'),
      { headers: { 'Sec-Fetch-Site': 'same-origin', Origin: 'https://evil.example' } });
    assertError(foreign, 403, 'origin_not_allowed');
    const post = await curl(br.url('/v1/cards/x/login'), { method: 'POST',
      headers: { 'Sec-Fetch-Site': 'same-origin', 'Content-Type': 'application/json' }, data: '{}' });
    assertError(post, 403, 'origin_required');
    await alive();
  });

  test('allowed origins (own, localhost, --allow-origin) are echoed with Vary: Origin', async () => {
    for (const o of [own(), `https://localhost:${br.https}`, 'https://portal.example:8443', 'HTTPS://LOCALHOST:' + br.https]) {
      const r = await curl(br.url('/v1/cards'), { headers: { Origin: o } });
      assert.notEqual(r.status, 403, `${o}: ${r.body}`);
      assert.equal(r.headers['access-control-allow-origin'], o);
      assert.match(r.headers.vary, /Origin/);
    }
  });

  // A portal imports the client module cross-origin (a module script is a CORS request): the
  // module and the page's files get CORS for allowlisted origins only (docs/portal.md).
  test('static files (a module, a page file, a nested one) are served with CORS to allowed origins only', async () => {
    for (const p of ['/a.js', '/a.css', '/sub/m.js']) {
      for (const o of ['https://portal.example:8443', own()]) {
        const r = await curl(br.url(p), { headers: { Origin: o } });
        assert.equal(r.status, 200, `${p} ${o}: ${r.body}`);
        assert.equal(r.headers['access-control-allow-origin'], o);
        assert.match(r.headers.vary, /Origin/);
      }
      for (const o of ['https://evil.example', 'https://portal.example', 'https://portal.example:8443.evil.example', 'null']) {
        const r = await curl(br.url(p), { headers: { Origin: o } });
        assertError(r, 403, 'origin_not_allowed');
        assert.equal(r.headers['access-control-allow-origin'], undefined, `${p} ${o}`);
      }
      // Without Origin (a plain navigation): served, and no CORS header to anyone.
      const plain = await curl(br.url(p));
      assert.equal(plain.status, 200);
      assert.equal(plain.headers['access-control-allow-origin'], undefined);
    }
    await alive();
  });

  test('OPTIONS preflight: 204 for allowed origins with methods; 403 for others; 404 unknown path', async () => {
    const pre = (o, p = '/v1/cards/abc/login') => curl(br.url(p), { method: 'OPTIONS',
      headers: { ...(o ? { Origin: o } : {}), 'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type' } });
    for (const o of [own(), 'https://portal.example:8443']) {
      const r = await pre(o);
      assert.equal(r.status, 204, r.body);
      assert.equal(r.headers['access-control-allow-origin'], o);
      assert.match(r.headers['access-control-allow-methods'], /POST/);
      assert.match(r.headers['access-control-allow-headers'], /Content-Type/i);
      assert.match(r.headers.vary, /Origin/);
    }
    for (const o of ['https://evil.example', 'null', undefined]) {
      const r = await pre(o);
      assert.equal(r.status, 403, r.body);
      assert.equal(r.headers['access-control-allow-origin'], undefined);
    }
    assertError(await pre(own(), '/v1/nothing'), 404, 'not_found');
    await alive();
  });
});

describe('routing and request bodies', () => {
  const post = (data, headers = json, p = '/v1/cards/nocard/login') =>
    curl(br.url(p), { method: 'POST', headers: { Origin: own(), ...headers }, data });

  test('404 unknown path, 405 wrong method with Allow', async () => {
    assertError(await curl(br.url('/v1/nope'), { headers: { Origin: own() } }), 404, 'not_found');
    assertError(await curl(br.url('/v1/cards/a/b/c'), { headers: { Origin: own() } }), 404, 'not_found');
    let r = await curl(br.url('/v1/cards'), { method: 'DELETE', headers: { Origin: own() } });
    assertError(r, 405, 'method_not_allowed');
    assert.equal(r.headers.allow, 'GET');
    r = await curl(br.url('/v1/cards/x/login'), { headers: { Origin: own() } });
    assertError(r, 405, 'method_not_allowed');
    assert.equal(r.headers.allow, 'POST');
    r = await curl(br.url('/index.html'), { method: 'POST', headers: { Origin: own(), ...json }, data: '{}' });
    assertError(r, 405, 'method_not_allowed');
    assert.match(r.headers.allow, /GET/);
    await alive();
  });

  test('POST needs Content-Type: application/json (415)', async () => {
    assertError(await post('{}', { 'Content-Type': 'text/plain' }), 415, 'unsupported_media_type');
    assertError(await post('{}', { 'Content-Type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
    assertError(await post('{}', { 'Content-Type': 'application/jsonp' }), 415, 'unsupported_media_type');
    assertError(await post('{}', { 'Content-Type': '' }), 415, 'unsupported_media_type');
    // With parameters it is still JSON, and reaches the handler.
    assertError(await post('{}', { 'Content-Type': 'application/json; charset=utf-8' }), 404, 'card_not_found');
    await alive();
  });

  test('body over the limit: 413 from Content-Length and while streaming (chunked)', async () => {
    const big = JSON.stringify({ pin: 'x'.repeat(100 * 1024) });
    assertError(await post(big), 413, 'body_too_large');
    const r = await post(big, { ...json, 'Transfer-Encoding': 'chunked' });
    assertError(r, 413, 'body_too_large');
    // Far over the limit (curl then asks "Expect: 100-continue"): refused without reading it.
    const f = join(tmp('big-'), 'big.json');
    writeFileSync(f, JSON.stringify({ pin: 'x'.repeat(3 << 20) }));
    const huge = await curl(br.url('/v1/cards/nocard/login'), { method: 'POST',
      headers: { Origin: own(), ...json }, args: ['--data-binary', `@${f}`] });
    assertError(huge, 413, 'body_too_large');
    // Just under the limit is fine.
    assertError(await post(JSON.stringify({ pin: 'x'.repeat(60 * 1024) })), 404, 'card_not_found');
    await alive();
  });

  test('bad JSON: 400 bad_json without echoing the body', async () => {
    for (const body of ['{bad', '[1,2]', '"str"', '{"a":1,"a":2}', '{"x":"<script>alert(1)</script>"', '{"a":1} trailing']) {
      const r = await post(body);
      assertError(r, 400, 'bad_json');
      assert.ok(!r.body.includes('script') && !r.body.includes('alert'), r.body);
    }
    // Well-formed JSON passes every check and reaches the handler.
    assertError(await post('{"pin":"123456"}'), 404, 'card_not_found');
    assert.ok(!br.output.includes('123456'), 'a PIN in a body must never be logged');
    // Nor a bearer token, whether the request is refused or served.
    const token = 'tok-7d1e0c9b-never-logged';
    await post('{bad', { ...json, Authorization: `Bearer ${token}` });
    await curl(br.url('/v1/cards'), { headers: { Origin: own(), Authorization: `Bearer ${token}` } });
    await curl(br.url('/v1/cards'), { headers: { Origin: 'https://evil.example', Authorization: `Bearer ${token}` } });
    assert.ok(!br.output.includes(token), 'a bearer token must never be logged');
    await alive();
  });

  test('captures are validated: odd characters in {id} do not match', async () => {
    for (const id of ['a%20b', '%3Cx%3E', 'a%2Fb', '..']) {
      const r = await curl(br.url(`/v1/cards/${id}`), { headers: { Origin: own() }, args: ['--path-as-is'] });
      assert.ok([400, 404].includes(r.status), `${id}: ${r.status} ${r.body}`);
      assert.ok(!r.body.includes('<x>'));
    }
    await alive();
  });
});

describe('static files: traversal and symlinks', () => {
  const get = (p) => curl(br.url(p), { args: ['--path-as-is'] });

  test('traversal attempts are refused (raw, encoded, NUL, backslash)', async () => {
    const attempts = ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
      '/..%2f..%2fetc%2fpasswd', '/sub/../../outside/secret.txt', '/index.html%00.png', '/%5c..%5c..%5cetc%5cpasswd',
      '/sub\\..\\..\\etc\\passwd', '/./index.html', '//etc/passwd', '/%', '/%zz', '/a%0a.txt'];
    for (const p of attempts) {
      const r = await get(p);
      assert.ok(r.status === 400 || r.status === 404, `${p}: ${r.status}`);
      assert.ok(!/root:|SECRET/.test(r.body), `${p} leaked: ${r.body}`);
      assert.equal(r.json?.error?.code, r.status === 400 ? 'bad_path' : 'not_found', `${p}: ${r.body}`);
    }
    // Decoding happens once: a double-encoded dot segment is just a (missing) file name.
    assertError(await get('/%252e%252e/etc/passwd'), 404, 'not_found');
    await alive();
  });

  test('no symlink is followed: out of www (file, directory) nor inside it', async () => {
    assert.equal((await get('/ok.txt')).status, 200, 'the same type is served from a real file');
    for (const p of ['/leak.txt', '/outdir/secret.txt', '/inner.txt']) {
      const r = await get(p);
      assertError(r, 404, 'not_found');
      assert.ok(!r.body.includes('SECRET') && !r.body.includes('plain-marker'), r.body);
    }
    assert.match(br.output, /symlink refused/);
    await alive();
  });
});

// ---- TLS ----

function sClient(port, args) {
  return new Promise((res) => {
    const c = localhostCerts();
    const p = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost',
      '-CAfile', c.ca, ...args], { timeout: 15000 }, (err, stdout, stderr) =>
      res({ ok: !err && /Verify return code: 0/.test(stdout) && !/Cipher is \(NONE\)/.test(stdout), out: stdout + stderr }));
    p.stdin.on('error', () => {}); // s_client may be gone already when the daemon refused
    p.stdin.end('Q\n');
  });
}

// A control server that does accept the old protocol, to prove the client can speak it: otherwise a
// refusal would say nothing about the daemon.
async function controlServer(args) {
  const c = localhostCerts();
  const port = await freePort();
  const s = new Proc('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', c.cert, '-key', c.key,
    '-naccept', '1', '-www', ...args]);
  await s.waitFor(/ACCEPT/);
  return { s, port };
}

describe('TLS', () => {
  test('TLS 1.0 and 1.1 are refused (a control server proves the client can speak them)', async () => {
    const weak = ['-cipher', 'DEFAULT@SECLEVEL=0'];
    for (const v of ['-tls1_1', '-tls1']) {
      const ctl = await controlServer([v, ...weak]);
      const c = await sClient(ctl.port, [v, ...weak]);
      await ctl.s.stop();
      assert.ok(c.ok, `control ${v} handshake failed: ${c.out}`);
      const mark = br.mark();
      const r = await sClient(br.https, [v, ...weak]);
      assert.ok(!r.ok, `daemon accepted ${v}: ${r.out}`);
      await br.waitFor(/refused by libmicrohttpd: .*handshake/, { from: mark });
    }
    const r = await curl(br.url('/health'), { args: ['--tlsv1.0', '--tls-max', '1.1', '--ciphers', 'DEFAULT@SECLEVEL=0'] })
      .catch((e) => ({ status: 0, err: e }));
    assert.equal(r.status, 0);
    await alive();
  });

  test('TLS 1.2 and 1.3 are accepted; TLS 1.2 only with AEAD ciphers', async () => {
    for (const v of [['--tlsv1.2', '--tls-max', '1.2'], ['--tlsv1.3', '--tls-max', '1.3']])
      assert.equal((await curl(br.url('/health'), { args: v })).status, 200, v.join(' '));
    assert.ok((await sClient(br.https, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256'])).ok);
    const cbc = ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384'];
    const ctl = await controlServer(cbc);
    const c = await sClient(ctl.port, cbc);
    await ctl.s.stop();
    assert.ok(c.ok, `control CBC handshake failed: ${c.out}`);
    assert.ok(!(await sClient(br.https, cbc)).ok, 'daemon accepted a CBC cipher');
    await alive();
  });
});

// ---- limits, configuration, lifecycle: their own daemons ----

function configFile(lines) {
  const f = join(tmp('conf-'), 'siths-bridge.conf');
  writeFileSync(f, ['# test config', ...lines, ''].join('\n'));
  return f;
}

describe('limits and config file', () => {
  test('slowloris: a request whose headers trickle in is cut at the timeout; normal requests work', async () => {
    const b = await startBridge({ args: ['--config', configFile(['conn-timeout = 2', 'max-body = 200'])] });
    try {
      const c = localhostCerts();
      const sock = tls.connect({ host: '127.0.0.1', port: b.https, servername: 'localhost', ca: readFileSync(c.ca) });
      await new Promise((res, rej) => { sock.once('secureConnect', res); sock.once('error', rej); });
      const t0 = Date.now();
      let closedAt = 0;
      const closed = new Promise((res) => sock.once('close', () => { closedAt = Date.now(); res(); }));
      sock.on('error', () => {});
      sock.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${b.https}\r\n`);
      // A header line every 400 ms keeps the connection active, so only a deadline can end it.
      let n = 0;
      const timer = setInterval(() => { if (!sock.destroyed) sock.write(`X-Slow-${n++}: a\r\n`); }, 400);
      await Promise.race([closed, new Promise((r) => setTimeout(r, 12000))]);
      clearInterval(timer);
      assert.ok(closedAt, 'the slow connection was not closed');
      const took = closedAt - t0;
      assert.ok(took >= 1500 && took < 6000, `closed after ${took} ms`);
      await b.waitFor(/refused 408 request_timeout/);
      // max-body from the file applies.
      const r = await curl(b.url('/v1/cards/x/login'), { method: 'POST',
        headers: { Origin: b.origin, ...json }, data: JSON.stringify({ pin: 'x'.repeat(300) }) });
      assertError(r, 413, 'body_too_large');
      await alive(b);
    } finally {
      assert.equal((await b.stop()).code, 0, b.output);
    }
  });

  test('header size limit: an oversized header is refused, the daemon lives on', async () => {
    // The default limit is 16 KiB of request header (max-header).
    const r = await curl(br.url('/health'), { headers: { 'X-Big': 'a'.repeat(20 * 1024) } });
    assert.equal(r.status, 431);
    // The daemon measures the head itself (max-header exactly); far beyond it libmicrohttpd's
    // own buffer refuses first, also with 431.
    await br.waitFor(/refused 431 header_too_large/);
    const huge = await curl(br.url('/health'), { headers: { 'X-Big': 'a'.repeat(100 * 1024) } });
    assert.equal(huge.status, 431);
    const ok = await curl(br.url('/health'), { headers: { 'X-Big': 'a'.repeat(8 * 1024) } });
    assert.equal(ok.status, 200);
    await alive();
  });

  test('per-address connection limit from the config file', async () => {
    const b = await startBridge({ args: ['--config', configFile(['max-per-ip = 2', 'allow-origin = https://a.example'])] });
    const socks = [];
    try {
      const c = localhostCerts();
      const open = () => new Promise((res) => {
        const s = tls.connect({ host: '127.0.0.1', port: b.https, servername: 'localhost', ca: readFileSync(c.ca) });
        socks.push(s);
        s.once('secureConnect', () => res('ok'));
        s.once('error', () => res('refused'));
        s.once('close', () => res('refused'));
      });
      assert.equal(await open(), 'ok');
      assert.equal(await open(), 'ok');
      assert.equal(await open(), 'refused');
      for (const s of socks) s.destroy();
      // allow-origin from the file is on the allowlist.
      await until(async () => (await curl(b.url('/v1/cards'), { headers: { Origin: 'https://a.example' } }))
        .headers['access-control-allow-origin'] === 'https://a.example', { what: 'allow-origin from file' });
    } finally {
      for (const s of socks) s.destroy();
      assert.equal((await b.stop()).code, 0, b.output);
    }
  });
});

function run(args) {
  return new Promise((res) => {
    const p = spawn(bin('siths-bridge'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('exit', (code) => res({ code, out }));
  });
}

describe('command line and lifecycle', () => {
  test('refuses non-loopback addresses and bad values with exit 2; --help, --version exit 0', async () => {
    for (const a of [['--https', '0.0.0.0:0'], ['--wss', '192.168.1.10:29444'], ['--https', '[::]:0'],
      ['--https', 'example.com:1']]) {
      const r = await run(a);
      assert.equal(r.code, 2, `${a.join(' ')}: ${r.out}`);
      assert.match(r.out, /loopback|127\.0\.0\.1/);
    }
    for (const a of [['--https', '127.0.0.1:99999'], ['--log-level', 'loud'], ['--max-body', '-1'], ['--nope'],
      ['--allow-origin', '*'], ['--allow-origin', 'https://x.example/path'], ['--config', '/nonexistent/file'],
      ['--config', configFile(['bogus-key = 1'])], ['--config', configFile(['https = 10.0.0.1:1'])],
      ['--https', '127.0.0.1:0', '--cert', '/x.pem', '--key', '/x.key']]) { // --www missing
      const r = await run(a);
      assert.equal(r.code, 2, `${a.join(' ')}: ${r.out}`);
      assert.ok(r.out.trim().split('\n').length <= 2, r.out);
    }
    const h = await run(['--help']);
    assert.equal(h.code, 0);
    for (const o of ['--https', '--wss', '--cert', '--key', '--www', '--allow-origin', '--config', '--log-level'])
      assert.ok(h.out.includes(o), o);
    const v = await run(['--version']);
    assert.equal(v.code, 0);
    assert.match(v.out, /siths-bridge \d+\.\d+\.\d+/);
  });

  test('the command line overrides the config file', async () => {
    const b = await startBridge({ args: ['--config', configFile(['https = 127.0.0.1:1', 'max-body = 100'])] });
    try {
      // startBridge puts --https 127.0.0.1:0 before the config, yet the file must not win.
      assert.notEqual(b.https, 1);
      await alive(b);
    } finally {
      assert.equal((await b.stop()).code, 0, b.output);
    }
  });

  test('listens on [::1] when asked; Host [::1]:PORT and its origin are accepted there', async () => {
    const b = await startBridge({ args: ['--https', '[::1]:0', '--wss', '[::1]:0'] });
    try {
      assert.match(b.output, /ready https=\[::1\]:\d+ wss=\[::1\]:\d+/);
      const url = `https://[::1]:${b.https}/v1/cards`;
      const r = await curl(url, { headers: { Origin: `https://[::1]:${b.https}` } });
      assert.equal(r.status, 200, r.body);
      assert.ok(r.headers['content-security-policy'].includes(`wss://[::1]:${b.wss}`));
      // ...and only there: Chromium rejects IPv6 CSP sources, so the IPv4 daemon does not list one.
      assert.ok(!(await curl(br.url('/health'))).headers['content-security-policy'].includes('[::1]'));
      // Nothing listens on IPv4 for this daemon.
      const v4 = await curl(`https://127.0.0.1:${b.https}/health`).catch(() => ({ status: 0 }));
      assert.equal(v4.status, 0);
    } finally {
      assert.equal((await b.stop()).code, 0, b.output);
    }
  });

  test('SIGINT and SIGTERM stop the daemon cleanly with exit 0', async () => {
    for (const sig of ['SIGINT', 'SIGTERM']) {
      const b = await startBridge();
      await alive(b);
      const { code, signal } = await b.stop(sig);
      assert.equal(signal, null, b.output);
      assert.equal(code, 0, b.output);
      assert.match(b.output, /stopping on SIG/);
    }
  });
});
