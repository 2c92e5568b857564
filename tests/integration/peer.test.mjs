// peer.test.mjs — only the daemon's own user (and --allow-uid users) may use it over loopback
// (docs/security.md). The daemon runs as root, as the harness starts it; "another user" is a
// client run as uid 65534 (nobody) through util-linux's setpriv. A refused client must see its
// connection closed before TLS (no certificate, no HTTP status, no 101) on both listeners.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { SRC, Proc, bin, curl, localhostCerts, readFileSync, startBridge, tmp } from '../lib/harness.mjs';

const OTHER = 65534;
const DENIED_HTTP = new RegExp(`^INFO http: refused connection from uid ${OTHER}: not an allowed user$`, 'gm');
const DENIED_WS = new RegExp(`^INFO ws: refused connection from uid ${OTHER}: not an allowed user$`, 'gm');

// Files the other user's client reads: the CA and the ws module, copied into a directory of the
// system's temporary folder that anyone may enter, since the checkout and the build folder may
// sit where only root can read (a clone in /root).
let pub;
before(() => {
  if (process.geteuid() !== 0) throw new Error('peer tests run clients as another uid: they need root (tests/run.sh)');
  pub = mkdtempSync(join(tmpdir(), 'siths-peer-'));
  copyFileSync(localhostCerts().ca, join(pub, 'ca.pem'));
  cpSync(join(SRC, 'tests', 'node_modules', 'ws'), join(pub, 'ws'), { recursive: true });
  chmodRecursive(pub);
});
after(() => { if (pub) rmSync(pub, { recursive: true, force: true }); });

function chmodRecursive(dir) {
  chmodSync(dir, 0o755);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) chmodRecursive(join(dir, e.name));
    else chmodSync(join(dir, e.name), 0o644);
  }
}

// Runs cmd as uid/gid OTHER with no supplementary groups. Resolves with { code, stdout, stderr };
// the deadline kills that one child (by its pid, through execFile) if it hangs.
function asOther(cmd, args, { input } = {}) {
  return new Promise((res) => {
    const child = execFile('setpriv', [`--reuid=${OTHER}`, `--regid=${OTHER}`, '--clear-groups', cmd, ...args],
      { timeout: 20000, cwd: pub, env: { PATH: '/usr/bin:/bin', LANG: 'C' }, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => res({ code: err ? (err.code ?? err.signal) : 0, stdout, stderr, killed: err?.killed }));
    // A child that exits before reading (curl refused at once) makes the write fail with EPIPE:
    // its result is the exit code above, not an error of the test.
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

const curlAs = (url) => asOther('curl', ['-sS', '--cacert', join(pub, 'ca.pem'), '--max-time', '15', '-D', '-', '-o', '-', url]);

// A TLS handshake attempt: a server that closes before TLS sends no certificate.
const tlsAs = (port) => asOther('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost']);

// A WebSocket client (the npm ws module, as the page's events use) run as OTHER. Prints one JSON
// line per event: { upgrade: status } on 101, { message } for the first message, { status } for
// a refused upgrade, { error } when the connection failed.
const WS_CLIENT = `
const [wsPath, url, origin, caFile] = process.argv.slice(1);
const WebSocket = require(wsPath);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const ws = new WebSocket(url, { ca: require('fs').readFileSync(caFile), origin });
ws.on('upgrade', (r) => out({ upgrade: r.statusCode }));
ws.on('unexpected-response', (q, r) => { out({ status: r.statusCode }); process.exit(3); });
ws.on('message', (d) => { out({ message: JSON.parse(d.toString()) }); ws.close(); });
ws.on('close', () => process.exit(0));
ws.on('error', (e) => { out({ error: e.code || e.message }); process.exit(4); });
`;
async function wssAs(t) {
  const r = await asOther(process.execPath, ['-e', WS_CLIENT, join(pub, 'ws'),
    `wss://127.0.0.1:${t.wss}/v1/events`, t.origin, join(pub, 'ca.pem')]);
  r.events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return r;
}

// The daemon's own user (root here) is served on both listeners.
async function assertServesOwnUser(t) {
  const from = t.mark();
  const r = await curl(t.url('/health'));
  assert.equal(r.status, 200);
  assert.equal(typeof r.json.status, 'string');
  await t.waitFor(/DEBUG http: connection from uid 0$/m, { from });
  const ws = new WebSocket(`wss://127.0.0.1:${t.wss}/v1/events`, { ca: readFileSync(localhostCerts().ca), origin: t.origin });
  const hello = await new Promise((res, rej) => {
    ws.once('message', (d) => res(JSON.parse(d.toString())));
    ws.once('error', rej);
    ws.once('unexpected-response', (q, r2) => rej(new Error(`upgrade refused: ${r2.statusCode}`)));
  });
  assert.equal(hello.type, 'hello');
  await new Promise((res) => { ws.once('close', res); ws.close(); });
}

const count = (text, re) => (text.match(re) || []).length;

async function stopClean(t) {
  const { code, signal } = await t.stop();
  assert.equal(signal, null);
  assert.equal(code, 0, `daemon exit ${code}: a sanitizer report or a failed stop\n${t.output.slice(-3000)}`);
}

describe('default policy: only the daemon\'s own uid', () => {
  let t;
  before(async () => { t = await startBridge(); });
  after(async () => { if (t) await stopClean(t); });

  test('the policy is logged at start', () => {
    assert.match(t.output, /^INFO main: serving loopback clients of uid 0 only$/m);
  });

  test('root (the daemon\'s uid) gets /health and the WSS hello', async () => {
    await assertServesOwnUser(t);
  });

  test('HTTPS from another uid: closed without any HTTP response, refusal logged once with the uid', async () => {
    const from = t.mark();
    const r = await curlAs(t.url('/health'));
    assert.notEqual(r.code, 0, 'curl must fail');
    assert.ok(!r.killed, 'curl hung instead of seeing the connection closed');
    assert.ok([35, 56].includes(r.code), `curl exit ${r.code}: ${r.stderr}`); // TLS connect / recv failure
    assert.equal(r.stdout, '', 'no HTTP response at all');
    await t.waitFor(DENIED_HTTP, { from });
    // Root is still served; its log line comes after, so every line of the refused try is in.
    await assertServesOwnUser(t);
    const log = t.output.slice(from);
    assert.equal(count(log, DENIED_HTTP), 1, log);
    assert.equal(count(log, DENIED_WS), 0, log);
    // The refusal line carries the uid and nothing about the request.
    assert.doesNotMatch(log, /refused connection.*(health|GET|127\.0\.0\.1)/);
  });

  test('a TLS handshake from another uid gets no certificate on either listener', async () => {
    for (const [port, re] of [[t.https, DENIED_HTTP], [t.wss, DENIED_WS]]) {
      const from = t.mark();
      const r = await tlsAs(port);
      assert.notEqual(r.code, 0, `openssl s_client to ${port} should fail`);
      assert.match(r.stdout, /no peer certificate available/);
      assert.doesNotMatch(r.stdout, /BEGIN CERTIFICATE|Server certificate/);
      await t.waitFor(re, { from });
    }
  });

  test('WSS from another uid: no 101, no hello, refusal logged once with the uid', async () => {
    const from = t.mark();
    const r = await wssAs(t);
    assert.ok(!r.killed, 'the client hung instead of seeing the connection closed');
    assert.equal(r.code, 4, `client: ${r.stdout} ${r.stderr}`);
    assert.deepEqual(r.events.map((e) => Object.keys(e)[0]), ['error'], r.stdout);
    await t.waitFor(DENIED_WS, { from });
    await assertServesOwnUser(t);
    const log = t.output.slice(from);
    assert.equal(count(log, DENIED_WS), 1, log);
    assert.equal(count(log, DENIED_HTTP), 0, log);
  });
});

// Each way of allowing uid 65534; the other user is then served like the daemon's own.
const allowCases = [
  ['--allow-uid 65534', () => ['--allow-uid', String(OTHER)]],
  ['--allow-uid nobody', () => ['--allow-uid', 'nobody']],
  ['allow-uid = nobody in the --config file', () => {
    const f = join(tmp('peer-conf-'), 'bridge.conf');
    writeFileSync(f, '# the desktop user\nallow-uid = nobody\n');
    return ['--config', f];
  }],
];
for (const [name, args] of allowCases) {
  describe(`allowed with ${name}`, () => {
    let t;
    before(async () => { t = await startBridge({ args: args() }); });
    after(async () => { if (t) await stopClean(t); });

    test('the policy line names the allowed uid', () => {
      assert.match(t.output, new RegExp(`^INFO main: serving loopback clients of uid 0, also allowed: ${OTHER}$`, 'm'));
    });

    test('uid 65534 gets 200 over HTTPS', async () => {
      const from = t.mark();
      const r = await curlAs(t.url('/health'));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^HTTP\/1\.1 200 /);
      assert.match(r.stdout, /"status":"/);
      await t.waitFor(new RegExp(`DEBUG http: connection from uid ${OTHER}$`, 'm'), { from });
    });

    test('uid 65534 gets the WSS 101 and hello', async () => {
      const r = await wssAs(t);
      assert.equal(r.code, 0, `client: ${r.stdout} ${r.stderr}`);
      assert.deepEqual(r.events[0], { upgrade: 101 });
      assert.equal(r.events[1]?.message?.type, 'hello', r.stdout);
    });

    test('root is still served, and nothing was refused', async () => {
      await assertServesOwnUser(t);
      assert.doesNotMatch(t.output, /refused connection/);
    });
  });
}

test('an unknown --allow-uid user name stops the start with exit 2 and says which', async () => {
  const c = localhostCerts();
  const p = new Proc(bin('siths-bridge'), ['--https', '127.0.0.1:0', '--wss', '127.0.0.1:0', '--cert', c.cert,
    '--key', c.key, '--www', join(SRC, 'www'), '--allow-uid', 'no-such-user-siths-test']);
  const { code } = await p.exited;
  assert.equal(code, 2);
  assert.match(p.output, /--allow-uid: no user named 'no-such-user-siths-test'/);
  assert.doesNotMatch(p.output, /ready/);
});

describe('refusals are rate-limited in the log', () => {
  let t;
  before(async () => { t = await startBridge(); });
  after(async () => { if (t) await stopClean(t); });

  test('12 connections of another user: 5 refusal lines per listener, every one still refused', async () => {
    const from = t.mark();
    const rs = await Promise.all(Array.from({ length: 12 }, () => curlAs(t.url('/health'))));
    for (const r of rs) assert.ok([35, 56].includes(r.code) && r.stdout === '', `curl exit ${r.code}: ${r.stderr}`);
    // Root's own line is logged after every refused try was judged.
    await assertServesOwnUser(t);
    const log = t.output.slice(from);
    assert.equal(count(log, DENIED_HTTP), 5, log);
    // The other 7 are counted for the summary line the next minute's first refusal brings
    // (tests/unit/server/net/test_peer.c checks it with a made-up clock).
    assert.doesNotMatch(log, /more connections from other users/);
  });
});
