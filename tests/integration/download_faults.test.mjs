// download_faults.test.mjs — the download's "failure is part of the feature", against the virtual card
// and the real daemon: wrong PIN2 (tries reported and really decremented once), blocked PIN2
// (job-failed pin_blocked, then 423), PIN2 of the wrong format (400, no try), the card pulled at
// each stage before the commit (verify, generate-key, pso-cds, update-binary in the middle of the
// certificate): job-failed card_removed, re-inserted card shows no signature certificate, retry
// succeeds; pulled after the commit or at it: job-interrupted, and the card's return ends the job
// done or failed as the card says (another state of the same card: failed);
// the issuer failing or answering with another key, subject or chain: refused, nothing written;
// no issuer: 503.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmp } from '../lib/harness.mjs';
import { setup, insert, pull, loginOk, download, jobEnd, runJob, cardModel, modelUntil, exportCerts, countKind, WRONG2 } from '../lib/bridge-rig.mjs';

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
    await card.settled();
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
    await card.settled();
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

// A reference run (insert, login, download, the read of PIN2's counter that ends the job): where
// the CDF commit is (the job's last UPDATE BINARY, the commitAt-th APDU since the card connected)
// and how many APDUs there are by the end.
async function afterCommitCounts() {
  const card = await insert(t);
  try {
    const session = await loginOk(t, card.id);
    const { end } = await runJob(t, card.id, session);
    assert.equal(end.type, 'job-done', JSON.stringify(end));
    await card.settled();
    const out = card.output;
    const commit = out.lastIndexOf('siths-cardsim: update-binary ');
    const c = { commitAt: apdus(out, out.indexOf('\n', commit) + 1), all: apdus(out, out.length),
      writes: apdus(out, out.length, 'update-binary'), state: card.state };
    // The daemon knows what it wrote: after the commit only PIN2's counter is read.
    const after = [...out.slice(commit).matchAll(/^siths-cardsim: (\S+) ([0-9A-F]{8})/gm)].map((m) => `${m[1]} ${m[2].slice(0, 4)}`);
    assert.deepEqual(after, ['update-binary 00D6', 'select 00A4', 'verify 0020'], 'the commit, then SELECT and PIN2\'s empty VERIFY');
    return c;
  } finally { await pull(t, card); }
}

// The job's events until one of types, from the mark `from` (an interrupted job does not end
// until its card is back, so jobEnd's done/failed is not what to wait for first).
const jobUntil = (t, job, types, from, what) =>
  t.events.waitFor((m) => types.includes(m.type) && m.job === job, { from, timeout: 60000, what: `${what} of job ${job}` });

// Starts a download on a card inserted with args (its state at `state`) and waits until the card
// pulled itself and the daemon saw it go: the job's first terminal or interrupted event.
async function pulledDownload(args, state = join(tmp('card-'), 'state.json')) {
  const card = await insert(t, { state, args });
  const session = await loginOk(t, card.id);
  const from = t.events.mark();
  const r = await download(t, card.id, session);
  assert.equal(r.status, 202, r.body);
  const first = await jobUntil(t, r.json.job, ['job-interrupted', 'job-done', 'job-failed'], from, 'end or interruption');
  await card.waitFor(/card pulled \(--drop-/);
  await t.events.waitFor((m) => m.type === 'card-removed' && m.card_id === card.id, { from, what: 'card-removed' });
  await card.exited;
  return { card, job: r.json.job, first, from, state };
}

// Inserts a card with `state` for an interrupted job and waits for the job's end, which must come
// with (after) the card-inserted of the same card id.
async function returnFor(p, state) {
  const from = t.events.mark();
  const back = await insert(t, { state });
  const end = await jobUntil(t, p.job, ['job-done', 'job-failed'], from, 'end after the return');
  const ins = t.events.msgs.slice(from).findIndex((m) => m.type === 'card-inserted' && m.card.id === back.id);
  const fin = t.events.msgs.slice(from).findIndex((m) => m === end);
  assert.ok(ins >= 0 && ins < fin, 'the job ends on the card-inserted of its card');
  return { back, end };
}

// The interrupted job in its event and its REST state: the stage it was at, card_id, the code.
async function assertInterrupted(p, what) {
  const ev = p.first;
  assert.equal(ev.type, 'job-interrupted', `${what}: ${JSON.stringify(ev)}`);
  assert.equal(ev.code, 'card_removed_after_commit');
  assert.equal(ev.card_id, p.card.id);
  assert.ok(['write', 'verify'].includes(ev.stage), `${what}: stage ${ev.stage}`);
  const later = t.events.msgs.slice(p.from).filter((m) => m.job === p.job && m.type !== 'job-progress');
  assert.deepEqual(later.map((m) => m.type), ['job-interrupted'], `${what}: nothing after the interruption while the card is out`);
  const s = await t.api(`/v1/jobs/${p.job}`);
  assert.equal(s.status, 200, s.body);
  assert.equal(s.json.state, 'interrupted');
  assert.equal(s.json.code, 'card_removed_after_commit');
  assert.equal(s.json.card_id, p.card.id);
}

test('card pulled in the read after the CDF commit: job-done, or job-interrupted and done when the same card is back; never a second download', async () => {
  const c = await afterCommitCounts();
  // Every APDU after the answered commit (pulled before its answer: the read breaks), and right
  // after the very last one. The card layer knows it holds the certificate once the commit was
  // answered, so the job may end done at once; if the daemon saw the card go first, it is
  // interrupted and the card's return decides. Never failed, never a second download.
  const cases = [];
  for (let k = c.commitAt + 1; k <= c.all; k++) cases.push(['--drop-at', `any:${k}`]);
  cases.push(['--drop-after', String(c.all)]);
  for (const args of cases) {
    const p = await pulledDownload(args);
    const out = p.card.output;
    assert.equal(apdus(out, out.length, 'update-binary'), c.writes, `${args}: pulled after the commit`);
    assert.ok(certMatchesKey(p.state), `${args}: committed before the pull: the card holds the certificate of its key`);
    if (p.first.type === 'job-done') continue;
    await assertInterrupted(p, args.join(' '));
    const { back, end } = await returnFor(p, p.state);
    try {
      assert.equal(back.id, p.card.id);
      assert.equal(end.type, 'job-done', `${args}: ${JSON.stringify(end)}`);
      assert.equal(end.card_id, back.id);
      assert.equal(end.percent, 100);
      const m = await cardModel(t, back.id);
      assert.equal(m.signature_certificate.present, true, JSON.stringify(m.signature_certificate));
      assert.equal(m.signature_certificate.key_checked, true);
      assert.equal(m.pins.pin2.tries_left, 3);
      const s = await t.api(`/v1/jobs/${p.job}`);
      assert.equal(s.json.state, 'done');
    } finally { await pull(t, back); }
  }
});

// The job's K-th UPDATE BINARY is the CDF entry (the commit): the last one of a reference run.
test('card pulled right at the CDF commit: the returned card decides — taken: job-done; not taken: job-failed card_removed, retry succeeds', async () => {
  const c = await afterCommitCounts();
  const commit = `update-binary:${c.writes}`;
  // The card carried the CDF write out before it was pulled: the certificate is on it.
  const taken = await pulledDownload(['--drop-after-commit', commit]);
  await taken.card.waitFor(new RegExp(`card pulled \\(--drop-after-commit ${commit}\\)`));
  await assertInterrupted(taken, 'after-commit');
  assert.ok(certMatchesKey(taken.state));
  const r1 = await returnFor(taken, taken.state);
  try {
    assert.equal(r1.end.type, 'job-done', JSON.stringify(r1.end));
    assert.equal((await cardModel(t, r1.back.id)).signature_certificate.present, true);
  } finally { await pull(t, r1.back); }
  // Pulled before the card acted on it: the old entry was withdrawn, the new one never came.
  const lost = await pulledDownload(['--drop-at', commit]);
  await lost.card.waitFor(new RegExp(`card pulled \\(--drop-at ${commit}\\)`));
  await assertInterrupted(lost, 'at-commit');
  assert.ok(noCert(lost.state), 'the card lists no signature certificate');
  const r2 = await returnFor(lost, lost.state);
  try {
    assert.equal(r2.end.type, 'job-failed', JSON.stringify(r2.end));
    assert.equal(r2.end.code, 'card_removed');
    assert.equal((await cardModel(t, r2.back.id)).signature_certificate.present, false);
    const { end } = await runJob(t, r2.back.id, await loginOk(t, r2.back.id));
    assert.equal(end.type, 'job-done', JSON.stringify(end));
    await modelUntil(t, r2.back.id, (x) => x.signature_certificate.present, 'Finns after retry');
    assert.ok(certMatchesKey(lost.state), 'the retry wrote the certificate of its key');
  } finally { await pull(t, r2.back); }
});

test('another state comes back for an interrupted job (same card number, certificate of another key): job-failed card_removed', async () => {
  // The reference run leaves a card state of the same card number with a certificate of its own key.
  const c = await afterCommitCounts();
  // Carried out, never answered: the daemon cannot know, the job is interrupted.
  const p = await pulledDownload(['--drop-after-commit', `update-binary:${c.writes}`]);
  await assertInterrupted(p, 'other state');
  const { back, end } = await returnFor(p, c.state);
  try {
    assert.equal(back.id, p.card.id, 'the same card id');
    assert.equal(end.type, 'job-failed', JSON.stringify(end));
    assert.equal(end.code, 'card_removed');
    assert.match(end.message, /another key/);
    // The card shows its own (valid) certificate: not the job's, and the job did not claim it.
    assert.equal(back.model.signature_certificate.present, true);
    assert.equal((await t.api(`/v1/jobs/${p.job}`)).json.state, 'failed');
  } finally { await pull(t, back); }
});

// A CA that fails answers with a refusal (systemUnavail): issuer_refused; a wrong certificate is
// the daemon's to refuse.
for (const [fault, code] of [['fail', 'issuer_refused'], ['other-key', 'cert_invalid'], ['other-subject', 'cert_invalid'],
  ['other-chain', 'cert_invalid'], ['key-usage', 'cert_invalid'], ['expired', 'cert_invalid']]) {
  test(`issuer fault ${fault}: job-failed ${code}, nothing written`, async () => {
    const u = await setup({ ca: ['--fault', fault] });
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
    await card.settled();
    assert.equal(pinVerifies(card), 1, 'only the status read of the card read on insert');
    await pull(u, card);
  } finally { await u.close(); }
});
