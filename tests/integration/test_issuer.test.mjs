// test_issuer.test.mjs — `--test-issuer DIR`: the daemon starts siths-test-ca on DIR as its own
// child and reaches it over CMP like a production CA (an order made for the run, handed over on a
// pipe; or the card's signature). The download goes to Finns; the child holds none of the
// daemon's listeners and no secret on its command line, ends with the daemon's clean stop and
// with the daemon killed (PR_SET_PDEATHSIG); a daemon without a siths-test-ca beside it refuses
// to start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Proc, SRC, bin, localhostCerts, startBridge, testPki, tmp, until } from '../lib/harness.mjs';
import { setup, insert, loginOk, jobEnd, exportCerts, PIN1, PIN2 } from '../lib/bridge-rig.mjs';

// The child's pid, from the daemon's log line that names it.
async function childPid(bridge) {
  const m = await bridge.waitFor(/test issuer: \S+siths-test-ca \(pid (\d+)\) serves CMP at (\S+)/);
  return { pid: Number(m[1]), url: m[2] };
}

const alive = (pid) => {
  try { return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0] !== 'Z' && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'siths-test-ca'; } catch { return false; }
};

// The socket inodes of the TCP listeners on port (from /proc/net/tcp*).
function listenerInodes(port) {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = [];
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(f, 'utf8').split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c.length > 9 && c[1].endsWith(`:${hex}`) && c[3] === '0A') inodes.push(c[9]);
    }
  }
  return inodes;
}
const socketsOf = (pid) => readdirSync(`/proc/${pid}/fd`).map((fd) => { try { return readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { return ''; } })
  .map((l) => (l.match(/^socket:\[(\d+)\]$/) || [])[1]).filter(Boolean);

async function download(t, card, body) {
  const session = await loginOk(t, card.id);
  const from = t.events.mark();
  const r = await t.api(`/v1/cards/${card.id}/signature-certificate`, { method: 'POST', data: body, headers: { Authorization: `Bearer ${session}` } });
  assert.equal(r.status, 202, r.body);
  return (await jobEnd(t, r.json.job, from)).end;
}

test('--test-issuer: its own siths-test-ca over CMP with a MAC order of the run → Finns; the child ends with the daemon', async () => {
  const t = await setup({ issuer: 'test-issuer' });
  let child;
  try {
    child = await childPid(t.bridge);
    assert.match(child.url, /^http:\/\/127\.0\.0\.1:\d+\/pkix\/$/);
    assert.ok(alive(child.pid));
    // No secret on its command line: the order came on a pipe.
    const argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(argv.includes('--mac-fd'), argv.join(' '));
    assert.equal(argv.includes('--mac'), false, argv.join(' '));
    // None of the daemon's listeners is open in the child.
    const mine = [...listenerInodes(t.bridge.https), ...listenerInodes(t.bridge.wss)];
    assert.equal(mine.length >= 2, true, 'the daemon\'s listeners are found');
    assert.deepEqual(socketsOf(child.pid).filter((i) => mine.includes(i)), []);
    const h = await t.api('/health');
    assert.deepEqual([h.json.issuer.name, h.json.issuer.test, h.json.issuer.protection], ['cmp', true, 'mac']);

    const card = await insert(t);
    const end = await download(t, card, { pin: PIN2 });
    assert.equal(end.type, 'job-done', JSON.stringify(end));
    const pem = join(exportCerts(card.state), 'sign-cert.pem');
    execFileSync('openssl', ['verify', '-CAfile', join(t.pki, 'root-ca.pem'), '-untrusted', join(t.pki, 'person-3-ca.pem'), pem]);
    const serial = execFileSync('openssl', ['x509', '-in', pem, '-noout', '-serial']).toString().trim().replace('serial=', '');
    // The child's log is the daemon's: it confirmed that certificate.
    await t.bridge.waitFor(new RegExp(`certificate serial ${serial} confirmed`));
    await t.bridge.waitFor(/cmp enrollment: 2 messages/);
    await card.stop();
  } finally { await t.close(); }
  // The daemon reaped its child before it exited.
  assert.equal(alive(child.pid), false);
});

test('--test-issuer with --issuer-cmp-protection signature: the card signs, the CA signs its answers → Finns', async () => {
  const t = await setup({ issuer: 'test-issuer', args: ['--issuer-cmp-protection', 'signature'] });
  try {
    const child = await childPid(t.bridge);
    assert.equal(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').some((a) => a.startsWith('--mac')), false);
    const h = await t.api('/health');
    assert.equal(h.json.issuer.protection, 'signature');
    const card = await insert(t);
    const end = await download(t, card, { pin: PIN2, auth_pin: PIN1 });
    assert.equal(end.type, 'job-done', JSON.stringify(end));
    await card.stop();
  } finally { await t.close(); }
});

test('the daemon killed (SIGKILL): its siths-test-ca goes too', async () => {
  const b = await startBridge({ args: ['--test-issuer', testPki()] });
  const child = await childPid(b);
  assert.ok(alive(child.pid));
  await b.stop('SIGKILL');
  await until(() => !alive(child.pid), { what: 'the child siths-test-ca to end', timeout: 10000 });
});

test('no siths-test-ca beside the daemon: it refuses to start and says where it looked', async () => {
  const dir = tmp('lonely-');
  const lonely = join(dir, 'siths-bridge');
  copyFileSync(bin('siths-bridge'), lonely);
  execFileSync('chmod', ['755', lonely]);
  assert.equal(existsSync(join(dir, 'siths-test-ca')), false);
  const c = localhostCerts();
  const p = new Proc(lonely, ['--https', '127.0.0.1:0', '--wss', '127.0.0.1:0', '--cert', c.cert, '--key', c.key,
    '--www', join(SRC, 'www'), '--test-issuer', testPki()]);
  const { code } = await p.exited;
  await p.closed;
  assert.notEqual(code, 0, p.output);
  assert.match(p.output, new RegExp(`${dir}/siths-test-ca: No such file or directory[^]*siths-test-ca not found \\(package siths-bridge-cardsim\\)`));
  assert.doesNotMatch(p.output, / ready https=/);
});
