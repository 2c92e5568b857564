// testca_cmp.test.mjs — an independent client against our CMP server: OpenSSL's own `openssl cmp`
// enrolls with a p10cr and with an ir (a software key) at siths-test-ca, MAC- and signature-protected, polls when told to wait,
// confirms or rejects (a rejected certificate is recorded as revoked), gets clear refusals, and
// refuses answers whose protection the CA spoilt on purpose (--bad-protection);
// `openssl verify` accepts what it issued against the test SITHS hierarchy. The "card" here is a
// software key with an authentication certificate of the test person CA. openssl runs with
// spawnSync, which holds node's event loop: the CA's log is read afterwards with waitFor.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmp, testPki, startTestCa } from '../lib/harness.mjs';

const SUBJ = '/C=SE/O=Testregionen/CN=Anna Testsson/serialNumber=TSTNMT2321000156-B123';
let card;

const ossl = (args) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

// A software stand-in for a card: auth key + certificate of person CA 3, a PKCS#10 for a new key.
function softCard() {
  const d = tmp('softcard-');
  const pki = testPki();
  writeFileSync(join(d, 'ext.cnf'), [
    '[auth]', 'keyUsage=critical,digitalSignature,keyEncipherment',
    'subjectAltName=email:anna@example.se,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:anna@example.se',
    'certificatePolicies=2.999.752.1.3', 'authorityKeyIdentifier=keyid', ''].join('\n'));
  ossl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(d, 'auth.key'), '-subj', SUBJ, '-out', join(d, 'auth.csr')]);
  ossl(['x509', '-req', '-in', join(d, 'auth.csr'), '-CA', join(pki, 'person-3-ca.pem'), '-CAkey', join(pki, 'person-3-ca.key'),
    '-set_serial', '0x' + Date.now().toString(16), '-days', '300', '-extfile', join(d, 'ext.cnf'), '-extensions', 'auth', '-out', join(d, 'auth.pem')]);
  ossl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(d, 'sign.key'), '-subj', SUBJ, '-sha256', '-out', join(d, 'sign.csr')]);
  return { dir: d, auth: join(d, 'auth.pem'), authKey: join(d, 'auth.key'), csr: join(d, 'sign.csr'), signKey: join(d, 'sign.key') };
}

// openssl cmp against ca with the request's arguments req; { status, out, cert } (cert: path if
// one was saved).
function cmp(ca, req, extra) {
  const cert = join(tmp('cmpout-'), 'cert.pem');
  const r = spawnSync('openssl', ['cmp', ...req, '-server', `127.0.0.1:${ca.port}/pkix/`,
    '-certout', cert, '-msg_timeout', '20', '-total_timeout', '60', ...extra], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr, cert: existsSync(cert) ? cert : null };
}
// p10cr: the "card's" PKCS#10. ir: a CRMF request for a software key (the client signs the proof
// of possession with it), the subject in the template.
const p10cr = (ca, extra) => cmp(ca, ['-cmd', 'p10cr', '-csr', card.csr], extra);
const ir = (ca, extra, key = card.signKey) => cmp(ca, ['-cmd', 'ir', '-newkey', key, '-subject', SUBJ], extra);

const mac = (ref, secret) => ['-ref', ref, '-secret', `pass:${secret}`, '-extracerts', card.auth];
const sig = (ca) => ['-cert', card.auth, '-key', card.authKey, '-trusted', join(ca.pki, 'root-ca.pem')];
const serialOf = (pem) => ossl(['x509', '-in', pem, '-noout', '-serial']).trim().replace(/^serial=/, '');
const revoked = (ca) => (existsSync(join(ca.pki, 'cmp-revoked.txt')) ? readFileSync(join(ca.pki, 'cmp-revoked.txt'), 'utf8') : '');

function assertSithsSignatureCert(ca, pem) {
  ossl(['verify', '-CAfile', join(ca.pki, 'root-ca.pem'), '-untrusted', join(ca.pki, 'person-3-ca.pem'), pem]);
  const text = ossl(['x509', '-in', pem, '-noout', '-text', '-nameopt', 'RFC2253']);
  assert.match(text, /Subject: serialNumber=TSTNMT2321000156-B123,CN=Anna Testsson,O=Testregionen,C=SE/);
  assert.match(text, /X509v3 Key Usage: critical\s+Non Repudiation\n/);
  assert.match(text, /email:anna@example\.se, othername: UPN::anna@example\.se/);
  assert.match(text, /Policy: 2\.999\.752\.1\.3/);
  const pub = ossl(['x509', '-in', pem, '-noout', '-pubkey']);
  assert.equal(pub, ossl(['req', '-in', card.csr, '-noout', '-pubkey']), 'for the key of the request');
}

let macCa, sigCa;
before(async () => {
  card = softCard();
  macCa = await startTestCa({ args: ['--mac', 'order-4711:Xq7-one-time'] });
  sigCa = await startTestCa();
});
after(async () => {
  for (const ca of [macCa, sigCa]) if (ca) {
    const { code } = await ca.stop();
    assert.equal(code, 0, ca.output);
    assert.doesNotMatch(ca.output, /Sanitizer|runtime error/);
  }
});

test('MAC-protected p10cr: issued, confirmed, verifies against the test hierarchy', async () => {
  const from = macCa.mark();
  const r = p10cr(macCa, mac('order-4711', 'Xq7-one-time'));
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /sending P10CR[\s\S]*received CP[\s\S]*sending CERTCONF[\s\S]*received PKICONF/);
  assertSithsSignatureCert(macCa, r.cert);
  const serial = serialOf(r.cert);
  await macCa.waitFor(new RegExp(`certificate serial ${serial} confirmed`), { from });
  assert.doesNotMatch(revoked(macCa), new RegExp(serial));
  assert.doesNotMatch(macCa.output, /Xq7-one-time/, 'the secret is never logged');
});

test('signature-protected p10cr (the auth key signs): issued and confirmed', async () => {
  const from = sigCa.mark();
  const r = p10cr(sigCa, sig(sigCa));
  assert.equal(r.status, 0, r.out);
  assertSithsSignatureCert(sigCa, r.cert);
  await sigCa.waitFor(new RegExp(`certificate serial ${serialOf(r.cert)} confirmed`), { from });
});

test('ir with a software key (CRMF, proof of possession signed with it), MAC and signature: issued, confirmed, verifies', async () => {
  for (const [ca, prot] of [[macCa, mac('order-4711', 'Xq7-one-time')], [sigCa, sig(sigCa)]]) {
    const from = ca.mark();
    const r = ir(ca, prot);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /sending IR[\s\S]*received IP[\s\S]*sending CERTCONF[\s\S]*received PKICONF/);
    assertSithsSignatureCert(ca, r.cert);
    await ca.waitFor(new RegExp(`ir \\(\\d+ bytes\\) answered with ip[^]*certificate serial ${serialOf(r.cert)} confirmed`), { from });
  }
});

test('ir refused: without a proof of possession (RA-verified), and for a key below 2048 bits', async () => {
  const prot = mac('order-4711', 'Xq7-one-time');
  let r = ir(macCa, [...prot, '-popo', '0']);
  assert.notEqual(r.status, 0, r.out);
  assert.equal(r.cert, null);
  assert.match(r.out, /PKIStatus: rejection; PKIFailureInfo: badPOP/, r.out);
  const weak = join(card.dir, 'weak.key');
  ossl(['genrsa', '-out', weak, '1024']);
  r = ir(macCa, prot, weak);
  assert.notEqual(r.status, 0, r.out);
  assert.equal(r.cert, null);
  assert.match(r.out, /PKIFailureInfo: badDataFormat; StatusString: "the requested key is not RSA of 2048 bits or more"/, r.out);
});

test('a wrong secret is refused and nothing is issued', async () => {
  const from = macCa.mark();
  const r = p10cr(macCa, mac('order-4711', 'not-the-secret'));
  assert.notEqual(r.status, 0);
  assert.equal(r.cert, null);
  assert.match(r.out, /received ERROR/, r.out);
  await macCa.waitFor(/p10cr \(\d+ bytes\) answered with error/, { from });
  assert.doesNotMatch(macCa.output.slice(from), /issued serial/);
});

test('a certificate the client rejects in certConf is recorded as revoked', async () => {
  // -out_trusted with a store that cannot verify the new certificate: OpenSSL's client rejects it.
  const r = p10cr(sigCa, [...sig(sigCa), '-out_trusted', card.auth]);
  assert.notEqual(r.status, 0);
  assert.match(r.out, /sending CERTCONF[\s\S]*received PKICONF/);
  const m = await sigCa.waitFor(/certificate serial ([0-9A-F]+) rejected by the client, revoked/);
  assert.match(revoked(sigCa), new RegExp(`^${m[1]} PKIStatus: rejection; PKIFailureInfo: incorrectData`, 'm'));
});

test('--delay-polls: "waiting", the client polls, then gets the certificate', async () => {
  const ca = await startTestCa({ args: ['--delay-polls', '2'] });
  try {
    const r = p10cr(ca, sig(ca));
    assert.equal(r.status, 0, r.out);
    assert.equal((r.out.match(/sending POLLREQ/g) || []).length, 2, r.out);
    assertSithsSignatureCert(ca, r.cert);
    await ca.waitFor(/pollReq 1: still waiting\n[^]*pollReq 2: answering the request/);
  } finally { await ca.stop(); }
});

test('--reject: the CA\'s refusal reaches the client with its text and failInfo', async () => {
  const ca = await startTestCa({ args: ['--reject', 'enrollment order expired'] });
  try {
    const r = p10cr(ca, sig(ca));
    assert.notEqual(r.status, 0);
    assert.match(r.out, /PKIStatus: rejection; PKIFailureInfo: badRequest; StatusString: "enrollment order expired"/);
  } finally { await ca.stop(); }
});

test('--bad-protection: OpenSSL\'s client refuses the spoilt answer, MAC or signature, and saves no certificate', async () => {
  for (const [args, prot] of [[['--mac', 'order-4711:Xq7-one-time'], () => mac('order-4711', 'Xq7-one-time')], [[], sig]]) {
    const ca = await startTestCa({ args: [...args, '--bad-protection'] });
    try {
      const r = p10cr(ca, prot(ca));
      assert.notEqual(r.status, 0, r.out);
      assert.equal(r.cert, null);
      assert.match(r.out, /error validating protection/, r.out);
    } finally { await ca.stop(); }
  }
});

test('a request for a card of another CA is refused: no authentication certificate of the test CA', () => {
  const r = p10cr(macCa, ['-ref', 'order-4711', '-secret', 'pass:Xq7-one-time']);
  assert.notEqual(r.status, 0);
  assert.match(r.out, /badCertTemplate; StatusString: "no authentication certificate of this CA/);
});

test('HTTP: only POST application/pkixcmp at /pkix/', () => {
  const curl = (args) => spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', ...args], { encoding: 'utf8' }).stdout;
  assert.equal(curl([macCa.url]), '405');
  assert.equal(curl([`http://127.0.0.1:${macCa.port}/other`]), '404');
  assert.equal(curl(['-X', 'POST', '-H', 'Content-Type: text/plain', '--data', 'x', macCa.url]), '415');
  assert.equal(curl(['-X', 'POST', '-H', 'Content-Type: application/pkixcmp', '--data', 'garbage', macCa.url]), '400');
});
