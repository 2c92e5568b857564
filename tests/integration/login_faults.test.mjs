// login_faults.test.mjs — the login's failure paths against the real daemon and the virtual card:
// the card's proof of possession (INTERNAL AUTHENTICATE, server/login.c) answered with garbage,
// and the card pulled at the VERIFY PIN1 or at the proof. Each: a precise JSON error, no session,
// the PIN1 counter as the card really left it, the daemon still serving, and a later login works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmp } from '../lib/harness.mjs';
import { setup, insert, pull, login, loginOk, download, cardModel, modelUntil, countKind, WRONG1 } from '../lib/bridge-rig.mjs';

// The login's proof command (ops_sign with the authentication key: INS 88).
const PROOF = 'internal-auth';

let t;
before(async () => { t = await setup(); });
after(async () => { if (t) await t.close(); });

// A refused login: the JSON error carries no token, and the daemon logged no session for the card.
function assertNoSession(r, card, from) {
  assert.equal(r.json?.session, undefined, r.body);
  assert.equal(typeof r.json?.error?.message, 'string', r.body);
  assert.doesNotMatch(t.bridge.output.slice(from), new RegExp(`card ${card.id}: logged in`));
}

// One wrong PIN1 so the counter is at 2: a later value of 3 proves a VERIFY succeeded, 1 that one
// failed, 2 that none reached the card.
async function wrongOnce(card) {
  const r = await login(t, card.id, WRONG1);
  assert.equal(r.status, 401, r.body);
  assert.equal(r.json.error.tries_left, 2);
  await card.settled();   // the counter is in the answer: nothing is read after it
}

// The card's status word for the garbage it sent, from its --verbose log (the line right after
// the "answered garbage" notice; a one-byte answer shows as 0000).
function garbageSw(card) {
  const m = card.output.match(/answered garbage \(--garbage-at [^)]*\)\nsiths-cardsim: \S+ \S+ len \S+ -> ([0-9A-F]{4})\n/);
  assert.ok(m, `no garbage answer in the card's log:\n${card.output}`);
  return parseInt(m[1], 16);
}

test('proof of possession answered with garbage: refused without a session, PIN1 not spent, daemon serves on, next login works', async () => {
  const card = await insert(t, { args: ['--garbage-at', `${PROOF}:1`] });
  try {
    await card.settled();
    await wrongOnce(card);
    const from = t.bridge.mark();
    const proofs = countKind(card.output, PROOF);
    const r = await login(t, card.id);
    await card.waitFor(new RegExp(`answered garbage \\(--garbage-at ${PROOF}:1\\)`));
    await card.settled();   // the proof, then PIN1's counter read back, all in the log
    const sw = garbageSw(card);
    if (sw >> 8 === 0x6c) {
      // "Wrong Le, resend with Le = SW2" (ISO 7816-4): the daemon resends, the card then answers
      // for real, and the login rightly succeeds. The test still checks that resend happened.
      assert.equal(countKind(card.output, PROOF), proofs + 2, 'the proof command resent once');
      assert.equal(r.status, 200, r.body);
    } else {
      // A 9000 answer carries no valid signature: proof_failed (or card_error if it carries no
      // data at all). Any other answer is the card's error, never the user's PIN.
      const want = sw === 0x9000 ? [[403, 'proof_failed'], [502, 'card_error']] : [[502, 'card_error']];
      assert.ok(want.some(([s, c]) => r.status === s && r.json?.error?.code === c),
        `SW ${sw.toString(16)}: got ${r.status} ${r.body}`);
      assertNoSession(r, card, from);
      // A session was not issued: the download refuses the non-token as a missing login.
      assert.equal((await download(t, card.id, null)).status, 401);
    }
    // The VERIFY before the proof succeeded (counter back to 3 from 2) and was sent exactly once:
    // the status reads of the card's read on insert and after this login, the wrong VERIFY and
    // this login's.
    const m = await modelUntil(t, card.id, (x) => x.pins.pin1.tries_left === 3, 'PIN1 tries back to 3');
    assert.equal(m.pins.pin1.blocked, false);
    assert.equal(countKind(card.output, 'verify 00200001'), 4, 'VERIFY PIN1: 2 status reads + 2 logins, none retried');
    // The daemon goes on: health, the card still listed, and a second login works on the same card.
    assert.equal((await t.api('/health')).status, 200);
    assert.ok((await t.api('/v1/cards')).json.cards.some((c) => c.id === card.id));
    const again = await login(t, card.id);
    assert.equal(again.status, 200, again.body);
    assert.ok(again.json.session);
  } finally { await pull(t, card); }
});

// Verify commands the card answered before the login under test: counted on a reference run of
// the same steps (insert, one wrong PIN1) with the same daemon and profile.
async function verifiesBeforeLogin() {
  const card = await insert(t);
  try {
    await card.settled();
    await wrongOnce(card);
    return countKind(card.output, 'verify');
  } finally { await pull(t, card); }
}

// The card pulled while the login talks to it: 404 card_not_found "removed", no session, the card
// gone from the daemon's list; re-inserted (same state) it shows PIN1 at `tries` and logs in.
async function pulledDuringLogin(kind, k, tries) {
  const state = join(tmp('card-'), 'state.json');
  const card = await insert(t, { state, args: ['--drop-at', `${kind}:${k}`] });
  await card.settled();
  await wrongOnce(card);
  const from = t.events.mark();
  const logFrom = t.bridge.mark();
  const r = await login(t, card.id);
  await card.waitFor(new RegExp(`card pulled \\(--drop-at ${kind}:${k}\\)`));
  assert.equal(r.status, 404, r.body);
  assert.equal(r.json.error.code, 'card_not_found');
  assert.match(r.json.error.message, /removed/);
  assertNoSession(r, card, logFrom);
  await t.events.waitFor((m) => m.type === 'card-removed' && m.card_id === card.id, { from, what: 'card-removed' });
  await card.exited;
  assert.equal(await cardModel(t, card.id), null, 'GET /v1/cards/{id}: gone');
  assert.ok(!(await t.api('/v1/cards')).json.cards.some((c) => c.id === card.id), 'not listed');
  const back = await insert(t, { state });
  try {
    assert.equal(back.id, card.id);
    assert.equal(back.model.pins.pin1.tries_left, tries, JSON.stringify(back.model.pins));
    const session = await loginOk(t, back.id);
    assert.ok(session);
    await modelUntil(t, back.id, (m) => m.pins.pin1.tries_left === 3, 'PIN1 tries 3 after the login');
  } finally { await pull(t, back); }
}

test('card pulled at VERIFY PIN1: 404 card removed, no session, card gone; re-inserted: no PIN1 try used, login works', async () => {
  // Pulled before the card answered the VERIFY: the counter stays at 2 (not 1, not reset to 3).
  await pulledDuringLogin('verify', (await verifiesBeforeLogin()) + 1, 2);
});

test('card pulled at the proof of possession: 404 card removed, no session, card gone; re-inserted: login works', async () => {
  // The VERIFY before the proof succeeded, so the card reset the counter to 3; nothing spent it.
  await pulledDuringLogin(PROOF, 1, 3);
});
