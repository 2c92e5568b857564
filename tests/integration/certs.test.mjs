// certs.test.mjs — the local CA scripts: localhost-ca.sh makes a server certificate that verifies
// for localhost/127.0.0.1/::1 under a root with critical name constraints and pathlen:0, and
// destroys the root's key; a certificate for another name under such a root fails verification;
// reruns are idempotent, --renew makes a new CA; trust-localhost-ca.sh installs into and removes
// from a private NSS database (never the machine's) and refuses an unconstrained CA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { SRC, tmp } from '../lib/harness.mjs';

const script = join(SRC, 'certs', 'localhost-ca.sh');
const trust = join(SRC, 'certs', 'trust-localhost-ca.sh');

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return { code: r.status, out: (r.stdout || '') + (r.stderr || '') };
}
const x509text = (f) => execFileSync('openssl', ['x509', '-in', f, '-noout', '-text'], { encoding: 'utf8' });
const ncOf = (text) => {
  const m = text.match(/X509v3 Name Constraints: critical\n([\s\S]*?)\n\s*X509v3|X509v3 Name Constraints: critical\n([\s\S]*?)\n\s*Signature Algorithm/);
  return m ? (m[1] || m[2]).replace(/\s+/g, ' ').trim() : null;
};

// Every regular file of the source tree (relative paths), without what .gitignore keeps out of it
// (build folders, node_modules) and without .git: the same walk in a clone and in an export.
function sourceFiles(top, rel = '') {
  const out = [];
  for (const e of readdirSync(join(top, rel), { withFileTypes: true })) {
    const r = rel ? join(rel, e.name) : e.name;
    const ignored = /^(\.git|node_modules)$/.test(e.name) || (!rel && /^build/.test(e.name));
    if (e.isDirectory() && !ignored) out.push(...sourceFiles(top, r));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

// One run of the script with a private TMPDIR, so leftovers of the CA key can be looked for.
function makeCa() {
  const base = tmp('ca-');
  const dir = join(base, 'out');
  const t = join(base, 'tmp');
  mkdirSync(t);
  const r = sh(script, [dir], { env: { ...process.env, TMPDIR: t } });
  assert.equal(r.code, 0, r.out);
  return { base, dir, t, ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

test('server certificate verifies for localhost, 127.0.0.1 and ::1 under the local CA', () => {
  const c = makeCa();
  for (const extra of [['-verify_hostname', 'localhost'], ['-verify_ip', '127.0.0.1'], ['-verify_ip', '::1']]) {
    const r = sh('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', c.ca, ...extra, c.cert]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /: OK/);
  }
  // ...and not for another name, even though the chain is fine.
  const r = sh('openssl', ['verify', '-CAfile', c.ca, '-verify_hostname', 'example.com', c.cert]);
  assert.notEqual(r.code, 0, r.out);
  assert.equal((statSync(c.key).mode & 0o777), 0o600);
});

test('the root has critical name constraints (localhost, 127.0.0.1/32, ::1/128) and pathlen:0', () => {
  const c = makeCa();
  const t = x509text(c.ca);
  assert.match(t, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
  assert.match(t, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
  const nc = ncOf(t);
  assert.ok(nc, t);
  assert.equal(nc, 'Permitted: DNS:localhost IP:127.0.0.1/255.255.255.255 IP:0:0:0:0:0:0:0:1/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF');
  const s = x509text(c.cert);
  assert.match(s, /DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1/);
  assert.match(s, /CA:FALSE/);
});

test('the CA private key does not exist after the script', () => {
  const c = makeCa();
  assert.deepEqual(readdirSync(c.dir).sort(), ['ca.pem', 'server.key', 'server.pem']);
  assert.deepEqual(readdirSync(c.t), [], 'no temporary files are left behind');
  // The one key that remains is the server's, not the CA's.
  const caPub = execFileSync('openssl', ['x509', '-in', c.ca, '-noout', '-pubkey'], { encoding: 'utf8' });
  const keyPub = execFileSync('openssl', ['pkey', '-in', c.key, '-pubout'], { encoding: 'utf8' });
  const certPub = execFileSync('openssl', ['x509', '-in', c.cert, '-noout', '-pubkey'], { encoding: 'utf8' });
  assert.notEqual(caPub, keyPub);
  assert.equal(certPub, keyPub);
  // No file anywhere in the source tree holds a private key matching the CA.
  const withKeys = sourceFiles(SRC).filter((f) => /PRIVATE KEY/.test(readFileSync(join(SRC, f), 'latin1')));
  for (const f of withKeys) {
    const pub = sh('openssl', ['pkey', '-in', join(SRC, f), '-pubout']).out;
    assert.notEqual(pub, caPub, `${f} holds the CA key`);
  }
});

test('a certificate for another name under a root with the same constraints fails verification', () => {
  const c = makeCa();
  const d = tmp('evilca-');
  // A test CA with exactly the script's constraints, whose key this test keeps (the script's is gone).
  writeFileSync(join(d, 'ca.cnf'), [
    '[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', 'CN = test constrained CA',
    '[v3_ca]', 'basicConstraints = critical, CA:TRUE, pathlen:0', 'keyUsage = critical, keyCertSign, cRLSign',
    'nameConstraints = critical, permitted;DNS:localhost, permitted;IP:127.0.0.1/255.255.255.255, permitted;IP:::1/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF',
    '[v3_evil]', 'basicConstraints = critical, CA:FALSE', 'extendedKeyUsage = serverAuth', 'subjectAltName = DNS:example.com',
    '[v3_good]', 'basicConstraints = critical, CA:FALSE', 'extendedKeyUsage = serverAuth', 'subjectAltName = DNS:localhost', ''].join('\n'));
  const o = (args) => execFileSync('openssl', args, { cwd: d, stdio: ['ignore', 'pipe', 'pipe'] });
  o(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key',
    '-config', 'ca.cnf', '-extensions', 'v3_ca', '-days', '2', '-out', 'ca.pem']);
  assert.equal(ncOf(x509text(join(d, 'ca.pem'))), ncOf(x509text(c.ca)), 'the test CA must carry the same constraints');
  for (const [ext, cn] of [['v3_evil', 'example.com'], ['v3_good', 'localhost']]) {
    o(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${cn}.key`,
      '-subj', `/CN=${cn}`, '-out', `${cn}.csr`]);
    o(['x509', '-req', '-in', `${cn}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1',
      '-extfile', 'ca.cnf', '-extensions', ext, '-out', `${cn}.pem`]);
  }
  const good = sh('openssl', ['verify', '-CAfile', join(d, 'ca.pem'), join(d, 'localhost.pem')]);
  assert.equal(good.code, 0, `control: a localhost cert under the test CA verifies\n${good.out}`);
  const evil = sh('openssl', ['verify', '-CAfile', join(d, 'ca.pem'), join(d, 'example.com.pem')]);
  assert.notEqual(evil.code, 0, evil.out);
  assert.match(evil.out, /permitted subtree violation/);
});

test('rerun keeps a valid certificate; --renew makes a new CA', () => {
  const c = makeCa();
  const before = { ca: readFileSync(c.ca, 'utf8'), cert: readFileSync(c.cert, 'utf8') };
  let r = sh(script, [c.dir]);
  assert.equal(r.code, 0, r.out);
  assert.equal(readFileSync(c.ca, 'utf8'), before.ca);
  assert.equal(readFileSync(c.cert, 'utf8'), before.cert);
  r = sh(script, [c.dir, '--renew']);
  assert.equal(r.code, 0, r.out);
  assert.notEqual(readFileSync(c.ca, 'utf8'), before.ca);
  assert.equal(sh('openssl', ['verify', '-CAfile', c.ca, c.cert]).code, 0);
  // A broken set (server cert not from this CA) is replaced, not kept.
  writeFileSync(c.ca, before.ca);
  r = sh(script, [c.dir]);
  assert.equal(r.code, 0, r.out);
  assert.equal(sh('openssl', ['verify', '-CAfile', c.ca, c.cert]).code, 0);
  assert.equal(sh(script, []).code, 2);
});

test('trust script: install into a private NSS db, certutil lists it, uninstall removes it', () => {
  const c = makeCa();
  const db = join(tmp('nss-'), 'nssdb');
  const list = () => execFileSync('certutil', ['-L', '-d', `sql:${db}`], { encoding: 'utf8' });
  let r = sh(trust, ['install', c.ca, '--nssdb', db]);
  assert.equal(r.code, 0, r.out);
  assert.match(list(), /siths-bridge local CA\s+C,,/);
  // Installing again (e.g. after renewal) leaves exactly one copy.
  assert.equal(sh(trust, ['install', c.ca, '--nssdb', db]).code, 0);
  assert.equal(list().match(/siths-bridge local CA/g).length, 1);
  // NSS itself accepts the server certificate for SSL server use through this root...
  execFileSync('certutil', ['-A', '-d', `sql:${db}`, '-n', 'server', '-t', ',,', '-i', c.cert]);
  const verify = () => sh('certutil', ['-V', '-d', `sql:${db}`, '-u', 'V', '-n', 'server']);
  let v = verify();
  assert.equal(v.code, 0, v.out);
  r = sh(trust, ['uninstall', '--nssdb', db]);
  assert.equal(r.code, 0, r.out);
  assert.doesNotMatch(list(), /siths-bridge local CA/);
  // ...and no longer once the root is gone.
  v = verify();
  assert.notEqual(v.code, 0, v.out);
});

test('trust script refuses a CA without name constraints and bad usage', () => {
  const d = tmp('plainca-');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', join(d, 'k.pem'), '-subj', '/CN=plain', '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-out', join(d, 'ca.pem')], { stdio: 'ignore' });
  const db = join(d, 'nssdb');
  const r = sh(trust, ['install', join(d, 'ca.pem'), '--nssdb', db]);
  assert.notEqual(r.code, 0);
  assert.match(r.out, /refusing/);
  assert.ok(!existsSync(join(db, 'cert9.db')) || !/siths-bridge/.test(
    execFileSync('certutil', ['-L', '-d', `sql:${db}`], { encoding: 'utf8' })));
  assert.equal(sh(trust, []).code, 2);
  assert.equal(sh(trust, ['install', '--nssdb', db]).code, 2);
  assert.equal(sh(trust, ['frobnicate']).code, 2);
});
