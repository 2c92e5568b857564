// login.test.mjs — POST /v1/cards/{id}/login through the real daemon and the virtual card: a
// session (≥ 256 bits, 900 s) after PIN1 + proof of possession (the card's INTERNAL
// AUTHENTICATE), wrong PIN1 (401 wrong_pin, tries_left, counter really down by one), blocked
// (423, PUK), malformed bodies and PINs (400, no APDU, no try), unknown card (404), the session
// rules of the download (missing 401, another card 403, another Origin 403, card removed 401),
// and logout (204, the token dead at once; 401 / 403 like the download; no card I/O).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, insert, pull, login, loginOk, download, modelUntil, countKind, PIN1, WRONG1 } from '../lib/bridge-rig.mjs';

const OTHER = 'https://portal.example.test';
let t;
before(async () => { t = await setup({ args: ['--allow-origin', OTHER] }); });
after(async () => { if (t) await t.close(); });

test('login: PIN1 then proof of possession by the card → session for 900 s', async () => {
  const card = await insert(t);
  try {
    const r = await login(t, card.id);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.expires_in, 900);
    assert.ok(Buffer.from(r.json.session, 'base64url').length >= 32, '≥ 256 random bits');
    const r2 = await login(t, card.id);
    assert.notEqual(r2.json.session, r.json.session);
    await card.settled();
    // The proof: the card signed with its authentication key after the VERIFY.
    assert.equal(countKind(card.output, 'internal-auth'), 2);
    assert.doesNotMatch(t.bridge.output, new RegExp(r.json.session), 'the token is never logged');
  } finally { await pull(t, card); }
});

test('wrong PIN1: 401 wrong_pin with tries_left, down by one each time; third: 423 with PUK; then 423 at once', async () => {
  const card = await insert(t);
  try {
    for (const left of [2, 1]) {
      const r = await login(t, card.id, WRONG1);
      assert.equal(r.status, 401, r.body);
      assert.equal(r.json.error.code, 'wrong_pin');
      assert.equal(r.json.error.tries_left, left);
      await modelUntil(t, card.id, (m) => m.pins.pin1.tries_left === left, `PIN1 tries ${left}`);
    }
    const r = await login(t, card.id, WRONG1);
    assert.equal(r.status, 423, r.body);
    assert.equal(r.json.error.code, 'pin_blocked');
    assert.match(r.json.error.message, /PUK/);
    await modelUntil(t, card.id, (m) => m.pins.pin1.blocked, 'PIN1 blocked');
    const verifies = countKind(card.output, 'verify');
    const again = await login(t, card.id, PIN1);
    assert.equal(again.status, 423, 'blocked: refused without touching the card');
    assert.equal(countKind(card.output, 'verify'), verifies);
  } finally { await pull(t, card); }
});

test('a right PIN1 after a wrong one resets the counter', async () => {
  const card = await insert(t);
  try {
    assert.equal((await login(t, card.id, WRONG1)).json.error.tries_left, 2);
    assert.equal((await login(t, card.id)).status, 200);
    await modelUntil(t, card.id, (m) => m.pins.pin1.tries_left === 3, 'PIN1 tries back to 3');
  } finally { await pull(t, card); }
});

test('malformed bodies and PINs: 400, no VERIFY sent, no try used; unknown card 404', async () => {
  const card = await insert(t);
  try {
    await card.settled();
    const v0 = countKind(card.output, 'verify');
    for (const pin of ['12345a', '12345', '123456789', '', '12 3456', '１２３４５６']) {
      const r = await login(t, card.id, pin);
      assert.equal(r.status, 400, `${JSON.stringify(pin)}: ${r.body}`);
      assert.equal(r.json.error.code, 'bad_pin');
    }
    for (const body of ['{"pin":123456}', '{"pin":["123456"]}', '{}', '"123456"', '{"pin":"123456"', 'pin=123456', '', '{"pin":"123456\\u0000"}']) {
      const r = await t.api(`/v1/cards/${card.id}/login`, { method: 'POST', data: body });
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.body}`);
    }
    assert.equal(countKind(card.output, 'verify'), v0, 'no VERIFY for a refused request');
    const m = await modelUntil(t, card.id, () => true, 'model');
    assert.equal(m.pins.pin1.tries_left, 3);
    const nf = await login(t, 'c0000000000000000');
    assert.equal(nf.status, 404);
    assert.equal(nf.json.error.code, 'card_not_found');
    // PINs never travel in a URL: the login has no GET form.
    assert.notEqual((await t.api(`/v1/cards/${card.id}/login?pin=${PIN1}`)).status, 200);
  } finally { await pull(t, card); }
});

test('download sessions: missing 401, unknown 401, another card 403, another Origin 403, card removed 401', async () => {
  const a = await insert(t, { slot: 0 });
  const b = await insert(t, { slot: 1, profile: { card_number: '9752269885715690002', hsa_id: 'TSTNMT2321000156-30CD' } });
  try {
    const sa = await loginOk(t, a.id);
    let r = await download(t, a.id, null);
    assert.equal(r.status, 401);
    assert.equal(r.json.error.code, 'login_required');
    r = await download(t, a.id, 'x'.repeat(43));
    assert.equal(r.status, 401);
    r = await download(t, b.id, sa);
    assert.equal(r.status, 403);
    assert.equal(r.json.error.code, 'wrong_card');
    r = await download(t, a.id, sa, undefined, { Origin: OTHER });
    assert.equal(r.status, 403);
    assert.equal(r.json.error.code, 'wrong_origin');
    // A session from the other origin works there, and only there.
    const so = (await login(t, b.id, PIN1, { Origin: OTHER })).json.session;
    assert.ok(so);
    r = await download(t, b.id, so);
    assert.equal(r.status, 403);
    // Card removed: its sessions end at once, also after re-insertion.
    await pull(t, a);
    const back = await insert(t, { slot: 0, state: a.state });
    try {
      r = await download(t, back.id, sa);
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, 'login_required');
    } finally { await pull(t, back); }
  } finally { await pull(t, b); if (a.exitCode === undefined) await a.stop(); }
});

const logout = (t, id, session, { headers = {}, data = '' } = {}) =>
  t.api(`/v1/cards/${id}/logout`, { method: 'POST', data, headers: session ? { Authorization: `Bearer ${session}`, ...headers } : headers });
// The commands the card answered (--verbose: "kind CLA INS P1 P2 …" per APDU; pcscd's own
// control codes left out, their number depends on its polling).
const apdus = (card) => (card.output.match(/^siths-cardsim: \S+ [0-9A-F]{8} /gm) || []).length;

test('logout: 204, the session is gone at once (401 on download), twice 401, other Origin or card 403, no card I/O', async () => {
  const a = await insert(t, { slot: 0 });
  const b = await insert(t, { slot: 1, profile: { card_number: '9752269885715690003', hsa_id: 'TSTNMT2321000156-40EF' } });
  try {
    // What a login costs the card once its first one told how full PIN1's counter is, to see
    // below that logouts cost nothing.
    await a.settled();
    const s1 = await loginOk(t, a.id);
    await a.settled();
    const l1 = apdus(a);
    const sb = await loginOk(t, b.id);
    const s2 = await loginOk(t, a.id);
    await a.settled();
    const perLogin = apdus(a) - l1;
    assert.ok(countKind(a.output, 'internal-auth') === 2 && perLogin > 0);
    const mark = apdus(a);

    // Refusals leave the session alive.
    let r = await logout(t, a.id, s1, { headers: { Origin: OTHER } });
    assert.equal(r.status, 403, r.body);
    assert.equal(r.json.error.code, 'wrong_origin');
    r = await logout(t, b.id, s1);
    assert.equal(r.status, 403, r.body);
    assert.equal(r.json.error.code, 'wrong_card');
    r = await logout(t, a.id, null);
    assert.equal(r.status, 401, r.body);
    assert.equal(r.json.error.code, 'login_required');
    r = await logout(t, a.id, 'x'.repeat(43));
    assert.equal(r.status, 401, r.body);
    assert.equal(r.json.error.code, 'login_required');
    r = await logout(t, a.id, s1, { data: '{"pin":"123456"}' });
    assert.equal(r.status, 400, r.body);
    // A logout with a foreign or missing Origin is refused before any work.
    r = await t.api(`/v1/cards/${a.id}/logout`, { method: 'POST', data: '', headers: { Origin: 'https://evil.example', Authorization: `Bearer ${s1}` } });
    assert.equal(r.status, 403, r.body);

    r = await logout(t, a.id, s1);
    assert.equal(r.status, 204, r.body);
    assert.equal(r.body, '', '204 has no body');
    r = await download(t, a.id, s1);
    assert.equal(r.status, 401, r.body);
    assert.equal(r.json.error.code, 'login_required');
    r = await logout(t, a.id, s1);
    assert.equal(r.status, 401, r.body);
    assert.equal(r.json.error.code, 'login_required');

    // Only that session ended: the other one of card a and card b's still count; {} is a body too.
    r = await logout(t, a.id, s2, { data: '{}' });
    assert.equal(r.status, 204, r.body);
    r = await logout(t, b.id, sb);
    assert.equal(r.status, 204, r.body);
    assert.match(t.bridge.output, /card \S+: logged out \(session [0-9a-f]{8}\)/);
    assert.doesNotMatch(t.bridge.output, new RegExp(`${s1}|${s2}|${sb}`), 'tokens are never logged');

    // The card saw nothing of the logouts: a login after them is all that is new.
    await loginOk(t, a.id);
    await a.settled();
    assert.equal(apdus(a) - mark, perLogin, 'logout sent nothing to the card');
  } finally { await pull(t, a); await pull(t, b); }
});

test('GET /v1/jobs/{id}: unknown job 404', async () => {
  const r = await t.api('/v1/jobs/j00000000000000000000000000000000');
  assert.equal(r.status, 404);
  assert.equal(r.json.error.code, 'job_not_found');
});
