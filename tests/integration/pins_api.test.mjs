// pins_api.test.mjs — POST /v1/cards/{id}/pins/{pin1|pin2}/change and …/unblock through the real
// daemon, pcscd + vpcd and the virtual card: a change takes (the new PIN1 logs in, the old one no
// longer), a wrong old code costs exactly one try (401, then 423), the PUK unblocks (a wrong one
// 401 wrong_puk, a blocked one 423 puk_blocked for good), bad formats and bodies are refused
// before any APDU (400, no try), every change reaches the WebSocket as card-updated, a card pulled
// during the command answers 409 change_interrupted and its model back in the reader tells which
// code holds, a running job makes it 409, and a reserve card's PIN2 is activated by the download.
// OpenSC (not written here) is the independent check: after a change or an unblock through the
// API, pkcs11-tool signs with the new code (openssl verifies) and is refused the old one, and the
// card's own counters agree with the API's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { opensc, openscConf } from '../lib/harness.mjs';
import { signs, pinStatus } from '../lib/opensc-checks.mjs';
import {
  setup, insert, pull, login, loginOk, download, jobEnd, changePin, unblockPin, cardModel, exportCerts,
  countKind, PIN1, PIN2, PUK, WRONG1, WRONG2, NEW1, NEW2, WRONG_PUK,
} from '../lib/bridge-rig.mjs';

let t;
before(async () => { t = await setup(); });
after(async () => { if (t) await t.close(); });

// The card's PIN commands so far (cardsim --verbose: one line per APDU, no data).
const pinCommands = (card) => countKind(card.output, 'change-ref') + countKind(card.output, 'reset-retry');
const errorOf = (r, status, code) => {
  assert.equal(r.status, status, r.body);
  assert.equal(r.json.error.code, code, r.body);
  return r.json.error;
};

test('change PIN1: 200 with the re-read model, pushed as card-updated; the new PIN1 logs in, the old one not', async () => {
  const card = await insert(t);
  try {
    const before = card.model.pins.pin1;
    assert.equal(before.activated, true);
    assert.match(before.last_change, /^\d{14}Z$/);
    const from = t.events.mark();
    const r = await changePin(t, card.id, 'pin1', PIN1, NEW1);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.pin, 'pin1');
    assert.equal(r.json.tries_left, 3);
    const pin1 = r.json.card.pins.pin1;
    assert.ok(pin1.last_change > before.last_change, `last_change moved: ${before.last_change} → ${pin1.last_change}`);
    assert.equal(r.json.card.pins.pin2.last_change, card.model.pins.pin2.last_change, 'PIN2 untouched');
    assert.equal(countKind(card.output, 'change-ref'), 1);
    const ev = await t.events.waitFor((m) => m.type === 'card-updated' && m.card.id === card.id &&
      m.card.pins.pin1.last_change === pin1.last_change, { from, what: 'card-updated with the new PIN1' });
    assert.deepEqual(ev.card.pins, r.json.card.pins);
    assert.deepEqual((await cardModel(t, card.id)).pins, r.json.card.pins);
    errorOf(await login(t, card.id, PIN1), 401, 'wrong_pin');
    assert.equal((await login(t, card.id, NEW1)).status, 200);
  } finally { await pull(t, card); }
});

test('a wrong old code: 401 wrong_pin, one try each (the model agrees); the third 423; then 423 without an APDU', async () => {
  const card = await insert(t);
  try {
    for (const left of [2, 1]) {
      const e = errorOf(await changePin(t, card.id, 'pin2', WRONG2, NEW2), 401, 'wrong_pin');
      assert.equal(e.tries_left, left);
      assert.equal((await cardModel(t, card.id)).pins.pin2.tries_left, left);
    }
    const e = errorOf(await changePin(t, card.id, 'pin2', WRONG2, NEW2), 423, 'pin_blocked');
    assert.equal(e.tries_left, 0);
    assert.match(e.message, /PUK/);
    const m = await cardModel(t, card.id);
    assert.equal(m.pins.pin2.blocked, true);
    assert.equal(m.pins.pin2.tries_left, 0);
    assert.equal(m.pins.pin1.tries_left, 3, 'PIN1 untouched');
    await card.settled();
    const sent = pinCommands(card);
    errorOf(await changePin(t, card.id, 'pin2', PIN2, NEW2), 423, 'pin_blocked');
    // Unblocking is the way out: a wrong PUK costs a PUK try, the right one sets the new PIN2.
    const w = errorOf(await unblockPin(t, card.id, 'pin2', WRONG_PUK, NEW2), 401, 'wrong_puk');
    assert.equal(w.tries_left, 2);
    assert.equal((await cardModel(t, card.id)).pins.puk.tries_left, 2);
    const u = await unblockPin(t, card.id, 'pin2', PUK, NEW2);
    assert.equal(u.status, 200, u.body);
    assert.equal(u.json.pin, 'pin2');
    assert.equal(u.json.tries_left, 3);
    assert.equal(u.json.card.pins.pin2.blocked, false);
    assert.equal(u.json.card.pins.puk.tries_left, 3, 'the right PUK resets its own counter');
    await card.settled();
    assert.equal(pinCommands(card), sent + 2, 'the refused change sent nothing; each unblock one command');
  } finally { await pull(t, card); }
});

test('unblock PIN1 with the PUK after blocking it: login with the new PIN1; the PUK blocked is final (423 puk_blocked)', async () => {
  const card = await insert(t);
  try {
    for (let i = 0; i < 3; i++) await login(t, card.id, WRONG1);
    assert.equal((await cardModel(t, card.id)).pins.pin1.blocked, true);
    const r = await unblockPin(t, card.id, 'pin1', PUK, NEW1);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.card.pins.pin1.blocked, false);
    assert.equal((await login(t, card.id, NEW1)).status, 200);

    for (const left of [2, 1]) {
      const e = errorOf(await unblockPin(t, card.id, 'pin1', WRONG_PUK, PIN1), 401, 'wrong_puk');
      assert.equal(e.tries_left, left);
      assert.equal((await cardModel(t, card.id)).pins.puk.tries_left, left);
    }
    const e = errorOf(await unblockPin(t, card.id, 'pin1', WRONG_PUK, PIN1), 423, 'puk_blocked');
    assert.equal(e.tries_left, 0);
    assert.match(e.message, /replaced/);
    const m = await cardModel(t, card.id);
    assert.equal(m.pins.puk.blocked, true);
    assert.equal(m.pins.pin1.blocked, false, 'a wrong PUK leaves the PIN as it was');
    // The new PIN1 holds (a login with it); then the card's log so far, before counting.
    assert.equal((await login(t, card.id, NEW1)).status, 200);
    await card.settled();
    const sent = pinCommands(card);
    errorOf(await unblockPin(t, card.id, 'pin1', PUK, PIN1), 423, 'puk_blocked');
    // The PIN1 set before still holds.
    assert.equal((await login(t, card.id, NEW1)).status, 200);
    await card.settled();
    assert.equal(pinCommands(card), sent, 'a blocked PUK is refused without an APDU');
  } finally { await pull(t, card); }
});

test('bad formats: 400 bad_pin naming the field and the lengths, no APDU, no try used', async () => {
  const card = await insert(t);
  try {
    const cases = [
      ['change', 'pin1', { pin: PIN1, new_pin: '12345' }, 'new_pin', 6, 8],
      ['change', 'pin1', { pin: PIN1, new_pin: '123456789' }, 'new_pin', 6, 8],
      ['change', 'pin2', { pin: PIN2, new_pin: '12a456' }, 'new_pin', 6, 8],
      ['change', 'pin2', { pin: '12 3456', new_pin: NEW2 }, 'pin', 6, 8],
      ['change', 'pin1', { pin: '', new_pin: NEW1 }, 'pin', 6, 8],
      ['unblock', 'pin1', { puk: '1234567', new_pin: NEW1 }, 'puk', 8, 8],
      ['unblock', 'pin2', { puk: PUK, new_pin: '１２３４５６' }, 'new_pin', 6, 8],
    ];
    for (const [op, which, body, field, min, max] of cases) {
      const r = await t.api(`/v1/cards/${card.id}/pins/${which}/${op}`, { method: 'POST', data: body });
      const e = errorOf(r, 400, 'bad_pin');
      assert.deepEqual([e.field, e.min_length, e.max_length], [field, min, max], `${op} ${JSON.stringify(body)}`);
    }
    const m = await cardModel(t, card.id);
    assert.deepEqual([m.pins.pin1.tries_left, m.pins.pin2.tries_left, m.pins.puk.tries_left], [3, 3, 3]);
    // One valid change and its model read; then the card's log holds exactly that command.
    assert.equal((await changePin(t, card.id, 'pin1', PIN1, NEW1)).status, 200);
    await card.settled();
    assert.equal(pinCommands(card), 1);
    assert.equal(countKind(card.output, 'verify 00200001') + countKind(card.output, 'verify 00200002'), 4,
      'only the two model reads asked PIN1 and PIN2 for their counters');
  } finally { await pull(t, card); }
});

test('strict bodies: other members, missing or non-string ones 400 bad_request (also login and download); unknown PIN 404', async () => {
  const card = await insert(t);
  try {
    const bodies = {
      change: [{ pin: PIN1, new_pin: NEW1, admin: true }, { pin: PIN1 }, { pin: PIN1, new_pin: 50712384 },
        { puk: PUK, new_pin: NEW1 }, { pin: PIN1, new_pin: NEW1, puk: PUK }, [PIN1, NEW1], '{"pin":"123456","pin":"123456","new_pin":"50712384"}'],
      unblock: [{ puk: PUK, new_pin: NEW1, x: '' }, { pin: PUK, new_pin: NEW1 }, { puk: PUK }, { puk: null, new_pin: NEW1 }, {}],
    };
    for (const [op, list] of Object.entries(bodies))
      for (const body of list) {
        const r = await t.api(`/v1/cards/${card.id}/pins/pin1/${op}`, { method: 'POST', data: body });
        assert.equal(r.status, 400, `${op} ${JSON.stringify(body)}: ${r.body}`);
        assert.match(r.json.error.code, /^bad_(request|json)$/);
      }
    // The same rule for the bodies that were lenient before: login {pin} and download {pin}.
    errorOf(await t.api(`/v1/cards/${card.id}/login`, { method: 'POST', data: { pin: PIN1, admin: true } }), 400, 'bad_request');
    const session = await loginOk(t, card.id);
    const d = await t.api(`/v1/cards/${card.id}/signature-certificate`, {
      method: 'POST', data: { pin: PIN2, issuer: 'other' }, headers: { Authorization: `Bearer ${session}` },
    });
    errorOf(d, 400, 'bad_request');
    errorOf(await t.api(`/v1/cards/${card.id}/logout`, { method: 'POST', data: '{"all":true}', headers: { Authorization: `Bearer ${session}` } }), 400, 'bad_request');
    for (const which of ['pin3', 'puk', 'PIN1'])
      errorOf(await changePin(t, card.id, which, PIN1, NEW1), 404, 'not_found');
    errorOf(await unblockPin(t, 'c0000000000000000', 'pin1', PUK, NEW1), 404, 'card_not_found');
    // No GET form: codes never travel in a URL.
    assert.equal((await t.api(`/v1/cards/${card.id}/pins/pin1/change?pin=${PIN1}`)).status, 405);
    await card.settled();   // the card's log holds everything before the 405
    assert.equal(pinCommands(card), 0);
    assert.deepEqual((await cardModel(t, card.id)).pins.pin1.tries_left, 3);
  } finally { await pull(t, card); }
});

// The card pulled at CHANGE REFERENCE DATA of PIN1, before the card acts or after it saved the new
// code: 409 change_interrupted with PIN1's last_change from before; the card put back tells which.
for (const fault of ['--drop-at', '--drop-after-commit']) {
  test(`card pulled during the change (${fault} change-ref): 409 change_interrupted; the model back in the reader says which code holds`, async () => {
    const card = await insert(t, { args: [fault, 'change-ref'] });
    let back;
    try {
      const before = card.model.pins.pin1.last_change;
      const from = t.events.mark();
      const e = errorOf(await changePin(t, card.id, 'pin1', PIN1, NEW1), 409, 'change_interrupted');
      assert.equal(e.pin, 'pin1');
      assert.equal(e.last_change, before);
      await t.events.waitFor((m) => m.type === 'card-removed' && m.card_id === card.id, { from, what: 'card-removed' });
      assert.equal((await card.exited).code, 0);
      assert.match(card.output, new RegExp(`card pulled \\(${fault} change-ref:1\\)`));
      back = await insert(t, { state: card.state });
      assert.equal(back.id, card.id);
      const took = fault === '--drop-after-commit';
      assert.equal(back.model.pins.pin1.last_change !== e.last_change, took, `${e.last_change} → ${back.model.pins.pin1.last_change}`);
      assert.equal(back.model.pins.pin1.tries_left, 3, 'no try lost either way');
      errorOf(await login(t, back.id, took ? PIN1 : NEW1), 401, 'wrong_pin');
      assert.equal((await login(t, back.id, took ? NEW1 : PIN1)).status, 200);
    } finally { if (back) await pull(t, back); else if (card.exitCode === undefined) await pull(t, card); }
  });
}

test('a running download holds the card: 409 job_running, nothing sent', async () => {
  const card = await insert(t, { args: ['--delay', 'realistic'] });
  try {
    const session = await loginOk(t, card.id);
    const from = t.events.mark();
    const r = await download(t, card.id, session);
    assert.equal(r.status, 202, r.body);
    // The card generates its key for ~4 s (realistic timing) while the job holds it.
    await t.events.waitFor((m) => m.type === 'job-progress' && m.job === r.json.job && m.stage === 'generate_key', { from, what: 'generate_key' });
    errorOf(await changePin(t, card.id, 'pin2', PIN2, NEW2), 409, 'job_running');
    errorOf(await unblockPin(t, card.id, 'pin2', PUK, NEW2), 409, 'job_running');
    const { end } = await jobEnd(t, r.json.job, from);
    assert.equal(end.type, 'job-done');
    assert.equal(end.pin2_activated, undefined, 'an activated PIN2 is verified, not activated');
    assert.equal(pinCommands(card), 0);
  } finally { await pull(t, card); }
});

test('reserve card with a two-code letter: the download activates PIN2 with the code entered (pin2_activated); VERIFY with it works after', async () => {
  const SECURITY = '13572468';
  const card = await insert(t, { profile: { card_type: 'reserve', card_number: '9752269885715690003', pins: { pin1: SECURITY }, pin2_activated: false } });
  try {
    const p2 = card.model.pins.pin2;
    assert.equal(card.model.card_type, 'reserve');
    assert.deepEqual([p2.activated, p2.tries_left, p2.blocked], [false, null, false]);
    const session = (await login(t, card.id, SECURITY)).json.session;
    assert.ok(session);
    const from = t.events.mark();
    const r = await download(t, card.id, session, SECURITY);
    assert.equal(r.status, 202, r.body);
    const { end } = await jobEnd(t, r.json.job, from);
    assert.equal(end.type, 'job-done', JSON.stringify(end));
    assert.equal(end.pin2_activated, true);
    assert.match(end.message, /activated as the signature code/);
    const job = await t.api(`/v1/jobs/${r.json.job}`);
    assert.equal(job.json.pin2_activated, true);
    assert.equal(job.json.state, 'done');
    const m = await cardModel(t, card.id);
    assert.deepEqual([m.pins.pin2.activated, m.pins.pin2.tries_left], [true, 3]);
    assert.ok(m.pins.pin2.last_change > p2.last_change);
    assert.equal(m.signature_certificate.present, true);
    assert.equal(countKind(card.output, 'change-ref'), 1, 'one CHANGE REFERENCE DATA: the activation');
    // OpenSC: PIN2 now VERIFYs with that code and signs with the new key (exported after the job).
    const s = await signs(t.pc, openscConf(), exportCerts(card.state), 'pin2', SECURITY);
    assert.ok(s.ok, s.stdout + s.stderr);
  } finally { await pull(t, card); }
});

test('OpenSC after changes and an unblock through the API: pkcs11-tool signs with the new codes only; the card\'s counters are the API\'s', async () => {
  const card = await insert(t);
  const conf = openscConf();
  const keys = exportCerts(card.state);
  const pins = async () => (await cardModel(t, card.id)).pins;
  // The card's own answer to an empty VERIFY (ref 1, 2, 3) as the API would report it.
  const cardSays = async (ref) => {
    const sw = await pinStatus(t.pc, conf, ref);
    return sw === '6983' ? { tries_left: 0, blocked: true } : { tries_left: parseInt(sw.slice(3), 16), blocked: false, sw };
  };
  const agree = async (which, ref) => {
    const p = (await pins())[which];
    const c = await cardSays(ref);
    assert.deepEqual([p.tries_left, p.blocked], [c.tries_left, c.blocked], `${which}: API ${JSON.stringify(p)}, card ${JSON.stringify(c)}`);
  };
  try {
    assert.equal((await changePin(t, card.id, 'pin2', PIN2, NEW2)).status, 200);
    await agree('pin2', 2);
    let s = await signs(t.pc, conf, keys, 'pin2', NEW2);
    assert.ok(s.ok, s.stdout + s.stderr);
    s = await signs(t.pc, conf, keys, 'pin2', PIN2);
    assert.equal(s.ok, false);
    assert.match(s.stdout + s.stderr, /CKR_PIN_INCORRECT/);

    for (let i = 0; i < 3; i++) await changePin(t, card.id, 'pin1', WRONG1, NEW1);
    await agree('pin1', 1);
    errorOf(await unblockPin(t, card.id, 'pin1', WRONG_PUK, NEW1), 401, 'wrong_puk');
    await agree('puk', 3);
    assert.equal((await unblockPin(t, card.id, 'pin1', PUK, NEW1)).status, 200);
    await agree('pin1', 1);
    await agree('puk', 3);
    s = await signs(t.pc, conf, keys, 'pin1', NEW1);
    assert.ok(s.ok, s.stdout + s.stderr);
    s = await signs(t.pc, conf, keys, 'pin1', PIN1);
    assert.equal(s.ok, false);
    assert.match(s.stdout + s.stderr, /CKR_PIN_INCORRECT/);

    // pkcs15-tool --list-pins: OpenSC 0.23 never asks the card for a counter (no "Tries left"
    // line, with its MaskTech and its ISO driver alike), so the counters were compared with the
    // card's raw answers above; what it does show are the AODF's rules, the API's lengths.
    const l = await opensc(t.pc, 'pkcs15-tool', ['--list-pins'], { conf });
    assert.equal(l.code, 0, l.stderr);
    const p = await pins();
    for (const [which, label] of [['pin1', 'legitimering'], ['pin2', 'underskrift'], ['puk', 'PUK']]) {
      const m = l.stdout.match(new RegExp(`PIN \\[${label}\\][\\s\\S]*?min_len:(\\d+), max_len:(\\d+)`));
      assert.ok(m, `${label} in ${l.stdout}`);
      assert.deepEqual([Number(m[1]), Number(m[2])], [p[which].min_length, p[which].max_length], which);
      assert.equal(p[which].label, label);
    }
    assert.doesNotMatch(l.stdout, /Tries left/, 'if OpenSC starts to show counters, compare them here');
  } finally { await pull(t, card); }
});
