// opensc.test.mjs — independent check of the virtual card: OpenSC 0.23 (not written here) must
// read and use it through pcscd. pkcs15-tool lists PINs, PUK, keys and certificates, reads the
// certificates byte-identical to the card's own export, pkcs11-tool signs with PIN2 and openssl
// verifies; OpenSC's driver probe storm (no ATR mapping) leaves the card working.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startPcscd, startCard, tmp, testPki, bin, openscConf, opensc, sendApdus, waitCard } from '../lib/harness.mjs';

const PKCS11 = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
let pc, conf;

before(async () => {
  testPki();
  pc = await startPcscd();
  conf = openscConf();
});
after(async () => { if (pc) await pc.stop(); });

// A card with its own state; its certificates exported by the card itself (--export-certs).
async function card({ profile, args = [] } = {}) {
  const dir = tmp('card-');
  const state = join(dir, 'state.json');
  let cardFile;
  if (profile) { cardFile = join(dir, 'card.json'); writeFileSync(cardFile, JSON.stringify(profile)); }
  const c = await startCard({ port: pc.ports[0], state, card: cardFile, args });
  await waitCard(pc, 0, { conf });
  const exp = join(dir, 'export');
  execFileSync(bin('siths-cardsim'), ['--state', state, '--export-certs', exp]);
  c.exportDir = exp;
  return c;
}
async function pull(c) {
  const { code } = await c.stop();
  // SIGTERM: state flushed, exit 0 (under ASan/UBSan also: no leak, no UB report).
  assert.equal(code, 0, c.output);
  await waitCard(pc, 0, { present: false, conf });
}

const pemToDer = (pem) => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');

async function readCert(id) {
  const r = await opensc(pc, 'pkcs15-tool', ['--read-certificate', id], { conf });
  assert.equal(r.code, 0, r.stderr);
  return pemToDer(r.stdout);
}

test('pkcs15-tool -D lists both PINs, the PUK, both keys and the certificates (seed card)', async () => {
  const c = await card();
  try {
    const r = await opensc(pc, 'pkcs15-tool', ['-D'], { conf });
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, /PKCS#15 Card \[SITHS e-id Ordinarie kort\]/);
    assert.match(out, /PIN \[legitimering\][\s\S]*?min_len:6, max_len:8[\s\S]*?Reference\s*: 1 /);
    assert.match(out, /PIN \[underskrift\][\s\S]*?Reference\s*: 2 /);
    assert.match(out, /PIN \[PUK\][\s\S]*?unblockingPin[\s\S]*?min_len:8, max_len:8/);
    assert.match(out, /Private RSA Key \[Legitimering\][\s\S]*?Usage\s*: \[0x04\], sign[\s\S]*?ModLength\s*: 2048[\s\S]*?Auth ID\s*: 01/);
    assert.match(out, /Private RSA Key \[Underskrift\][\s\S]*?nonRepudiation[\s\S]*?Path\s*: 3f005015[\s\S]*?Auth ID\s*: 02/);
    assert.match(out, /X\.509 Certificate \[Legitimering\]/);
    assert.match(out, /X\.509 Certificate \[SITHS Person CA\][\s\S]*?Authority\s*: yes/);
    assert.match(out, /X\.509 Certificate \[SITHS Root CA\]/);
    assert.doesNotMatch(out, /X\.509 Certificate \[Underskrift\]/, 'the seed card has no signature certificate');
    // Certificates byte-identical to what the card holds.
    for (const [id, file] of [['01', 'auth-cert.der'], ['11', 'person-ca.der'], ['12', 'root-ca.der']])
      assert.deepEqual(await readCert(id), readFileSync(join(c.exportDir, file)), `certificate ${id}`);
    assert.ok(!existsSync(join(c.exportDir, 'sign-cert.der')));
    // And the exported chain is the test SITHS hierarchy.
    execFileSync('openssl', ['verify', '-CAfile', join(testPki(), 'root-ca.pem'), '-untrusted',
      join(testPki(), 'person-3-ca.pem'), join(c.exportDir, 'auth-cert.pem')]);
  } finally { await pull(c); }
});

test('pkcs11-tool --login --sign with PIN2 makes a signature openssl verifies with the signature certificate', async () => {
  const c = await card({ profile: { with_signature_certificate: true, holder: 'Åsa Öberg Ärlig', trust_level: 2 } });
  const dir = tmp('sig-');
  try {
    const d = await opensc(pc, 'pkcs15-tool', ['-D'], { conf });
    assert.match(d.stdout, /X\.509 Certificate \[Underskrift\][\s\S]*?Path\s*: 3f0050154302/);
    const sigCert = await readCert('02');
    assert.deepEqual(sigCert, readFileSync(join(c.exportDir, 'sign-cert.der')));
    const text = execFileSync('openssl', ['x509', '-inform', 'DER', '-noout', '-text', '-nameopt', 'utf8',
      '-in', join(c.exportDir, 'sign-cert.der')]).toString();
    assert.match(text, /Non Repudiation/);
    assert.doesNotMatch(text, /Digital Signature/);
    assert.match(text, /CN ?= ?Åsa Öberg Ärlig/);
    assert.match(text, /Policy: 2\.999\.752\.1\.2/);

    const msg = join(dir, 'msg'), sig = join(dir, 'sig'), pub = join(dir, 'pub.pem');
    writeFileSync(msg, 'Underskrift av SITHS e-id ' + Date.now());
    const s = await opensc(pc, 'pkcs11-tool', ['--module', PKCS11, '--slot-index', '1', '--login', '--pin', '654321',
      '--sign', '--mechanism', 'SHA256-RSA-PKCS', '--id', '02', '--input-file', msg, '--output-file', sig], { conf });
    assert.equal(s.code, 0, s.stdout + s.stderr);
    writeFileSync(pub, execFileSync('openssl', ['x509', '-inform', 'DER', '-in', join(c.exportDir, 'sign-cert.der'), '-pubkey', '-noout']));
    const v = execFileSync('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', sig, msg]).toString();
    assert.match(v, /Verified OK/);
    // A flipped message byte must not verify (the check can fail).
    writeFileSync(msg, 'something else');
    assert.throws(() => execFileSync('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', sig, msg], { stdio: 'pipe' }));
  } finally { await pull(c); }
});

test('pkcs11-tool: a wrong PIN2 is refused and really costs a try on the card', async () => {
  const c = await card({ profile: { with_signature_certificate: true } });
  const dir = tmp('sig-');
  try {
    const msg = join(dir, 'msg');
    writeFileSync(msg, 'x');
    const s = await opensc(pc, 'pkcs11-tool', ['--module', PKCS11, '--slot-index', '1', '--login', '--pin', '111111',
      '--sign', '--mechanism', 'SHA256-RSA-PKCS', '--id', '02', '--input-file', msg, '--output-file', join(dir, 'sig')], { conf });
    assert.notEqual(s.code, 0);
    assert.match(s.stdout + s.stderr, /CKR_PIN_INCORRECT/);
    const r = await sendApdus(pc, 0, ['00 A4 08 0C 02 50 15', '00 20 00 02'], { conf });
    assert.equal(r[1].sw, '63C2');
  } finally { await pull(c); }
});

test('pkcs11-tool signs with the authentication key after PIN1 (slot 0)', async () => {
  const c = await card();
  const dir = tmp('sig-');
  try {
    const msg = join(dir, 'msg'), sig = join(dir, 'sig'), pub = join(dir, 'pub.pem');
    writeFileSync(msg, 'inloggning');
    const s = await opensc(pc, 'pkcs11-tool', ['--module', PKCS11, '--slot-index', '0', '--login', '--pin', '123456',
      '--sign', '--mechanism', 'SHA256-RSA-PKCS', '--id', '01', '--input-file', msg, '--output-file', sig], { conf });
    assert.equal(s.code, 0, s.stdout + s.stderr);
    writeFileSync(pub, execFileSync('openssl', ['x509', '-in', join(c.exportDir, 'auth-cert.pem'), '-pubkey', '-noout']));
    assert.match(execFileSync('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', sig, msg]).toString(), /Verified OK/);
  } finally { await pull(c); }
});

test('OpenSC probe storm without the ATR mapping: every APDU gets a status word, the card still works', async () => {
  const c = await card({ args: ['--verbose'] });
  try {
    const plain = openscConf({ mapAtr: false });
    const from = c.mark();
    const n = await opensc(pc, 'opensc-tool', ['-r', '0', '-n'], { conf: plain });
    await opensc(pc, 'pkcs15-tool', ['-D'], { conf: plain });
    assert.ok(n.stdout.length > 0 || n.stderr.length > 0);
    const log = c.output.slice(from).split('\n').filter((l) => / len \d+ -> /.test(l));
    assert.ok(log.length >= 20, `expected a probe storm, saw ${log.length} APDUs`);
    for (const l of log) assert.match(l, / -> (9000|61[0-9A-F]{2}|62[0-9A-F]{2}|63C[0-3]|6[789ABCDE][0-9A-F]{2}|6983)$/, l);
    assert.ok(log.some((l) => /-> (6A82|6D00|6E00|6A86|6A88)$/.test(l)), 'foreign commands refused');
    assert.equal(c.exitCode, undefined, 'card process still running');
    // And with the mapping OpenSC still reads everything.
    const r = await opensc(pc, 'pkcs15-tool', ['-D'], { conf });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /PIN \[underskrift\]/);
    assert.match(r.stdout, /Private RSA Key \[Underskrift\]/);
  } finally { await pull(c); }
});
