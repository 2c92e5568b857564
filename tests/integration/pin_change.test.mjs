// pin_change.test.mjs — independent check of the virtual card's PIN management at the card level:
// OpenSC 0.23 (not written here) changes and unblocks the codes through pcscd — with its ISO
// driver ("default": CHANGE REFERENCE DATA P1 00 old‖new, RESET RETRY COUNTER P1 00 PUK‖new) and
// with MaskTech (VERIFY + CHANGE REFERENCE DATA P1 01) — then pkcs11-tool logs in with the new
// code and signs, openssl verifies, and the old code is refused. OpenSC reports the counters the
// card keeps (PIN and PUK, a blocked PUK for good); a reserve card's PIN2 is activated with the
// security code; and the card pulled during each command — before carrying it out or after —
// holds exactly the old or the new code, which the next read of its AODF (lastPinChange) tells.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { tmp, bin, openscConf, opensc, sendApdus, waitCard } from '../lib/harness.mjs';
import { openscRig } from '../lib/opensc-rig.mjs';
import { signs as openscSigns, pinStatus } from '../lib/opensc-checks.mjs';

let pc, conf, iso;
const rig = openscRig((r) => { ({ pc, conf } = r); iso = openscConf({ driver: 'default' }); });

// A card with its own state (or `state`), its public keys exported by the card itself.
async function card({ profile, state, args = [] } = {}) {
  const c = await rig.insert({ profile, state, args: ['--verbose', ...args] });
  c.exportDir = join(tmp('export-'), 'e');
  execFileSync(bin('siths-cardsim'), ['--state', c.state, '--export-certs', c.exportDir]);
  return c;
}
const pull = (c) => rig.pull(c);

const p15 = (args, c = conf) => opensc(pc, 'pkcs15-tool', args, { conf: c });
const change = (id, old, neu, c = iso) => p15(['--change-pin', '--auth-id', id, '--pin', old, '--new-pin', neu], c);
const unblock = (id, puk, neu, c = iso) => p15(['--unblock-pin', '--auth-id', id, '--puk', puk, '--new-pin', neu], c);

const signs = (c, which, pin) => openscSigns(pc, conf, c.exportDir, which, pin);
const status = (ref) => pinStatus(pc, conf, ref);
// lastPinChange of each PIN from its AODF entry, read raw from the card.
async function lastChanges() {
  const r = await sendApdus(pc, 0, ['00 A4 08 0C 04 50 15 44 01', '00 B0 00 00 00'], { conf });
  const aodf = r[1].data, out = {};
  // PinAttributes (ISO 7816-15): … pinReference [0] 80 01 ref, padChar?, lastPinChange 18 0F …
  for (let i = 0; i + 5 < aodf.length; i++)
    if (aodf[i] === 0x80 && aodf[i + 1] === 0x01 && aodf[i + 3] === 0x18 && aodf[i + 4] === 0x0f)
      out[aodf[i + 2]] = aodf.subarray(i + 5, i + 20).toString('latin1');
  return out;
}

// PIN commands in the card's log: the header only (never data, not even a length).
const pinLog = (c, from) => c.output.slice(from).split('\n').filter((l) => /(verify|change-ref|reset-retry) 00/.test(l))
  .map((l) => l.replace(/^siths-cardsim: /, ''));

test('pkcs15-tool --change-pin with the ISO driver: one CHANGE REFERENCE DATA P1 00; PIN2 signs with the new code only', async () => {
  const c = await card();
  try {
    const before = await lastChanges();
    assert.match(before[2], /^\d{14}Z$/);
    const from = c.mark();
    const r = await change('02', '654321', '24681357');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(pinLog(c, from), ['change-ref 00240002 len - -> 9000']);
    const after = await lastChanges();
    assert.ok(after[2] > before[2], `lastPinChange of PIN2 moved: ${before[2]} → ${after[2]}`);
    assert.equal(after[1], before[1]);
    assert.equal(await status(2), '63C3');
    const s = await signs(c, 'pin2', '24681357');
    assert.ok(s.ok, s.stdout + s.stderr);
    const old = await signs(c, 'pin2', '654321');
    assert.equal(old.ok, false);
    assert.match(old.stdout + old.stderr, /CKR_PIN_INCORRECT/);
    assert.equal(await status(2), '63C2', 'the refused old code cost a try on the card');
    assert.doesNotMatch(c.output, /24681357|654321/, 'no code in the card log');
  } finally { await pull(c); }
});

test('pkcs15-tool --change-pin with MaskTech (VERIFY, then CHANGE REFERENCE DATA P1 01): PIN1 changed, a wrong old code costs a try', async () => {
  const c = await card();
  try {
    let from = c.mark();
    let r = await change('01', '000000', '7654321', conf);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stderr, /PIN code incorrect; tries left: 2/); // OpenSC reads the card's 63C2
    assert.deepEqual(pinLog(c, from), ['verify 00200001 len - -> 63C2']);
    assert.equal(await status(1), '63C2');
    from = c.mark();
    r = await change('01', '123456', '7654321', conf);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(pinLog(c, from), ['verify 00200001 len - -> 9000', 'change-ref 00240101 len - -> 9000']);
    assert.equal(await status(1), '63C3', 'counter back at its maximum');
    const s = await signs(c, 'pin1', '7654321');
    assert.ok(s.ok, s.stdout + s.stderr);
    assert.equal((await signs(c, 'pin1', '123456')).ok, false);
    // The AODF's rules, as OpenSC reads them (OpenSC 0.23's --list-pins never asks the card for
    // a counter: those come from the card's answers above).
    const l = await p15(['--list-pins']);
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, /PIN \[legitimering\][\s\S]*?min_len:6, max_len:8[\s\S]*?Reference\s*: 1 /);
    assert.match(l.stdout, /PIN \[PUK\][\s\S]*?unblockingPin[\s\S]*?min_len:8, max_len:8[\s\S]*?Reference\s*: 3 /);
  } finally { await pull(c); }
});

test('pkcs15-tool --unblock-pin with the ISO driver: RESET RETRY COUNTER P1 00 unblocks PIN2 with the PUK; PUK counter kept', async () => {
  const c = await card();
  try {
    for (const want of ['CKR_PIN_INCORRECT', 'CKR_PIN_INCORRECT', 'CKR_PIN_INCORRECT']) {
      const s = await signs(c, 'pin2', '000000');
      assert.match(s.stdout + s.stderr, new RegExp(want));
    }
    assert.equal(await status(2), '6983');
    const locked = await signs(c, 'pin2', '654321');
    assert.match(locked.stdout + locked.stderr, /CKR_PIN_LOCKED/);
    // MaskTech unblocks with its own references (VERIFY 83, then P2 91): this card has no PIN 91.
    let r = await unblock('02', '12345678', '11112222', conf);
    assert.notEqual(r.code, 0);
    assert.equal(await status(2), '6983');

    let from = c.mark();
    r = await unblock('02', '11111111', '11112222');
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stderr, /PUK code incorrect; tries left: 2/);
    assert.deepEqual(pinLog(c, from), ['reset-retry 002C0002 len - -> 63C2']);
    assert.equal(await status(3), '63C2', 'the PUK\'s own counter');
    const before = await lastChanges();
    from = c.mark();
    r = await unblock('02', '12345678', '11112222');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(pinLog(c, from), ['reset-retry 002C0002 len - -> 9000']);
    assert.equal(await status(3), '63C3');
    assert.equal(await status(2), '63C3');
    assert.ok((await lastChanges())[2] > before[2]);
    const s = await signs(c, 'pin2', '11112222');
    assert.ok(s.ok, s.stdout + s.stderr);
    assert.equal((await signs(c, 'pin2', '654321')).ok, false);
    // The PUK changes its own value (CHANGE REFERENCE DATA on reference 03); the old one is gone.
    r = await change('03', '12345678', '87654321', conf);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    r = await unblock('01', '12345678', '11223344');
    assert.match(r.stderr, /PUK code incorrect; tries left: 2/);
    r = await unblock('01', '87654321', '11223344');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok((await signs(c, 'pin1', '11223344')).ok);
  } finally { await pull(c); }
});

test('a blocked PUK is final: the right PUK is refused too, and the blocked PIN stays blocked', async () => {
  const c = await card({ profile: { pins: { puk: '87654321' } } });
  try {
    for (let i = 0; i < 3; i++) await signs(c, 'pin1', '000000');
    for (const left of ['2', '1']) {
      const r = await unblock('01', '00000000', '111111');
      assert.match(r.stderr, new RegExp(`PUK code incorrect; tries left: ${left}`));
    }
    let r = await unblock('01', '00000000', '111111');
    assert.match(r.stderr, /PUK code incorrect; tries left: 0/); // 63C0: blocked by this try
    assert.equal(await status(3), '6983');
    r = await unblock('01', '87654321', '111111');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /blocked/i);
    assert.equal(await status(1), '6983');
    assert.equal((await signs(c, 'pin1', '111111')).ok, false);
    assert.equal((await signs(c, 'pin2', '654321')).ok, true, 'PIN2 is not affected');
  } finally { await pull(c); }
});

test('reserve card whose letter holds two codes: PIN2 not activated until the security code is set as signature code', async () => {
  const c = await card({ profile: { card_type: 'reserve', pins: { pin1: '13572468' }, pin2_activated: false } });
  try {
    assert.equal(await status(2), '6984', 'reference data not usable: not activated');
    assert.equal(await status(1), '63C3');
    let s = await signs(c, 'pin2', '13572468');
    assert.equal(s.ok, false, 'the security code does not sign before activation');
    assert.equal(await status(2), '6984');
    // MaskTech VERIFYs first, which the card refuses in this state ("Referenced data not usable").
    let r = await change('02', '13572468', '13572468', conf);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not usable/i);
    // CHANGE REFERENCE DATA with the letter's value as old and the holder's code as new.
    r = await change('02', '24682468', '13572468');
    assert.equal(r.code, 3);
    assert.match(r.stderr, /PIN code incorrect; tries left: 2/);
    r = await change('02', '13572468', '13572468');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(await status(2), '63C3');
    s = await signs(c, 'pin2', '13572468');
    assert.ok(s.ok, s.stdout + s.stderr);
  } finally { await pull(c); }
});

// The card pulled at a PIN command, then put back (the same state): exactly one state holds —
// `holds(c, took)` checks it — and lastPinChange in the AODF read afterwards says which.
async function pulledAt(kind, fault, { setup, command, holds }) {
  const state = join(tmp('pulled-'), 'state.json');
  let c = await card({ state });
  if (setup) await setup(c);
  const before = await lastChanges();
  await pull(c);
  c = await card({ state, args: [fault, kind] });
  const r = await command();
  assert.notEqual(r.code, 0, 'the command cannot succeed with the card gone');
  assert.match(r.stderr, /PIN (code change|unblocking) failed/);
  assert.equal((await c.exited).code, 0);
  assert.match(c.output, new RegExp(`card pulled \\(${fault} ${kind}:1\\)`));
  await waitCard(pc, 0, { present: false, conf });
  c = await card({ state });
  try {
    const took = fault === '--drop-after-commit';
    const after = await lastChanges();
    assert.equal(after[2] !== before[2], took, `lastPinChange of PIN2: ${before[2]} → ${after[2]}`);
    await holds(c, took);
  } finally { await pull(c); }
}

const ok = async (c, which, code) => { const s = await signs(c, which, code); assert.ok(s.ok, `${code}: ${s.stdout}${s.stderr}`); };
const refused = async (c, which, code) => assert.equal((await signs(c, which, code)).ok, false, `${code} refused`);

for (const fault of ['--drop-at', '--drop-after-commit']) {
  test(`card pulled at CHANGE REFERENCE DATA (${fault}): the old or the new code, and the next read says which`, async () => {
    await pulledAt('change-ref', fault, {
      command: () => change('02', '654321', '36925814'),
      holds: async (c, took) => {
        await ok(c, 'pin2', took ? '36925814' : '654321');
        await refused(c, 'pin2', took ? '654321' : '36925814');
      },
    });
  });
  test(`card pulled at RESET RETRY COUNTER (${fault}): still blocked, or unblocked with the new code`, async () => {
    await pulledAt('reset-retry', fault, {
      setup: async (c) => { for (let i = 0; i < 3; i++) await refused(c, 'pin2', '000000'); },
      command: () => unblock('02', '12345678', '14725836'),
      holds: async (c, took) => {
        assert.equal(await status(2), took ? '63C3' : '6983');
        assert.equal(await status(3), '63C3', 'no PUK try lost either way');
        if (took) await ok(c, 'pin2', '14725836');
        else await refused(c, 'pin2', '14725836');
      },
    });
  });
}
