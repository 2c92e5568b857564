// download_faults.test.mjs — the download's "failure is part of the feature", against the virtual card
// and the real daemon: wrong PIN2 (tries reported and really decremented once), blocked PIN2
// (job-failed pin_blocked, then 423), PIN2 of the wrong format (400, no try), the card pulled at
// each stage (verify, generate-key, pso-cds, update-binary in the middle of the certificate):
// job-failed card_removed, re-inserted card shows no signature certificate, retry succeeds;
// the issuer failing or answering with another key, subject or chain: refused, nothing written;
// no issuer: 503.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmp } from '../lib/harness.mjs';
import { setup, insert, pull, loginOk, download, jobEnd, runJob, cardModel, modelUntil, exportCerts, countKind, reads, WRONG2 } from '../lib/bridge-rig.mjs';

// PIN2 VERIFYs the card answered (status reads included: only model reads send those).
const pinVerifies = (card) => countKind(card.output, 'verify 00200002');

let t;
before(async () => { t = await setup(); });
after(async () => { if (t) await t.close(); });

const noCert = (state) => !existsSync(join(exportCerts(state), 'sign-cert.der'));

test('wrong PIN2: job-failed wrong_pin with tries_left, counter down by exactly one; third: blocked; then 423', async () => {
  const card = await insert(t);
  try {
    const session = await loginOk(t, card.id);
    for (const left of [2, 1]) {
      const verifies = countKind(card.output, 'verify');
      const { start, end } = await runJob(t, card.id, session, WRONG2);
      assert.equal(start.status, 202, start.body);
      assert.equal(end.type, 'job-failed');
      assert.equal(end.code, 'wrong_pin');
      assert.equal(end.tries_left, left);
      // job-failed in its one shape: card_id (and the deprecated card alias), the stage it failed at.
      assert.equal(end.card_id, card.id);
      assert.equal(end.card, card.id);
      assert.equal(end.stage, 'verify_pin');
      const m = await modelUntil(t, card.id, (x) => x.pins.pin2.tries_left === left, `PIN2 tries ${left}`);
      assert.equal(m.signature_certificate.present, false);
      assert.ok(countKind(card.output, 'verify') > verifies);
    }
    const { end } = await runJob(t, card.id, session, WRONG2);
    assert.equal(end.code, 'pin_blocked');
    assert.equal(end.tries_left, 0);
    await modelUntil(t, card.id, (x) => x.pins.pin2.blocked === true, 'PIN2 blocked');
    const r = await download(t, card.id, session);
    assert.equal(r.status, 423);
    assert.equal(r.json.error.code, 'pin_blocked');
    assert.match(r.json.error.message, /PUK/);
    assert.ok(noCert(card.state));
  } finally { await pull(t, card); }
});

test('PIN2 with letters or of the wrong length: 400 bad_pin, no job, no try used', async () => {
  const card = await insert(t);
  try {
    const session = await loginOk(t, card.id);
    await reads(card, 2);
    const sent = pinVerifies(card);
    for (const pin of ['65432a', '12345', '123456789', '', ' 654321', '６５４３２１']) {
      const r = await download(t, card.id, session, pin);
      assert.equal(r.status, 400, `${JSON.stringify(pin)}: ${r.body}`);
      assert.equal(r.json.error.code, 'bad_pin');
    }
    for (const body of ['{"pin":654321}', '{"pin":null}', '{}', '[]', '{"pin":"654321"', 'pin=654321']) {
      const r = await t.api(`/v1/cards/${card.id}/signature-certificate`, { method: 'POST', data: body, headers: { Authorization: `Bearer ${session}` } });
      assert.equal(r.status, 400, `${body}: ${r.body}`);
    }
    assert.equal(pinVerifies(card), sent, 'no VERIFY for a malformed PIN');
    // The counter is intact: a wrong PIN now leaves 2.
    const { end } = await runJob(t, card.id, session, WRONG2);
    assert.equal(end.tries_left, 2);
  } finally { await pull(t, card); }
});

// The card's commands up to the start of the download, counted on a reference run of the same
// steps (insert, login, download) with the same daemon and profile, so that --drop-at KIND:K
// lands on the job's own K-th command of KIND.
async function commandsBeforeDownload(kind) {
  const card = await insert(t);
  try {
    const session = await loginOk(t, card.id);
    await reads(card, 2);
    const upto = card.mark();
    const { end } = await runJob(t, card.id, session);
    assert.equal(end.type, 'job-done', JSON.stringify(end));
    return countKind(card.output, kind, upto);
  } finally { await pull(t, card); }
}

// extra: which command of the kind inside the job (verify: the status VERIFY comes first).
for (const [kind, extra, what] of [['verify', 2, 'VERIFY PIN2'], ['generate-key', 1, 'GENERATE'],
  ['pso-cds', 1, 'the CSR signature'], ['update-binary', 3, 'the middle of the certificate']]) {
  test(`card pulled at ${what} (--drop-at ${kind}): card_removed; re-inserted: no certificate; retry succeeds`, async () => {
    const k = (await commandsBeforeDownload(kind)) + extra;
    const state = join(tmp('card-'), 'state.json');
    const card = await insert(t, { state, args: ['--drop-at', `${kind}:${k}`] });
    const session = await loginOk(t, card.id);
    const from = t.events.mark();
    const r = await download(t, card.id, session);
    assert.equal(r.status, 202, r.body);
    const { end } = await jobEnd(t, r.json.job, from);
    assert.equal(end.type, 'job-failed', JSON.stringify(end));
    assert.equal(end.code, 'card_removed', JSON.stringify(end));
    await card.waitFor(new RegExp(`card pulled \\(--drop-at ${kind}:${k}\\)`));
    await t.events.waitFor((m) => m.type === 'card-removed' && m.card_id === card.id, { from, what: 'card-removed' });
    await card.exited;
    // Re-insert (same state): no certificate, never a half one; the pull cost no PIN2 try.
    const back = await insert(t, { state });
    try {
      assert.equal(back.id, card.id);
      const m = await cardModel(t, back.id);
      assert.equal(m.signature_certificate.present, false, JSON.stringify(m.signature_certificate));
      assert.ok(noCert(state), 'the card itself lists no signature certificate');
      assert.equal(m.pins.pin2.tries_left, 3);
      const old = await download(t, back.id, session);
      assert.equal(old.status, 401, 'the session ended when the card was pulled');
      assert.equal(old.json.error.code, 'login_required');
      const { end: e2 } = await runJob(t, back.id, await loginOk(t, back.id));
      assert.equal(e2.type, 'job-done', JSON.stringify(e2));
      await modelUntil(t, back.id, (x) => x.signature_certificate.present, 'Finns after retry');
      assert.ok(!noCert(state));
    } finally { await pull(t, back); }
  });
}

// The card's certificate and its signing key agree: --export-certs (the card's own memory, read
// without the daemon) compared with openssl. False if the card lists no signature certificate.
function certMatchesKey(state) {
  const dir = exportCerts(state);
  if (!existsSync(join(dir, 'sign-cert.der'))) return false;
  const spki = (args) => execFileSync('openssl', args, { encoding: 'utf8' });
  const fromCert = spki(['x509', '-inform', 'DER', '-in', join(dir, 'sign-cert.der'), '-noout', '-pubkey']);
  const fromKey = spki(['pkey', '-pubin', '-in', join(dir, 'sign-pub.pem')]);
  return fromCert === fromKey;
}

// Commands the card answered (--verbose: one line per APDU) in output[0..upto), of kind if given.
const apdus = (output, upto, kind = '\\S+') =>
  (output.slice(0, upto).match(new RegExp(`^siths-cardsim: ${kind} [0-9A-F]{8} len`, 'gm')) || []).length;

// A reference run (insert, login, download, the model re-read that ends the job): where the CDF
// commit is (the job's last UPDATE BINARY) and how many READ BINARYs and APDUs came before it and
// by the end of the re-read.
async function readBackCounts() {
  const card = await insert(t);
  try {
    const session = await loginOk(t, card.id);
    await reads(card, 2);
    const { end } = await runJob(t, card.id, session);
    assert.equal(end.type, 'job-done', JSON.stringify(end));
    await reads(card, 3);
    const out = card.output;
    const commit = out.lastIndexOf('siths-cardsim: update-binary ');
    const lineEnd = out.indexOf('\n', commit) + 1;
    const c = { readsBefore: apdus(out, lineEnd, 'read-binary'), readsAll: apdus(out, out.length, 'read-binary'),
      all: apdus(out, out.length), writes: apdus(out, out.length, 'update-binary') };
    assert.ok(c.readsAll > c.readsBefore, 'the re-read after the commit reads the card');
    return c;
  } finally { await pull(t, card); }
}

test('card pulled in the read-back after the CDF commit: card_removed (or done), re-inserted model true to the card, retry succeeds', async () => {
  const c = await readBackCounts();
  // First and last READ BINARY after the commit (pulled before the answer: the re-read breaks),
  // and right after the very last APDU of the re-read (the re-read may have completed).
  for (const [args, strict] of [[['--drop-at', `read-binary:${c.readsBefore + 1}`], true],
    [['--drop-at', `read-binary:${c.readsAll}`], true], [['--drop-after', String(c.all)], false]]) {
    const state = join(tmp('card-'), 'state.json');
    const card = await insert(t, { state, args });
    const session = await loginOk(t, card.id);
    const from = t.events.mark();
    const r = await download(t, card.id, session);
    assert.equal(r.status, 202, r.body);
    const { end } = await jobEnd(t, r.json.job, from);
    await card.waitFor(/card pulled \(--drop-/);
    await t.events.waitFor((m) => m.type === 'card-removed' && m.card_id === card.id, { from, what: 'card-removed' });
    await card.exited;
    // The pull came after the commit: the card answered every write of the reference run.
    const out = card.output;
    assert.equal(apdus(out, out.length, 'update-binary'), c.writes, `${args}: pulled after the commit`);
    assert.ok(apdus(out, out.length, 'read-binary') >= c.readsBefore, `${args}: pulled in the read-back`);
    if (strict || end.type !== 'job-done')
      assert.deepEqual([end.type, end.code], ['job-failed', 'card_removed'], `${args}: ${JSON.stringify(end)}`);
    const back = await insert(t, { state });
    try {
      const m = await cardModel(t, back.id);
      const onCard = certMatchesKey(state);
      assert.equal(m.signature_certificate.present, onCard, `${args}: model ${JSON.stringify(m.signature_certificate)}, card ${onCard}`);
      assert.equal(onCard, true, 'committed before the pull: the card holds the certificate of its key');
      assert.equal(m.pins.pin2.tries_left, 3);
      const { end: e2 } = await runJob(t, back.id, await loginOk(t, back.id));
      assert.equal(e2.type, 'job-done', JSON.stringify(e2));
      await modelUntil(t, back.id, (x) => x.signature_certificate.present, 'Finns after retry');
      assert.ok(certMatchesKey(state), 'the retry wrote the certificate of the new key');
    } finally { await pull(t, back); }
  }
});

for (const [fault, code] of [['fail', 'issuer_failed'], ['other-key', 'cert_invalid'], ['other-subject', 'cert_invalid'],
  ['other-chain', 'cert_invalid'], ['key-usage', 'cert_invalid'], ['expired', 'cert_invalid']]) {
  test(`issuer fault ${fault}: job-failed ${code}, nothing written`, async () => {
    const u = await setup({ env: { SITHS_TEST_ISSUER_FAULT: fault } });
    try {
      const card = await insert(u);
      const writes = () => countKind(card.output, 'update-binary');
      const w0 = writes();
      const { start, end } = await runJob(u, card.id, await loginOk(u, card.id));
      assert.equal(start.status, 202, start.body);
      assert.equal(end.type, 'job-failed');
      assert.equal(end.code, code, JSON.stringify(end));
      assert.equal(writes(), w0, 'no UPDATE BINARY');
      const m = await cardModel(u, card.id);
      assert.equal(m.signature_certificate.present, false);
      await pull(u, card);
      assert.ok(noCert(card.state));
    } finally { await u.close(); }
  });
}

test('no issuer configured: 503 issuer_unavailable, no try used', async () => {
  const u = await setup({ issuer: false });
  try {
    const card = await insert(u);
    const r = await download(u, card.id, await loginOk(u, card.id));
    assert.equal(r.status, 503);
    assert.equal(r.json.error.code, 'issuer_unavailable');
    await reads(card, 2);
    assert.equal(pinVerifies(card), 2, 'only the status reads of two model reads');
    await pull(u, card);
  } finally { await u.close(); }
});
