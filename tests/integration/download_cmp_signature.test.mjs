// download_cmp_signature.test.mjs — CMP with signature protection by the card's authentication
// key, on real parts: every CMP message the daemon sends (p10cr, certConf) is signed by the
// virtual card's INTERNAL AUTHENTICATE, and two servers judge that signature — siths-test-ca
// (without a MAC secret it can check no MAC) and OpenSSL's own mock server (`openssl cmp -port`
// with -srv_trusted, a server nobody here wrote). PIN1 comes with the download exactly when the
// bridge is configured so, and a wrong PIN1 costs one try and makes no key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Proc, freePort, testPki, startTestCa, tmp, startBridge } from '../lib/harness.mjs';
import { setup, closeAll, insert, loginOk, jobEnd, exportCerts, countKind, PIN1, PIN2, WRONG1 } from '../lib/bridge-rig.mjs';

// The daemon with the CMP issuer at url, requests signed by the card, answers signed by a
// certificate under the test root.
const signatureSetup = (url, extra = []) => setup({
  issuer: false,
  args: ['--issuer-cmp', url, '--issuer-cmp-ca', join(testPki(), 'root-ca.pem'), '--issuer-cmp-protection', 'signature',
    '--issuer-cmp-trusted', join(testPki(), 'root-ca.pem'), ...extra],
});

// POST of a download with body; the answer.
async function post(t, card, body) {
  const session = await loginOk(t, card.id);
  return t.api(`/v1/cards/${card.id}/signature-certificate`, { method: 'POST', data: body, headers: { Authorization: `Bearer ${session}` } });
}

// A download with PIN2 and PIN1; resolves with the job's end.
async function enroll(t, card, authPin = PIN1) {
  const from = t.events.mark();
  const r = await post(t, card, { pin: PIN2, auth_pin: authPin });
  assert.equal(r.status, 202, r.body);
  return (await jobEnd(t, r.json.job, from)).end;
}

const proofs = (card) => countKind(card.output, 'internal-auth');

test('siths-test-ca: p10cr and certConf signed by the card\'s authentication key → Finns', async () => {
  const ca = await startTestCa(); // no --mac: it signs its answers and can check no MAC
  const t = await signatureSetup(ca.url);
  try {
    const h = await t.api('/health');
    assert.deepEqual([h.json.issuer.name, h.json.issuer.protection], ['cmp', 'signature']);
    const card = await insert(t);
    await loginOk(t, card.id);
    const before = proofs(card);
    const end = await enroll(t, card);
    assert.equal(end.type, 'job-done', JSON.stringify(end));
    const pem = join(exportCerts(card.state), 'sign-cert.pem');
    execFileSync('openssl', ['verify', '-CAfile', join(ca.pki, 'root-ca.pem'), '-untrusted', join(ca.pki, 'person-3-ca.pem'), pem]);
    const serial = execFileSync('openssl', ['x509', '-in', pem, '-noout', '-serial']).toString().trim().replace('serial=', '');
    await ca.waitFor(new RegExp(`certificate serial ${serial} confirmed`));
    // The download's own login proof, then one card signature per CMP message: p10cr, certConf.
    const wire = await t.bridge.waitFor(/cmp enrollment: (\d+) messages, (\d+) bytes sent, (\d+) bytes received/);
    assert.equal(Number(wire[1]), 2);
    assert.equal(proofs(card) - before, 1 + 2, card.output);
    console.log(`one signature-protected CMP enrollment: ${wire[1]} round trips, ${wire[2]} bytes sent, ${wire[3]} bytes received`);
    assert.doesNotMatch(t.bridge.output + ca.output, new RegExp(`${PIN1}|${PIN2}`));
  } finally { await closeAll(t, ca); }
});

test('"waiting" under signature protection: each pollReq is signed by the card too → Finns', async () => {
  const ca = await startTestCa({ args: ['--delay-polls', '2'] });
  const t = await signatureSetup(ca.url);
  try {
    const card = await insert(t);
    await loginOk(t, card.id);
    const before = proofs(card);
    const end = await enroll(t, card);
    assert.equal(end.type, 'job-done', JSON.stringify(end));
    await ca.waitFor(/pollReq 2: answering the request[^]*confirmed/);
    // login proof + p10cr + 2 pollReq + certConf
    assert.equal(proofs(card) - before, 1 + 4, card.output);
  } finally { await closeAll(t, ca); }
});

test('PIN1 exactly when configured: missing, or with a MAC order → 400; wrong → wrong_pin for auth_pin, no key made', async () => {
  const ca = await startTestCa();
  const t = await signatureSetup(ca.url);
  try {
    const card = await insert(t);
    let r = await post(t, card, { pin: PIN2 });
    assert.equal(r.status, 400, r.body);
    r = await post(t, card, { pin: PIN2, auth_pin: PIN1, enrollment: { reference: 'r', secret: 's' } });
    assert.equal(r.status, 400, r.body);
    r = await post(t, card, { pin: PIN2, auth_pin: '12' });
    assert.equal(r.status, 400, r.body);
    assert.equal(r.json.error.field, 'auth_pin');
    const keys = countKind(card.output, 'generate-key');
    const end = await enroll(t, card, WRONG1);
    assert.equal(end.type, 'job-failed');
    assert.deepEqual([end.code, end.field, end.tries_left], ['wrong_pin', 'auth_pin', 2], JSON.stringify(end));
    assert.equal(countKind(card.output, 'generate-key'), keys, 'no key generated after a wrong PIN1');
    assert.equal(existsSync(join(exportCerts(card.state), 'sign-cert.pem')), false);
    // The next right PIN1 (the login) fills its counter again; the download then succeeds.
    assert.equal((await enroll(t, card)).type, 'job-done');
  } finally { await closeAll(t, ca); }
});

test('a MAC-protected bridge takes no PIN1: auth_pin in the body → 400, nothing sent', async () => {
  const ca = await startTestCa({ args: ['--mac', 'ref:secret'] });
  const t = await setup({ issuer: false, args: ['--issuer-cmp', ca.url, '--issuer-cmp-ca', join(testPki(), 'root-ca.pem')] });
  try {
    const h = await t.api('/health');
    assert.equal(h.json.issuer.protection, 'mac');
    const card = await insert(t);
    const verifies = countKind(card.output, 'verify');
    const r = await post(t, card, { pin: PIN2, auth_pin: PIN1, enrollment: { reference: 'ref', secret: 'secret' } });
    assert.equal(r.status, 400, r.body);
    assert.equal(countKind(card.output, 'verify'), verifies + 2, 'only the login\'s VERIFY and counter read');
  } finally { await closeAll(t, ca); }
});

test('signature protection without --issuer-cmp-trusted, or an unknown protection: the daemon refuses to start', async () => {
  const base = ['--issuer-cmp', 'http://127.0.0.1:9/pkix/', '--issuer-cmp-ca', join(testPki(), 'root-ca.pem')];
  await assert.rejects(startBridge({ args: [...base, '--issuer-cmp-protection', 'signature'] }),
    (e) => /signature protection needs --issuer-cmp-trusted/.test(e.message));
  await assert.rejects(startBridge({ args: [...base, '--issuer-cmp-protection', 'pbm'] }),
    (e) => /expected mac\|signature/.test(e.message));
});

test('siths-test-ca spoiling its answers\' signature (--bad-protection): issuer_failed, nothing written', async () => {
  const ca = await startTestCa({ args: ['--bad-protection'] });
  const t = await signatureSetup(ca.url);
  try {
    const card = await insert(t);
    const end = await enroll(t, card);
    assert.equal(end.code, 'issuer_failed', JSON.stringify(end));
    assert.match(end.message, /error validating protection/);
    assert.equal(existsSync(join(exportCerts(card.state), 'sign-cert.pem')), false);
    // The CA took the card's signature: it issued, then heard nothing more.
    assert.match(ca.output, /issued serial \S+, awaiting certConf/);
  } finally { await closeAll(t, ca); }
});

// OpenSSL's mock server checking our requests' signatures against trust: a fixed certificate
// (one for another key), its answers signed by the test CMP server certificate.
async function startSigningMock(trust, extra = []) {
  const port = await freePort();
  const d = tmp('mock-');
  const pki = testPki();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(d, 'k.pem'), '-subj', '/CN=fixed', '-out', join(d, 'fixed.pem'), '-days', '2'], { stdio: 'ignore' });
  const p = new Proc('openssl', ['cmp', '-port', String(port), '-srv_trusted', trust, '-rsp_cert', join(d, 'fixed.pem'),
    '-srv_cert', join(pki, 'cmp-server.pem'), '-srv_key', join(pki, 'cmp-server.key'), '-srv_untrusted', join(pki, 'person-3-ca.pem'), ...extra]);
  await p.waitFor(/listening|Server listening|CMP info/i, { timeout: 10000 }).catch(() => {});
  p.url = `http://127.0.0.1:${port}/pkix/`;
  return p;
}

test('OpenSSL\'s mock server checks the card\'s signature: accepted (its fixed certificate is then refused as not the card\'s key, certConf signed and taken)', async () => {
  const mock = await startSigningMock(join(testPki(), 'root-ca.pem'));
  const t = await signatureSetup(mock.url);
  try {
    const card = await insert(t);
    const end = await enroll(t, card);
    assert.equal(end.code, 'cert_invalid', JSON.stringify(end));
    await t.bridge.waitFor(/cmp: certificate rejected, the CA took note/);
    assert.doesNotMatch(mock.output, /error validating protection|signature.*(fail|invalid)/i);
    // Two requests it took as validly signed: the p10cr, and the certConf that rejects.
    assert.equal((mock.output.match(/Received request/g) || []).length, 2, mock.output);
    assert.match(mock.output, /certificate rejected by client/);
  } finally { await closeAll(t, mock); }
});

test('OpenSSL\'s mock server trusting another root: it refuses the card\'s signature, a clear job error', async () => {
  const other = join(tmp('other-root-'), 'root.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(tmp('k-'), 'k.pem'), '-subj', '/CN=another root', '-out', other, '-days', '2'], { stdio: 'ignore' });
  const mock = await startSigningMock(other);
  const t = await signatureSetup(mock.url);
  try {
    const card = await insert(t);
    const end = await enroll(t, card);
    assert.equal(end.type, 'job-failed');
    assert.equal(end.code, 'issuer_refused', JSON.stringify(end));
    assert.match(end.issuer_status.text, /no suitable sender cert/);
    assert.match(mock.output, /error validating protection/);
    assert.equal(existsSync(join(exportCerts(card.state), 'sign-cert.pem')), false);
  } finally { await closeAll(t, mock); }
});
