// port_rule.test.mjs — packaging/user/siths-bridge-port-generator, the systemd user generator that
// gives each user's sockets a port pair (docs/install.md, "Ports"), run as systemd runs it (as the
// user, an output folder as its argument) in a private network namespace, so the real candidate
// ports can be taken by real listeners of other (fake) users without touching this machine's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SRC, Proc } from '../lib/harness.mjs';

const DROPIN = '50-siths-bridge-port.conf';
let netns, base, generator;

before(async () => {
  // The fake users run the generator and it writes there: outside the checkout, which may be
  // where they cannot enter (/root on a fresh machine).
  base = mkdtempSync(join(tmpdir(), 'siths-ports-'));
  chmodSync(base, 0o755);
  generator = join(base, 'siths-bridge-port-generator');
  copyFileSync(join(SRC, 'packaging', 'user', 'siths-bridge-port-generator'), generator);
  chmodSync(generator, 0o755);
  assert.equal(process.getuid(), 0, 'a network namespace and other uids need root (tests/run.sh runs as root)');
  netns = new Proc('unshare', ['--net', 'sh', '-c', 'ip link set lo up && echo netns-ready && exec sleep 3600']);
  await netns.waitFor(/netns-ready/);
});
after(async () => { await netns.stop(); rmSync(base, { recursive: true, force: true }); });

const inNetns = (uid, cmd) => ['nsenter', ['-t', String(netns.pid), '-n', 'setpriv', `--reuid=${uid}`, `--regid=${uid}`,
  '--clear-groups', ...cmd]];

// A user's listeners (their bridge's sockets, or any other program's) on `ports` at `host`.
async function listen(uid, ports, host = '127.0.0.1') {
  const js = `const net = require('node:net'); let n = 0; for (const p of ${JSON.stringify(ports)}) ` +
    `net.createServer().listen(p, ${JSON.stringify(host)}, () => { if (++n === ${ports.length}) console.log('listening'); });`;
  const [cmd, args] = inNetns(uid, [process.execPath, '-e', js]);
  const p = new Proc(cmd, args);
  await p.waitFor(/listening/);
  return p;
}

// One run of the generator as `uid`; returns {https, wss} (null: no drop-in) and its stderr.
function generate(uid) {
  const out = mkdtempSync(join(base, 'gen-'));
  chmodSync(out, 0o777);
  const [cmd, args] = inNetns(uid, [generator, out, join(out, 'early'), join(out, 'late')]);
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const port = (unit) => {
    const f = join(out, `${unit}.d`, DROPIN);
    if (!existsSync(f)) return null;
    const text = readFileSync(f, 'utf8');
    // The unit's own ListenStream= is reset, then the pair's port, on loopback only.
    const m = text.match(/^\[Socket\]\nListenStream=\nListenStream=127\.0\.0\.1:(\d+)\n$/m);
    assert.ok(m, text);
    return Number(m[1]);
  };
  const got = { https: port('siths-bridge-https.socket'), wss: port('siths-bridge-wss.socket'), err: r.stderr };
  assert.deepEqual(readdirSync(out).filter((f) => !['early', 'late'].includes(f)).sort(),
    got.https ? ['siths-bridge-https.socket.d', 'siths-bridge-wss.socket.d'] : []);
  return got;
}
const pair = (slot) => ({ https: 29443 + 2 * slot, wss: 29444 + 2 * slot, err: '' });
const ports = (slot) => [29443 + 2 * slot, 29444 + 2 * slot];

test('nothing taken: each user gets the slot of their uid, (uid - 1000) mod 16', () => {
  assert.deepEqual(generate(1000), pair(0));
  assert.deepEqual(generate(1001), pair(1));
  assert.deepEqual(generate(1015), pair(15));
  assert.deepEqual(generate(1016), pair(0));
  assert.deepEqual(generate(0), pair(8));
});

test('two users of one slot: the second gets the first free pair, a third the next', async () => {
  const alice = await listen(1000, ports(0));
  try {
    assert.deepEqual(generate(1016), pair(1), 'slot 0 is alice\'s');
    const bob = await listen(1016, ports(1));
    try {
      assert.deepEqual(generate(1001), pair(2), 'slot 1 is bob\'s, slot 0 alice\'s');
      // A daemon-reload of each (their sockets still held) keeps what they have.
      assert.deepEqual(generate(1000), pair(0));
      assert.deepEqual(generate(1016), pair(1));
    } finally { await bob.stop(); }
  } finally { await alice.stop(); }
});

test('a user whose listeners hold another pair keeps it (daemon-reload), even with their own slot free', async () => {
  const held = await listen(1000, ports(5));
  try {
    assert.deepEqual(generate(1000), pair(5));
    assert.deepEqual(generate(1001), pair(1), 'another user is not moved by it');
  } finally { await held.stop(); }
});

test('one port of a pair taken by any program, on any address, takes the pair', async () => {
  const v4 = await listen(0, [29444], '0.0.0.0');
  const v6 = await listen(0, [29445], '::');
  try {
    assert.deepEqual(generate(1000), pair(2), 'slot 0 has 29444 taken (0.0.0.0), slot 1 29445 ([::])');
  } finally { await v4.stop(); await v6.stop(); }
});

test('all 16 pairs taken: no drop-in, the units keep their defaults, and it says why', async () => {
  const all = await listen(0, Array.from({ length: 16 }, (_, k) => 29443 + 2 * k));
  try {
    const r = generate(1000);
    assert.equal(r.https, null);
    assert.match(r.err, /all 16 port pairs from 29443 are taken/);
  } finally { await all.stop(); }
});
