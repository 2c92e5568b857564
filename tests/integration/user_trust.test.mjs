// user_trust.test.mjs — certs/user-trust.sh, the user service's step before every start, on
// private HOMEs with the real certutil: the first start makes this user's name-constrained CA and
// trusts it in a new Chromium NSS db and in each Firefox profile (one not run yet, known only
// from profiles.ini); a second start changes nothing; a profile made later gets it on the next
// start; a CA that expires within 30 days is replaced everywhere by a new one; --remove takes
// only this user's CAs out. One run is as an unprivileged user: no root needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { SRC, tmp } from '../lib/harness.mjs';

const script = join(SRC, 'certs', 'user-trust.sh');
const NICK = /^(siths-bridge local CA \(user ([^,]+), ([0-9A-F]+)\))\s+(\S+)\s*$/;

function run(home, args = [], { script: path = script, ...opts } = {}) {
  const r = spawnSync(path, args, { encoding: 'utf8', env: { ...process.env, HOME: home, XDG_CONFIG_HOME: '' }, ...opts });
  return { code: r.status, out: r.stdout, err: r.stderr, error: r.error };
}
function ok(home, args, opts) {
  const r = run(home, args, opts);
  assert.equal(r.code, 0, `${r.out}\n${r.err}${r.error ? `\n${r.error}` : ''}`);
  return r;
}
const openssl = (args, opts) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
const serialOf = (pem) => openssl(['x509', '-in', pem, '-noout', '-serial']).trim().replace(/^serial=/, '');
const pemBody = (pem) => pem.replace(/-----[^-]+-----|\s/g, '');

// Every certificate in one NSS db as {nick, user, serial, trust}, ours and anyone else's.
function entries(db) {
  const out = execFileSync('certutil', ['-L', '-d', `sql:${db}`], { encoding: 'utf8' });
  return out.split('\n').slice(3).filter((l) => l.trim()).map((l) => {
    const m = l.match(NICK);
    return m ? { nick: m[1], user: m[2], serial: m[3], trust: m[4] } : { nick: l.replace(/\s+\S+\s*$/, ''), other: true };
  });
}
const ME = userInfo().username;
const ours = (db, user = ME) => entries(db).filter((e) => e.user === user);

// A root that is not this user's (a certificate of its own: NSS keeps one nickname per certificate).
function addOther(db, nick) {
  const d = tmp('other-');
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(d, 'k.pem'),
    '-subj', `/CN=${nick}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-days', '2', '-out', join(d, 'ca.pem')]);
  execFileSync('certutil', ['-A', '-d', `sql:${db}`, '-n', nick, '-t', 'C,,', '-i', join(d, 'ca.pem')]);
}

// A HOME as a desktop user has it: two Firefox profiles, one already run (cert9.db of its own)
// and one made with -CreateProfile (in profiles.ini, no cert9.db yet), and a profile in Firefox's
// XDG folder (~/.config/mozilla/firefox, where firefox-esr 153 puts a new user's); no ~/.pki.
function desktopHome(base = tmp('home-')) {
  const ff = join(base, '.mozilla', 'firefox');
  const xdg = join(base, '.config', 'mozilla', 'firefox', 'xdg.default-esr');
  mkdirSync(xdg, { recursive: true });
  execFileSync('certutil', ['-N', '-d', `sql:${xdg}`, '--empty-password']);
  mkdirSync(join(ff, 'run.default-esr'), { recursive: true });
  mkdirSync(join(ff, 'new.work'), { recursive: true });
  execFileSync('certutil', ['-N', '-d', `sql:${join(ff, 'run.default-esr')}`, '--empty-password']);
  writeFileSync(join(ff, 'profiles.ini'), ['[Profile1]', 'Name=work', 'IsRelative=1', 'Path=new.work', '',
    '[Profile0]', 'Name=default-esr', 'IsRelative=1', 'Path=run.default-esr', 'Default=1', ''].join('\n'));
  return {
    home: base,
    certs: join(base, '.local', 'state', 'siths-bridge', 'certs'),
    stores: [join(base, '.pki', 'nssdb'), join(ff, 'run.default-esr'), join(ff, 'new.work'), xdg],
  };
}

// Each store trusts exactly the CA now in the state folder, as a TLS root only, under our name.
function assertTrusted(h, user) {
  const ca = join(h.certs, 'ca.pem');
  const serial = serialOf(ca);
  for (const db of h.stores) {
    const mine = ours(db, user);
    assert.deepEqual(mine.map(({ serial: s, trust }) => ({ s, trust })), [{ s: serial, trust: 'C,,' }], db);
    const inDb = execFileSync('certutil', ['-L', '-d', `sql:${db}`, '-n', mine[0].nick, '-a'], { encoding: 'utf8' });
    assert.equal(pemBody(inDb), pemBody(readFileSync(ca, 'utf8')), `${db} holds the state folder's CA`);
  }
  return serial;
}

test('first start: a new CA and server certificate, trusted in a new Chromium db and in every Firefox profile (classic and XDG folders)', () => {
  const h = desktopHome();
  assert.ok(!existsSync(join(h.home, '.pki')));
  const r = ok(h.home, [h.certs]);
  assert.match(r.out, /new local CA and server certificate/);
  assert.match(r.out, /made NSS database .*\.pki\/nssdb/);
  const serial = assertTrusted(h, ME);
  assert.equal(r.out.match(/user-trust: trusted /g).length, h.stores.length, r.out);
  // The server certificate verifies under that CA for the loopback names, and the key is private.
  openssl(['verify', '-purpose', 'sslserver', '-verify_ip', '127.0.0.1', '-CAfile', join(h.certs, 'ca.pem'),
    join(h.certs, 'server.pem')]);
  assert.ok(serial.length >= 16);
  // Without an argument the folder is the service's: ~/.local/state/siths-bridge/certs.
  const again = ok(h.home);
  assert.equal(again.out, '');
});

test('the CA is name-constrained: a certificate for another name under it fails with error 47', () => {
  const h = desktopHome();
  ok(h.home, [h.certs]);
  const ca = join(h.certs, 'ca.pem');
  const text = openssl(['x509', '-in', ca, '-noout', '-text']);
  assert.match(text, /X509v3 Name Constraints: critical\s+Permitted:\s+DNS:localhost\s+IP:127\.0\.0\.1\/255\.255\.255\.255\s+IP:0:0:0:0:0:0:0:1\//);
  assert.match(text, /CA:TRUE, pathlen:0/);
  // The CA's key is gone, so the foreign certificate is signed by a twin: the same subject and
  // every extension of the user's CA copied byte for byte, with a key the test keeps.
  const d = tmp('twin-');
  const o = (args) => openssl(args, { cwd: d });
  o(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'twin.key']);
  o(['x509', '-x509toreq', '-in', ca, '-copy_extensions', 'copyall', '-signkey', 'twin.key', '-out', 'twin.csr']);
  o(['x509', '-req', '-in', 'twin.csr', '-copy_extensions', 'copyall', '-signkey', 'twin.key', '-days', '2', '-out', 'twin.pem']);
  const ext = (f) => openssl(['x509', '-in', f, '-noout', '-ext', 'nameConstraints,basicConstraints']);
  assert.equal(ext(join(d, 'twin.pem')), ext(ca));
  writeFileSync(join(d, 'leaf.cnf'), '[v3]\nbasicConstraints = critical, CA:FALSE\nextendedKeyUsage = serverAuth\nsubjectAltName = @alt\n[alt]\n');
  for (const [name, alt] of [['foreign', 'DNS.1 = portal.example'], ['local', 'DNS.1 = localhost']]) {
    writeFileSync(join(d, `${name}.cnf`), `${readFileSync(join(d, 'leaf.cnf'), 'utf8')}${alt}\n`);
    o(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`,
      '-subj', `/CN=${name}`, '-out', `${name}.csr`]);
    o(['x509', '-req', '-in', `${name}.csr`, '-CA', 'twin.pem', '-CAkey', 'twin.key', '-set_serial', '1', '-days', '1',
      '-extfile', `${name}.cnf`, '-extensions', 'v3', '-out', `${name}.pem`]);
  }
  o(['verify', '-CAfile', 'twin.pem', 'local.pem']);   // control: the twin signs a loopback name fine
  const r = spawnSync('openssl', ['verify', '-CAfile', 'twin.pem', 'foreign.pem'], { cwd: d, encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /error 47 at 0 depth lookup: permitted subtree violation/);
});

test('a second start is a no-op; a Firefox profile made since is trusted on the next one', () => {
  const h = desktopHome();
  ok(h.home, [h.certs]);
  const files = ['ca.pem', 'server.pem', 'server.key'].map((f) => readFileSync(join(h.certs, f), 'utf8'));
  const lists = h.stores.map(entries);
  const second = ok(h.home, [h.certs]);
  assert.equal(second.out, '', 'nothing to do, nothing said');
  assert.equal(second.err, '');
  assert.deepEqual(['ca.pem', 'server.pem', 'server.key'].map((f) => readFileSync(join(h.certs, f), 'utf8')), files);
  assert.deepEqual(h.stores.map(entries), lists);

  // Firefox made a profile of its own (cert9.db, not in profiles.ini yet) after that start.
  const later = join(h.home, '.mozilla', 'firefox', 'later.profile');
  mkdirSync(later);
  execFileSync('certutil', ['-N', '-d', `sql:${later}`, '--empty-password']);
  assert.deepEqual(ours(later), []);
  const third = ok(h.home, [h.certs]);
  assert.deepEqual(third.out.trim().split('\n'), [`user-trust: trusted ${ours(h.stores[0])[0].nick} in ${later}`]);
  h.stores.push(later);
  assertTrusted(h, ME);
});

test('renewal: a CA expiring within 30 days is replaced by a new one, trusted, the old one removed from every store', () => {
  const h = desktopHome();
  ok(h.home, [h.certs]);
  const first = serialOf(join(h.certs, 'ca.pem'));
  // Age the set: a name-constrained CA and server certificate valid 10 more days, trusted under
  // our name as an earlier start did (the first CA stays trusted too, as after a failed renewal).
  const old = tmp('old-');
  const cnf = join(old, 'ca.cnf');
  writeFileSync(cnf, ['[v3_ca]', 'basicConstraints = critical, CA:TRUE, pathlen:0', 'keyUsage = critical, keyCertSign, cRLSign',
    'nameConstraints = critical, permitted;DNS:localhost, permitted;IP:127.0.0.1/255.255.255.255',
    '[v3_srv]', 'basicConstraints = critical, CA:FALSE', 'extendedKeyUsage = serverAuth', 'subjectAltName = DNS:localhost, IP:127.0.0.1', ''].join('\n'));
  const o = (args) => openssl(args, { cwd: old });
  o(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-subj', '/CN=aging CA',
    '-config', cnf, '-extensions', 'v3_ca', '-days', '10', '-out', join(h.certs, 'ca.pem')]);
  o(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(h.certs, 'server.key'),
    '-subj', '/CN=localhost', '-out', 'srv.csr']);
  o(['x509', '-req', '-in', 'srv.csr', '-CA', join(h.certs, 'ca.pem'), '-CAkey', 'ca.key', '-set_serial', '7', '-days', '10',
    '-extfile', cnf, '-extensions', 'v3_srv', '-out', join(h.certs, 'server.pem')]);
  const aging = serialOf(join(h.certs, 'ca.pem'));
  const user = ME;
  for (const db of h.stores) {
    execFileSync('certutil', ['-A', '-d', `sql:${db}`, '-n', `siths-bridge local CA (user ${user}, ${aging})`, '-t', 'C,,',
      '-i', join(h.certs, 'ca.pem')]);
  }
  // Someone else's entries are not ours to remove: another user's CA, the system service's.
  const foreign = h.stores[0];
  addOther(foreign, 'siths-bridge local CA (user someoneelse, 01)');
  addOther(foreign, 'siths-bridge local CA');
  assert.equal(ours(h.stores[1]).length, 2);

  const r = ok(h.home, [h.certs]);
  assert.match(r.out, /new local CA and server certificate/);
  const renewed = assertTrusted(h, user);
  assert.ok(renewed !== aging && renewed !== first);
  // The new pair holds for more than 30 days, and the old CAs are named as removed.
  openssl(['x509', '-in', join(h.certs, 'ca.pem'), '-noout', '-checkend', String(800 * 86400)]);
  for (const s of [first, aging]) assert.match(r.out, new RegExp(`removed siths-bridge local CA \\(user ${user}, ${s}\\) from`));
  assert.deepEqual(entries(foreign).filter((e) => e.user !== user).map((e) => e.nick).sort(),
    ['siths-bridge local CA', 'siths-bridge local CA (user someoneelse, 01)']);
});

test('--remove takes this user\'s CAs out of every store and leaves the rest', () => {
  const h = desktopHome();
  ok(h.home, [h.certs]);
  addOther(h.stores[0], 'unrelated root');
  const r = ok(h.home, ['--remove']);
  assert.equal(r.out.match(/removed /g).length, h.stores.length, r.out);
  for (const db of h.stores) assert.deepEqual(ours(db), [], db);
  assert.deepEqual(entries(h.stores[0]).map((e) => e.nick), ['unrelated root']);
  assert.equal(run(h.home, ['--frobnicate']).code, 2);
  assert.equal(run(h.home, ['a', 'b']).code, 2);
});

test('as an unprivileged user: no root needed, the state folder private to that user', () => {
  // A HOME owned by "nobody", outside the build tree (whose folders nobody may not enter).
  const base = mkdtempSync(join(tmpdir(), 'siths-nobody-'));
  try {
    const h = desktopHome(base);
    const { uid, gid } = { uid: Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' })), gid: 65534 };
    // The scripts too: the checkout may be where nobody cannot enter (/root in a fresh machine).
    const bin = join(base, 'bin');
    mkdirSync(bin);
    for (const f of ['user-trust.sh', 'localhost-ca.sh']) copyFileSync(join(SRC, 'certs', f), join(bin, f));
    execFileSync('chown', ['-R', `${uid}:${gid}`, base]);
    chownSync(base, uid, gid);
    ok(h.home, [h.certs], { uid, gid, script: join(bin, 'user-trust.sh') });
    assertTrusted(h, 'nobody');
    const mode = (p) => execFileSync('stat', ['-c', '%a %U', p], { encoding: 'utf8' }).trim();
    assert.equal(mode(join(h.home, '.local', 'state', 'siths-bridge')), '700 nobody');
    assert.equal(mode(join(h.certs, 'server.key')), '600 nobody');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
