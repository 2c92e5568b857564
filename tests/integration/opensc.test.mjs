// opensc.test.mjs — independent check of the virtual card: OpenSC 0.23 (not written here) must
// read and use it through pcscd. pkcs15-tool lists PINs, PUK, keys and certificates, reads the
// certificates byte-identical to the card's own export, pkcs11-tool signs with PIN2 and openssl
// verifies; OpenSC's driver probe storm (no ATR mapping) leaves the card working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { tmp, testPki, bin, openscConf, opensc, sendApdus } from '../lib/harness.mjs';
import { openscRig } from '../lib/opensc-rig.mjs';

const PKCS11 = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
let pc, conf;
const rig = openscRig((r) => { ({ pc, conf } = r); });

// A card with its own state; its certificates exported by the card itself (--export-certs).
async function card({ profile, args = [] } = {}) {
  const c = await rig.insert({ profile, args });
  const exp = join(c.state, '..', 'export');
  execFileSync(bin('siths-cardsim'), ['--state', c.state, '--export-certs', exp]);
  c.exportDir = exp;
  return c;
}
const pull = (c) => rig.pull(c);

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
    const log = c.output.slice(from).split('\n').filter((l) => / len (\d+|-) -> /.test(l));
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

// DER helpers for the one CDF entry docs/virtual-card.md specifies (written here from the spec, not
// from the card's code, so a mismatch between the two fails).
const tlv = (tag, ...parts) => {
  const v = Buffer.concat(parts);
  const len = v.length < 0x80 ? Buffer.from([v.length])
    : v.length < 0x100 ? Buffer.from([0x81, v.length]) : Buffer.from([0x82, v.length >> 8, v.length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, v]);
};
const uint = (tag, n) => {
  let b = Buffer.from(n.toString(16).padStart(n.toString(16).length + (n.toString(16).length % 2), '0'), 'hex');
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(tag, b);
};
const signEntry = (len) => tlv(0x30,
  tlv(0x30, tlv(0x0c, Buffer.from('Underskrift')), Buffer.from('03020640', 'hex')),
  tlv(0x30, Buffer.from('040102', 'hex')),
  tlv(0xa1, tlv(0x30, tlv(0x30, tlv(0x04, Buffer.from('3f0050154302', 'hex')), uint(0x02, 0), uint(0x80, len)))));
// Offset after the last top-level entry of a CDF (where the first non-SEQUENCE byte sits).
function cdfEnd(cdf) {
  let i = 0;
  while (i < cdf.length && cdf[i] === 0x30) {
    let len = cdf[i + 1], hdr = 2;
    if (len === 0x81) { len = cdf[i + 2]; hdr = 3; } else if (len === 0x82) { len = cdf[i + 2] << 8 | cdf[i + 3]; hdr = 4; }
    i += hdr + len;
  }
  return i;
}
const hexApdu = (hdr, data) => `${hdr} ${data.length.toString(16).padStart(2, '0')} ${data.toString('hex')}`;

test('the documented write protocol: GENERATE, write certificate + CDF entry; OpenSC lists it and signs with it', async () => {
  const c = await card();
  const dir = tmp('write-');
  try {
    // 1-2: PIN2, new signing key; the card returns 7F49 { 81 n, 82 e }.
    let r = await sendApdus(pc, 0, ['00 A4 08 0C 02 50 15', '00 20 00 02 06 36 35 34 33 32 31', '00 46 00 02 00'], { conf });
    assert.deepEqual(r.map((x) => x.sw), ['9000', '9000', '9000']);
    const t = r[2].data;
    const n = t.subarray(9, 265), e = t.subarray(267);
    const pub = createPublicKey({ key: { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') }, format: 'jwk' });
    writeFileSync(join(dir, 'pub.pem'), pub.export({ type: 'spki', format: 'pem' }));
    // An issuer's certificate for that key (the daemon's download job does this; here openssl).
    writeFileSync(join(dir, 'ext.cnf'), '[sig]\nkeyUsage=critical,nonRepudiation\ncertificatePolicies=2.999.752.1.3\n');
    execFileSync('openssl', ['x509', '-new', '-subj', '/C=SE/O=Test/serialNumber=TSTNMT2321000156-10XK/CN=Olof Svensson Andersson',
      '-force_pubkey', join(dir, 'pub.pem'), '-CA', join(testPki(), 'person-3-ca.pem'), '-CAkey', join(testPki(), 'person-3-ca.key'),
      '-days', '365', '-extfile', join(dir, 'ext.cnf'), '-extensions', 'sig', '-outform', 'DER', '-out', join(dir, 'cert.der')], { stdio: 'pipe' });
    const cert = readFileSync(join(dir, 'cert.der'));
    // 3: certificate into EF 4302 in chunks of at most 255 bytes.
    const writes = ['00 A4 08 0C 04 50 15 43 02'];
    for (let off = 0; off < cert.length; off += 255)
      writes.push(hexApdu(`00 D6 ${(off >> 8).toString(16).padStart(2, '0')} ${(off & 0xff).toString(16).padStart(2, '0')}`, cert.subarray(off, off + 255)));
    r = await sendApdus(pc, 0, writes, { conf });
    assert.ok(r.length === writes.length && r.every((x) => x.sw === '9000'), r.stdout);
    // Not committed yet: OpenSC must not list a signature certificate.
    let d = await opensc(pc, 'pkcs15-tool', ['-D'], { conf });
    assert.equal(d.code, 0, d.stderr);
    assert.doesNotMatch(d.stdout, /X\.509 Certificate \[Underskrift\]/);
    // 5: the commit: the entry + 00 00 at the end of the existing CDF entries, in one APDU.
    r = await sendApdus(pc, 0, ['00 A4 08 0C 04 50 15 44 04', '00 B0 00 00 00'], { conf });
    const end = cdfEnd(r[1].data);
    assert.ok(end > 0 && end < 1024);
    const entry = Buffer.concat([signEntry(cert.length), Buffer.alloc(2)]);
    r = await sendApdus(pc, 0, ['00 20 00 02 06 36 35 34 33 32 31', '00 A4 08 0C 04 50 15 44 04',
      hexApdu(`00 D6 ${(end >> 8).toString(16).padStart(2, '0')} ${(end & 0xff).toString(16).padStart(2, '0')}`, entry)], { conf });
    assert.deepEqual(r.map((x) => x.sw), ['9000', '9000', '9000']);
    // Reset so OpenSC starts from a fresh card session (PIN2 no longer verified).
    await opensc(pc, 'opensc-tool', ['-r', '0', '--reset', 'warm'], { conf });
    d = await opensc(pc, 'pkcs15-tool', ['-D'], { conf });
    assert.match(d.stdout, /X\.509 Certificate \[Underskrift\][\s\S]*?Path\s*: 3f0050154302[\s\S]*?ID\s*: 02/);
    assert.deepEqual(await readCert('02'), cert);
    // The card's own export agrees, and OpenSC signs with the new key.
    const exp = join(dir, 'export');
    execFileSync(bin('siths-cardsim'), ['--state', c.state, '--export-certs', exp]);
    assert.deepEqual(readFileSync(join(exp, 'sign-cert.der')), cert);
    const msg = join(dir, 'msg'), sig = join(dir, 'sig');
    writeFileSync(msg, 'efter nedladdning');
    const s = await opensc(pc, 'pkcs11-tool', ['--module', PKCS11, '--slot-index', '1', '--login', '--pin', '654321',
      '--sign', '--mechanism', 'SHA256-RSA-PKCS', '--id', '02', '--input-file', msg, '--output-file', sig], { conf });
    assert.equal(s.code, 0, s.stdout + s.stderr);
    assert.match(execFileSync('openssl', ['dgst', '-sha256', '-verify', join(dir, 'pub.pem'), '-signature', sig, msg]).toString(), /Verified OK/);
  } finally { await pull(c); }
});
