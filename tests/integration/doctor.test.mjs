// doctor.test.mjs — `siths-bridge doctor --json` against the real parts: a private pcscd with the
// virtual card, the daemon over TLS, the user's certificate in a temporary HOME trusted with
// certs/trust-localhost-ca.sh in an NSS database (Chromium's) and a Firefox profile, and the
// policies written by `siths-bridge policies --write`. Healthy first (exit 0, the card's number
// and type, this user's bridge on the port, /health over TLS), then each fault made on purpose —
// the CA untrusted (empty nssdb), a policy missing, the port taken by another program, pcscd
// stopped — named with its fix; where the fix is a command, running it makes the doctor green.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, copyFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { SRC, bin, tmp, startPcscd, startCard, startBridge, localhostCerts, curl, until } from '../lib/harness.mjs';

const ORIGIN = 'https://portal.example.org';
let pc, card, bridge, home, conf, root, nssdb, profile, cardNumber;

function doctor(args = ['--json'], { config = conf } = {}) {
  return new Promise((res) => {
    execFile(bin('siths-bridge'), ['doctor', ...args, '--config', config, '--root', root],
      { env: { ...process.env, ...pc.env, HOME: home }, timeout: 60000 },
      (err, stdout, stderr) => {
        let json; try { json = JSON.parse(stdout); } catch { json = undefined; }
        res({ code: err ? err.code : 0, stdout, stderr, json });
      });
  });
}
const check = (r, id) => {
  const c = r.json?.checks.find((x) => x.id === id);
  assert.ok(c, `no check ${id} in ${r.stdout}${r.stderr}`);
  return c;
};
const failed = (r) => r.json.checks.filter((c) => !c.ok).map((c) => c.id);

function newNssdb(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('certutil', ['-N', '-d', `sql:${dir}`, '--empty-password']);
}
const trust = (dir) => execFileSync(join(SRC, 'certs', 'trust-localhost-ca.sh'),
  ['install', join(home, '.local/state/siths-bridge/certs/ca.pem'), '--nssdb', dir]);

before(async () => {
  pc = await startPcscd();
  card = await startCard({ port: pc.ports[0] });
  bridge = await startBridge({ pcscd: pc, args: ['--allow-origin', ORIGIN] });
  await until(async () => (await curl(bridge.url('/v1/cards'), { headers: { Origin: bridge.origin } })).json?.cards?.length === 1,
    { what: 'the card in the bridge' });
  cardNumber = (await curl(bridge.url('/v1/cards'), { headers: { Origin: bridge.origin } })).json.cards[0].card_number;
  home = tmp('doctor-home-');
  const certs = join(home, '.local/state/siths-bridge/certs');
  mkdirSync(certs, { recursive: true });
  const c = localhostCerts();
  for (const f of ['ca.pem', 'server.pem', 'server.key']) copyFileSync(join(c.dir, f), join(certs, f));
  nssdb = join(home, '.pki/nssdb');
  profile = join(home, '.mozilla/firefox/t1.default-esr');
  newNssdb(nssdb); trust(nssdb);
  newNssdb(profile); trust(profile);
  conf = join(home, 'siths-bridge.conf');
  writeFileSync(conf, `https = 127.0.0.1:${bridge.https}\nwss = 127.0.0.1:${bridge.wss}\nallow-origin = ${ORIGIN}\n`);
  root = tmp('doctor-root-');
  execFileSync(bin('siths-bridge'), ['policies', '--write', '--config', conf, '--root', root]);
});

after(async () => {
  if (bridge) await bridge.stop();
  if (card) await card.stop();
  if (pc) await pc.stop();
});

test('healthy: exit 0, every check ok, the card and this user\'s bridge named', async () => {
  const r = await doctor();
  assert.equal(r.code, 0, r.stdout);
  assert.equal(r.json.ok, true);
  assert.deepEqual(failed(r), []);
  assert.equal(r.json.lang, 'sv');
  assert.match(check(r, 'card.1').text_en, new RegExp(`^Card ${cardNumber} \\(ordinary card, `));
  assert.match(check(r, 'readers').text_en, /^2 card reader\(s\)/);
  assert.equal(check(r, 'port.https').text_en, `Port ${bridge.https} (https): this user's bridge (pid ${bridge.pid})`);
  assert.equal(check(r, 'port.wss').status, 'ok');
  assert.match(check(r, 'cert').text_en, /is valid, \d+ days left/);
  assert.equal(check(r, 'trust.nssdb').status, 'ok');
  assert.equal(check(r, 'trust.firefox.t1.default-esr').status, 'ok');
  assert.equal(check(r, 'policies.1').text_en, `Policies for ${ORIGIN} are present (Chromium, Chrome, Firefox)`);
  assert.match(check(r, 'health').text_en, /answers \/health over TLS \(status ok, version /);
  assert.equal(check(r, 'service').ok, true);
  // Human text: Swedish by default, English on request; the same verdict.
  const sv = await doctor([]);
  assert.equal(sv.code, 0);
  assert.match(sv.stdout, /^\[ OK \] pcscd svarar$/m);
  assert.match(sv.stdout, /Allt som behövs fungerar\.\n$/);
  const en = await doctor(['--lang', 'en']);
  assert.match(en.stdout, /Everything needed works\.\n$/);
});

test('certificate untrusted (empty nssdb): named with the command that trusts it, green once trusted', async () => {
  newNssdb(nssdb);
  const r = await doctor(['--json', '--lang', 'en']);
  assert.equal(r.code, 1);
  assert.deepEqual(failed(r), ['trust.nssdb']);
  const c = check(r, 'trust.nssdb');
  assert.match(c.text, /The CA is not trusted in Chromium .*: the CA is not there/);
  assert.match(c.text_sv, /CA:n är inte betrodd i Chromium/);
  // No user manager here: the script the service runs before each start, on the certificates.
  assert.equal(c.fix, `/usr/libexec/siths-bridge/user-trust.sh ${join(home, '.local/state/siths-bridge/certs')}`);
  trust(nssdb); // what that script does for this store

  assert.equal((await doctor()).code, 0);
});

test('policy missing: named with `siths-bridge policies --write`, which restores it', async () => {
  rmSync(join(root, 'etc/chromium/policies/managed/siths-bridge.json'));
  const r = await doctor();
  assert.equal(r.code, 1);
  assert.deepEqual(failed(r), ['policies.1']);
  assert.equal(check(r, 'policies.1').text_en, `Policies for ${ORIGIN} are missing for: Chromium`);
  assert.equal(check(r, 'policies.1').fix, 'sudo siths-bridge policies --write');
  execFileSync(bin('siths-bridge'), ['policies', '--write', '--config', conf, '--root', root]);
  assert.equal((await doctor()).code, 0);
});

test('port taken by another program: that program named, /health fails', async (t) => {
  const squatter = net.createServer((s) => s.destroy());
  await new Promise((res) => squatter.listen(0, '127.0.0.1', res));
  t.after(() => new Promise((res) => squatter.close(res)));
  const port = squatter.address().port;
  const other = join(home, 'taken.conf');
  writeFileSync(other, `https = 127.0.0.1:${port}\nwss = 127.0.0.1:${bridge.wss}\nallow-origin = ${ORIGIN}\n`);
  const r = await doctor(['--json'], { config: other });
  assert.equal(r.code, 1);
  assert.deepEqual(failed(r), ['port.https', 'health']);
  assert.equal(check(r, 'port.https').text_en, `Port ${port} (https) is held by another program: node (pid ${process.pid})`);
  assert.equal(check(r, 'port.https').fix, `kill ${process.pid}`);
  assert.match(check(r, 'health').text_en, /does not answer \/health over TLS/);
});

test('pcscd stopped: named with the command that starts it; the bridge still answers', async () => {
  await card.stop(); card = null;
  await pc.stop();
  const r = await doctor();
  assert.equal(r.code, 1);
  assert.deepEqual(failed(r), ['pcscd']);
  assert.match(check(r, 'pcscd').text_en, /^pcscd does not answer/);
  assert.equal(check(r, 'pcscd').fix, 'sudo systemctl start pcscd.socket pcscd.service');
  assert.equal(existsSync(pc.sock), false);
  assert.equal(check(r, 'health').ok, true);
});
