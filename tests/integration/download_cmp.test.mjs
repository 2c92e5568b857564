// download_cmp.test.mjs — the download with the daemon's CMP issuer, end to end on real parts: the
// virtual card's PKCS#10 goes in a MAC-protected p10cr to siths-test-ca (our server) and to
// OpenSSL's own mock server (`openssl cmp -port`, a server nobody here wrote); certConf only after
// the write and read-back; "waiting" followed by polls; the CA's refusal, its error message and an
// unprotected answer, and a missing enrollment order, as clear job errors; the whole download to
// Finns against the mock, whose fixed certificate is made for the key the card generates next
// (siths-cardsim --next-key); the enrollment secret in no log. Prints the wire size of one
// enrollment.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Proc, freePort, testPki, startTestCa, tmp, cmpIssuerArgs, startBridge, localhostCerts, curl } from '../lib/harness.mjs';
import { writeFileSync, chmodSync } from 'node:fs';
import { setup, closeAll, insert, pull, loginOk, jobEnd, exportCerts, countKind, PIN2 } from '../lib/bridge-rig.mjs';

const REF = 'order-4711';
const SECRET = 'Zr8-one-time-secret';

// A download with an enrollment order; resolves with the job's end and progress.
async function enroll(t, card, enrollment = { reference: REF, secret: SECRET }) {
  const session = await loginOk(t, card.id);
  const from = t.events.mark();
  const r = await t.api(`/v1/cards/${card.id}/signature-certificate`, {
    method: 'POST', data: { pin: PIN2, ...(enrollment ? { enrollment } : {}) }, headers: { Authorization: `Bearer ${session}` },
  });
  assert.equal(r.status, 202, r.body);
  return jobEnd(t, r.json.job, from);
}

// The daemon with the CMP issuer at url.
const cmpSetup = (url) => setup({ issuer: false, args: ['--issuer-cmp', url, '--issuer-cmp-ca', join(testPki(), 'root-ca.pem')] });

test('siths-test-ca over CMP: p10cr, validate, write, certConf after the read-back → Finns', async () => {
  const ca = await startTestCa({ args: ['--mac', `${REF}:${SECRET}`] });
  const t = await cmpSetup(ca.url);
  try {
    // Certificates chaining to the TEST root only: a test issuer for /health and the page.
    const h = await t.api('/health');
    assert.deepEqual([h.json.issuer.name, h.json.issuer.test], ['cmp', true]);
    const card = await insert(t);
    const { end, progress } = await enroll(t, card);
    assert.equal(end.type, 'job-done', JSON.stringify(end));
    assert.ok(progress.some((p) => p.stage === 'submit'));
    const exp = exportCerts(card.state);
    const pem = join(exp, 'sign-cert.pem');
    execFileSync('openssl', ['verify', '-CAfile', join(ca.pki, 'root-ca.pem'), '-untrusted', join(ca.pki, 'person-3-ca.pem'), pem]);
    const serial = execFileSync('openssl', ['x509', '-in', pem, '-noout', '-serial']).toString().trim().replace('serial=', '');
    // certConf came after the write: the CA confirms this very certificate.
    await ca.waitFor(new RegExp(`certificate serial ${serial} confirmed`));
    const wire = await t.bridge.waitFor(/cmp enrollment: (\d+) messages, (\d+) bytes sent, (\d+) bytes received/);
    assert.equal(Number(wire[1]), 2, 'p10cr/cp and certConf/pkiconf');
    console.log(`one CMP enrollment: ${wire[1]} round trips, ${wire[2]} bytes sent, ${wire[3]} bytes received`);
    assert.doesNotMatch(t.bridge.output + ca.output, new RegExp(SECRET));
  } finally { await closeAll(t, ca); }
});

test('"waiting": the job says "waiting for the issuer" while it polls, then Finns', async () => {
  const ca = await startTestCa({ args: ['--mac', `${REF}:${SECRET}`, '--delay-polls', '2'] });
  const t = await cmpSetup(ca.url);
  try {
    const card = await insert(t);
    const { end, progress } = await enroll(t, card);
    assert.equal(end.type, 'job-done', JSON.stringify(end));
    assert.ok(progress.some((p) => p.stage === 'submit' && p.message === 'waiting for the issuer'), JSON.stringify(progress));
    await ca.waitFor(/pollReq 2: answering the request[^]*confirmed/);
  } finally { await closeAll(t, ca); }
});

test('no enrollment order, a wrong secret, a malformed order: clear errors, nothing written', async () => {
  const ca = await startTestCa({ args: ['--mac', `${REF}:${SECRET}`] });
  const t = await cmpSetup(ca.url);
  try {
    const card = await insert(t);
    let { end } = await enroll(t, card, null);
    assert.equal(end.type, 'job-failed');
    assert.equal(end.code, 'issuer_refused');
    assert.match(end.message, /no enrollment order/);
    // The CA's answer to a wrong secret is protected with the right one: the client cannot
    // trust it, a protection error (issuer_failed), not a refusal.
    ({ end } = await enroll(t, card, { reference: REF, secret: 'wrong-secret' }));
    assert.equal(end.code, 'issuer_failed', JSON.stringify(end));
    assert.match(end.message, /error validating protection/);
    assert.equal(existsSync(join(exportCerts(card.state), 'sign-cert.pem')), false);
    const bad = await t.api(`/v1/cards/${card.id}/signature-certificate`, { method: 'POST', data: { pin: PIN2, enrollment: { reference: REF } } });
    assert.equal(bad.status, 400);
  } finally { await closeAll(t, ca); }
});

// OpenSSL's mock server: a fixed certificate (by default one for another key), MAC-protected.
async function startMock(extra = [], { rspCert } = {}) {
  const port = await freePort();
  const d = tmp('mock-');
  const pki = testPki();
  if (!rspCert) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(d, 'k.pem'), '-subj', '/CN=fixed', '-out', join(d, 'fixed.pem'), '-days', '2'], { stdio: 'ignore' });
  }
  const p = new Proc('openssl', ['cmp', '-port', String(port), '-srv_ref', REF, '-srv_secret', `pass:${SECRET}`, '-rsp_cert', rspCert || join(d, 'fixed.pem'),
    '-srv_cert', join(pki, 'cmp-server.pem'), '-srv_key', join(pki, 'cmp-server.key'), ...extra]);
  await p.waitFor(/listening|Server listening|CMP info/i, { timeout: 10000 }).catch(() => {});
  p.url = `http://127.0.0.1:${port}/pkix/`;
  return p;
}

test('OpenSSL\'s mock server: its fixed certificate is refused (not the card\'s key), certConf rejects it', async () => {
  const mock = await startMock();
  const t = await cmpSetup(mock.url);
  try {
    const card = await insert(t);
    const { end } = await enroll(t, card);
    assert.equal(end.type, 'job-failed', JSON.stringify(end));
    assert.equal(end.code, 'cert_invalid', JSON.stringify(end));
    await t.bridge.waitFor(/cmp: certificate rejected, the CA took note/);
  } finally { await closeAll(t, mock); }
});

test('OpenSSL\'s mock server refusing (-pkistatus, -failurebits, -statusstring): issuer_refused with its text', async () => {
  const mock = await startMock(['-pkistatus', '2', '-failurebits', '4', '-statusstring', 'order revoked by the RA']);
  const t = await cmpSetup(mock.url);
  try {
    const card = await insert(t);
    const { end } = await enroll(t, card);
    assert.equal(end.code, 'issuer_refused', JSON.stringify(end));
    assert.match(end.message, /rejection.*badRequest.*order revoked by the RA/);
    // In the CA's own terms too, for the page (docs/api/events.md, issuer_status).
    assert.deepEqual(end.issuer_status, { text: 'order revoked by the RA', fail_info: ['badRequest'] });
    const state = await t.api(`/v1/jobs/${end.job}`);
    assert.deepEqual(state.json.issuer_status, end.issuer_status);
  } finally { await closeAll(t, mock); }
});

test('a standing MAC order (--issuer-cmp-mac-file): a download without an order of its own → Finns', async () => {
  const ca = await startTestCa({ args: ['--mac', `${REF}:${SECRET}`] });
  const t = await setup({ issuer: false, args: cmpIssuerArgs(ca, `${REF}:${SECRET}`) });
  try {
    const card = await insert(t);
    const { end } = await enroll(t, card, null);
    assert.equal(end.type, 'job-done', JSON.stringify(end));
    await ca.waitFor(/certificate serial \S+ confirmed/);
    assert.doesNotMatch(t.bridge.output + ca.output, new RegExp(SECRET));
  } finally { await closeAll(t, ca); }
});

test('a MAC file others may read, or not REFERENCE:SECRET: the daemon refuses to start', async () => {
  const f = join(tmp('mac-'), 'order');
  for (const [content, mode] of [[`${REF}:${SECRET}\n`, 0o640], [`${SECRET}\n`, 0o600], [`${REF}:\n`, 0o600]]) {
    writeFileSync(f, content);
    chmodSync(f, mode);
    await assert.rejects(startBridge({ args: ['--issuer-cmp', 'http://127.0.0.1:9/pkix/', '--issuer-cmp-ca', join(testPki(), 'root-ca.pem'), '--issuer-cmp-mac-file', f] }),
      (e) => /MAC file .*(readable by others|REFERENCE:SECRET)/.test(e.message), `${content} mode ${mode.toString(8)}`);
  }
});

test('CMP over HTTPS: siths-test-ca behind TLS, trusted by --issuer-cmp-tls-trusted → Finns; another TLS trust → issuer_failed', async () => {
  const ca = await startTestCa({ tls: true, args: ['--mac', `${REF}:${SECRET}`] });
  let t = await setup({ issuer: false, args: cmpIssuerArgs(ca, `${REF}:${SECRET}`) });
  try {
    assert.match(ca.url, /^https:/);
    const card = await insert(t);
    let { end } = await enroll(t, card);
    assert.equal(end.type, 'job-done', JSON.stringify(end));
    await ca.waitFor(/certificate serial \S+ confirmed/);
    await t.close();
    // The TLS certificate does not chain to the configured trust (the SITHS root is no TLS CA).
    const args = cmpIssuerArgs(ca, `${REF}:${SECRET}`);
    args[args.indexOf('--issuer-cmp-tls-trusted') + 1] = join(testPki(), 'root-ca.pem');
    t = await setup({ issuer: false, args });
    const card2 = await insert(t);
    ({ end } = await enroll(t, card2));
    assert.equal(end.code, 'issuer_failed', JSON.stringify(end));
    assert.match(end.message, /TLS: certificate verify failed/);
  } finally { await closeAll(t, ca); }
});

test('an https URL without --issuer-cmp-tls-trusted: the daemon refuses to start', async () => {
  await assert.rejects(startBridge({ args: ['--issuer-cmp', 'https://127.0.0.1:9/pkix/', '--issuer-cmp-ca', join(testPki(), 'root-ca.pem')] }),
    (e) => /https URL needs --issuer-cmp-tls-trusted/.test(e.message));
});

test('anchors that are not all TEST roots: the CMP issuer is no test issuer (/health)', async () => {
  const anchors = join(tmp('anchors-'), 'anchors.pem');
  writeFileSync(anchors, readFileSync(join(testPki(), 'root-ca.pem'), 'utf8') + readFileSync(localhostCerts().ca, 'utf8'));
  const b = await startBridge({ args: ['--issuer-cmp', 'http://127.0.0.1:9/pkix/', '--issuer-cmp-ca', anchors] });
  try {
    const h = await curl(b.url('/health'));
    assert.deepEqual([h.json.issuer.name, h.json.issuer.test], ['cmp', false]);
  } finally { await b.stop(); }
});

test('confirmed, then the card comes back without it (pulled at the commit): an rr, the CA records it revoked', async () => {
  const ca = await startTestCa({ args: ['--mac', `${REF}:${SECRET}`] });
  const t = await setup({ issuer: false, args: cmpIssuerArgs(ca, `${REF}:${SECRET}`) });
  try {
    // A reference run: the job's last UPDATE BINARY is the CDF entry, the commit.
    const ref = await insert(t);
    assert.equal((await enroll(t, ref, null)).end.type, 'job-done');
    const commit = `update-binary:${countKind(ref.output, 'update-binary')}`;
    await pull(t, ref);
    // Pulled before the card acted on the CDF entry: the daemon cannot know, confirms (the CA's
    // transaction cannot wait for the card) and waits for the card.
    const state = join(tmp('card-'), 'state.json');
    const card = await insert(t, { state, args: ['--drop-at', commit] });
    const caFrom = ca.output.length;
    const session = await loginOk(t, card.id);
    const from = t.events.mark();
    const r = await t.api(`/v1/cards/${card.id}/signature-certificate`, { method: 'POST', data: { pin: PIN2 }, headers: { Authorization: `Bearer ${session}` } });
    assert.equal(r.status, 202, r.body);
    const first = await t.events.waitFor((m) => m.job === r.json.job && ['job-interrupted', 'job-done', 'job-failed'].includes(m.type), { from, timeout: 60000, what: 'the interruption' });
    assert.equal(first.type, 'job-interrupted', JSON.stringify(first));
    const serial = (await ca.waitFor(/certificate serial (\S+) confirmed/, { from: caFrom }))[1];
    await card.exited;
    assert.doesNotMatch(ca.output.slice(caFrom), /revoked/, 'nothing revoked while the card is out');
    // Back without it: the job fails card_removed and the CA is asked to revoke that certificate.
    const back = await insert(t, { state });
    const { end } = await jobEnd(t, r.json.job, from);
    assert.equal(end.code, 'card_removed', JSON.stringify(end));
    await ca.waitFor(new RegExp(`certificate serial ${serial} revoked on request \\(rr\\)`), { from: caFrom });
    assert.match(readFileSync(join(ca.pki, 'cmp-revoked.txt'), 'utf8'), new RegExp(`^${serial} `, 'm'));
    await t.bridge.waitFor(/the issuer revoked the certificate that is not on the card/);
    await pull(t, back);
  } finally { await closeAll(t, ca); }
});

test('OpenSSL\'s mock server sending an error message (-send_error): issuer_refused, nothing written', async () => {
  const mock = await startMock(['-send_error']);
  const t = await cmpSetup(mock.url);
  try {
    const card = await insert(t);
    const { end } = await enroll(t, card);
    assert.equal(end.code, 'issuer_refused', JSON.stringify(end));
    assert.equal(existsSync(join(exportCerts(card.state), 'sign-cert.pem')), false);
  } finally { await closeAll(t, mock); }
});

test('OpenSSL\'s mock server answering unprotected (-send_unprotected): the client refuses the answer, issuer_failed', async () => {
  const mock = await startMock(['-send_unprotected']);
  const t = await cmpSetup(mock.url);
  try {
    const card = await insert(t);
    const { end } = await enroll(t, card);
    assert.equal(end.code, 'issuer_failed', JSON.stringify(end));
    assert.match(end.message, /protection/i);
    assert.equal(existsSync(join(exportCerts(card.state), 'sign-cert.pem')), false);
  } finally { await closeAll(t, mock); }
});

// A certificate for key (PEM file) on the card whose authentication certificate is auth (PEM),
// with the SITHS signature profile: from siths-test-ca, by OpenSSL's own client, before the
// download, so that OpenSSL's mock server can hand it out as its fixed answer.
async function certFor(key, auth) {
  const ca = await startTestCa({ args: ['--mac', `${REF}:${SECRET}`] });
  try {
    const d = tmp('fixed-');
    // The request carries the authentication certificate's subject, as the card's does.
    execFileSync('openssl', ['x509', '-x509toreq', '-in', auth, '-signkey', key, '-sha256', '-out', join(d, 'req.csr')], { stdio: 'ignore' });
    execFileSync('openssl', ['cmp', '-cmd', 'p10cr', '-server', `127.0.0.1:${ca.port}/pkix/`, '-csr', join(d, 'req.csr'), '-ref', REF, '-secret', `pass:${SECRET}`,
      '-extracerts', auth, '-certout', join(d, 'cert.pem'), '-msg_timeout', '20'], { stdio: 'ignore' });
    return join(d, 'cert.pem');
  } finally { await ca.stop(); }
}

test('OpenSSL\'s mock server, its fixed certificate for the key the card makes next (--next-key), polled twice → Finns', async () => {
  const key = join(tmp('next-key-'), 'key.pem');
  execFileSync('openssl', ['genrsa', '-out', key, '2048'], { stdio: 'ignore' });
  const state = join(tmp('card-'), 'state.json');
  // The card's authentication certificate, from the card made at a first insertion.
  const t0 = await setup({ issuer: false });
  try { await pull(t0, await insert(t0, { state })); } finally { await t0.close(); }
  const cert = await certFor(key, join(exportCerts(state), 'auth-cert.pem'));
  const mock = await startMock(['-poll_count', '2', '-check_after', '1', '-rsp_extracerts', join(testPki(), 'person-3-ca.pem')], { rspCert: cert });
  let t, card;
  try {
    t = await cmpSetup(mock.url);
    card = await insert(t, { state, args: ['--next-key', key] });
    const { end, progress } = await enroll(t, card);
    assert.equal(end.type, 'job-done', JSON.stringify(end));
    assert.ok(progress.some((p) => p.stage === 'submit' && p.message === 'waiting for the issuer'), JSON.stringify(progress));
    // The card holds exactly the mock's certificate, written and confirmed.
    const onCard = join(exportCerts(card.state), 'sign-cert.pem');
    const fp = (f) => execFileSync('openssl', ['x509', '-in', f, '-noout', '-fingerprint', '-sha256']).toString();
    assert.equal(fp(onCard), fp(cert));
    assert.match(t.bridge.output, /cmp: certificate confirmed, the CA took note/);
    const wire = t.bridge.output.match(/cmp enrollment: (\d+) messages/);
    assert.equal(Number(wire[1]), 1 + 2 + 1, 'p10cr, two pollReq (the second answered with the certificate), certConf');
    await pull(t, card);
    card = null;
  } finally {
    if (card) await card.stop();
    await closeAll(t, mock);
  }
});

test('siths-test-ca spoiling its answers\' MAC (--bad-protection): issuer_failed, nothing written, certConf never sent', async () => {
  const ca = await startTestCa({ args: ['--mac', `${REF}:${SECRET}`, '--bad-protection'] });
  const t = await cmpSetup(ca.url);
  try {
    const card = await insert(t);
    const { end } = await enroll(t, card);
    assert.equal(end.code, 'issuer_failed', JSON.stringify(end));
    assert.match(end.message, /error validating protection/);
    assert.equal(existsSync(join(exportCerts(card.state), 'sign-cert.pem')), false);
    assert.doesNotMatch(ca.output, /certConf \(|confirmed|rejected by the client/);
  } finally { await closeAll(t, ca); }
});
