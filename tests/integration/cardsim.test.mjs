// cardsim.test.mjs — the virtual card through a real private pcscd + vpcd, driven with raw APDUs
// from opensc-tool: selection and reads, PIN counters that persist across a restart, access rules,
// extended length, key generation (and --next-key), fault injection (card pulled), reader gone, signals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmp, testPki, bin, Proc, opensc, sendApdus, waitCard, until } from '../lib/harness.mjs';
import { openscRig } from '../lib/opensc-rig.mjs';

let pc, conf;
const rig = openscRig((r) => { ({ pc, conf } = r); });

// One card per test, in reader `reader`, with its own state file.
const card = (opts = {}, reader = 0) => rig.insert(opts, reader);
const pull = (c, reader = 0) => rig.pull(c, reader);
const apdus = (list, reader = 0) => sendApdus(pc, reader, list, { conf });

test('ATR, SELECT by AID/path/FID, READ BINARY with offsets, TokenInfo holds the card number', async () => {
  const c = await card();
  try {
    const r = await apdus([
      '00 A4 04 00 0C A0 00 00 00 63 50 4B 43 53 2D 31 35 00', // DF.PKCS15 by AID, FCI
      '00 A4 00 0C 02 50 32',                                     // TokenInfo by FID
      '00 B0 00 00 00',
      '00 B0 00 04 04',                                           // offset 4
      '00 A4 08 04 02 2F 00 00',                                  // EF.DIR by path, FCP
      '00 B0 00 00 00',
      '00 A4 08 0C 04 50 15 99 99',                               // no such file
    ]);
    assert.equal(r.length, 7, r.stdout + r.stderr);
    assert.equal(r[0].sw, '9000');
    assert.equal(r[0].data[0], 0x6F);
    assert.ok(r[0].data.includes(Buffer.from('840CA000000063504B43532D3135', 'hex')));
    assert.equal(r[1].sw, '9000');
    assert.equal(r[2].sw, '9000');
    assert.ok(r[2].data.includes(Buffer.from('9752269885715693047')), 'card number in TokenInfo');
    assert.ok(r[2].data.includes(Buffer.from('SITHS e-id Ordinarie kort')));
    assert.deepEqual(r[3].data, r[2].data.subarray(4, 8));
    assert.equal(r[4].sw, '9000');
    assert.equal(r[4].data[0], 0x62);
    assert.equal(r[5].sw, '9000');
    assert.equal(r[5].data[0], 0x61);
    assert.ok(r[5].data.includes(Buffer.from('A000000063504B43532D3135', 'hex')));
    assert.equal(r[6].sw, '6A82');
  } finally { await pull(c); }
});

test('extended length passes pcscd/vpcd: the 3072-byte signature certificate EF is all zero', async () => {
  const c = await card({ args: ['--extended-length'] });
  try {
    const r = await apdus(['00 A4 08 0C 04 50 15 43 02', '00 B0 00 00 00 00 00']);
    assert.equal(r[1].sw, '9000');
    assert.equal(r[1].data.length, 3072);
    assert.ok(r[1].data.every((b) => b === 0));
  } finally { await pull(c); }
});

test('a card that does not announce extended length answers an extended APDU 6700, the short one 9000', async () => {
  const c = await card();
  try {
    const r = await apdus(['00 A4 08 0C 04 50 15 43 02', '00 B0 00 00 00 00 00', '00 B0 00 00 00']);
    assert.deepEqual(r.map((x) => x.sw), ['9000', '6700', '9000']);
    assert.equal(r[2].data.length, 256);
  } finally { await pull(c); }
});

test('VERIFY counters: empty form, wrong PIN decrements and persists across a restart, right PIN resets', async () => {
  const state = join(tmp('card-'), 'state.json');
  let c = await card({ state });
  try {
    let r = await apdus(['00 20 00 01', '00 20 00 01 06 39 39 39 39 39 39', '00 20 00 01']);
    assert.deepEqual(r.map((x) => x.sw), ['63C3', '63C2', '63C2']);
    await pull(c);
    c = await card({ state });
    r = await apdus(['00 20 00 01', '00 20 00 01 06 31 32 33 34 35 36', '00 20 00 01', '00 20 00 02']);
    assert.deepEqual(r.map((x) => x.sw), ['63C2', '9000', '9000', '63C3']);
    // Like a real card, the security status outlives a PC/SC connection that leaves the card...
    r = await apdus(['00 20 00 01']);
    assert.equal(r[0].sw, '9000');
    // ...and a reset clears it (the counter stays at its maximum).
    const reset = await opensc(pc, 'opensc-tool', ['-r', '0', '--reset', 'warm'], { conf });
    assert.equal(reset.code, 0, reset.stderr);
    r = await apdus(['00 20 00 01']);
    assert.equal(r[0].sw, '63C3');
  } finally { await pull(c); }
});

test('blocked PIN2 answers 6983; RESET RETRY COUNTER with the PUK unblocks it', async () => {
  const c = await card();
  try {
    const wrong = '00 20 00 02 06 31 31 31 31 31 31';
    let r = await apdus([wrong, wrong, wrong, '00 20 00 02', '00 20 00 02 06 36 35 34 33 32 31']);
    assert.deepEqual(r.map((x) => x.sw), ['63C2', '63C1', '63C0', '6983', '6983']);
    r = await apdus([
      '00 2C 01 02 08 38 37 36 35 34 33 32 31', // wrong PUK
      '00 2C 01 02 08 31 32 33 34 35 36 37 38', // PUK only: unblock, PIN unchanged
      '00 20 00 02', '00 20 00 02 06 36 35 34 33 32 31']);
    assert.deepEqual(r.map((x) => x.sw), ['63C2', '9000', '63C3', '9000']);
  } finally { await pull(c); }
});

test('access rules: certificate EF and CDF writes need PIN2 in this session; GENERATE returns 7F49', async () => {
  const state = join(tmp('card-'), 'state.json');
  const c = await card({ state });
  try {
    let r = await apdus(['00 A4 08 0C 04 50 15 43 02', '00 D6 00 00 02 30 82', '00 46 00 02 00']);
    assert.deepEqual(r.map((x) => x.sw), ['9000', '6982', '6982']);
    r = await apdus(['00 20 00 02 06 36 35 34 33 32 31', '00 A4 08 0C 04 50 15 43 02', '00 D6 00 00 02 30 82',
      '00 B0 00 00 02', '00 46 00 00 05 AC 03 84 01 02 00', '00 A4 08 0C 04 50 15 50 31', '00 D6 00 00 01 00']);
    assert.deepEqual(r.map((x) => x.sw), ['9000', '9000', '9000', '9000', '9000', '9000', '6985']);
    assert.deepEqual(r[3].data, Buffer.from([0x30, 0x82]));
    // OpenSC fetched the 61xx remainder with GET RESPONSE: the whole 270-byte template.
    const t = r[4].data;
    assert.equal(t.length, 270);
    assert.equal(t.subarray(0, 9).toString('hex'), '7f498201098182010' + '0');
    assert.equal(t.subarray(265).toString('hex'), '8203010001');
    // The new public key is in EF 4502 and persisted.
    const saved = JSON.parse(readFileSync(state, 'utf8'));
    assert.ok(saved.files['4502'].includes(t.subarray(9, 265).toString('hex')));
    assert.ok(saved.files['4302'].startsWith('3082'));
  } finally { await pull(c); }
});

test('--next-key: the next GENERATE yields that key, once; a file that is no RSA key is refused', async () => {
  const key = join(tmp('next-'), 'key.pem');
  execFileSync('openssl', ['genrsa', '-out', key, '2048'], { stdio: 'ignore' });
  const modulus = execFileSync('openssl', ['rsa', '-in', key, '-noout', '-modulus']).toString().trim().replace('Modulus=', '').toLowerCase();
  const c = await card({ args: ['--next-key', key] });
  try {
    const gen = ['00 20 00 02 06 36 35 34 33 32 31', '00 46 00 00 05 AC 03 84 01 02 00'];
    let r = await apdus(gen);
    assert.deepEqual(r.map((x) => x.sw), ['9000', '9000']);
    assert.equal(r[1].data.subarray(9, 265).toString('hex'), modulus, 'the key of --next-key');
    r = await apdus(gen);
    assert.notEqual(r[1].data.subarray(9, 265).toString('hex'), modulus, 'once: then new keys again');
  } finally { await pull(c); }
  const ec = join(tmp('next-'), 'ec.pem');
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', ec], { stdio: 'ignore' });
  for (const f of [ec, join(tmp('next-'), 'missing.pem')]) {
    const p = new Proc(bin('siths-cardsim'), ['--port', String(pc.ports[0]), '--pki', testPki(), '--state', join(tmp('card-'), 's.json'), '--next-key', f]);
    const { code } = await p.exited;
    assert.equal(code, 2, p.output);
    assert.match(p.output, /--next-key .*not a PEM RSA private key of 2048 bits or more/);
  }
});

test('--delay realistic: key generation takes seconds, like a real card', async () => {
  const c = await card({ args: ['--delay', 'realistic'] });
  try {
    await apdus(['00 20 00 02 06 36 35 34 33 32 31']);
    const t0 = Date.now();
    const r = await apdus(['00 46 00 02 00']);
    const ms = Date.now() - t0;
    assert.equal(r[0].sw, '9000');
    assert.equal(r[0].data.length, 270);
    assert.ok(ms >= 3000, `GENERATE took only ${ms} ms`);
  } finally { await pull(c); }
});

// clock_nanosleep's number, as /proc/PID/syscall shows it while a thread sleeps in it.
const NANOSLEEP = { x64: 230, arm64: 115 }[process.arch];

test('SIGTERM while the card is busy with a command: it answers that command, then stops', async () => {
  assert.ok(NANOSLEEP, `no clock_nanosleep number for ${process.arch}`);
  const c = await card({ args: ['--delay', 'realistic', '--verbose'] });
  const busy = apdus(['00 20 00 02 06 36 35 34 33 32 31', '00 46 00 02 00']);
  // The card is inside GENERATE's 4 s pause, not waiting for a frame: the signal lands between two
  // reads. A card that only noticed signals inside read() went on waiting for vpcd for ever.
  await until(() => /verify 00200002 .*-> 9000/.test(c.output) &&
    readFileSync(`/proc/${c.pid}/syscall`, 'utf8').split(' ')[0] === String(NANOSLEEP),
  { what: 'the card sleeping inside GENERATE', timeout: 15000, interval: 5 });
  const { code } = await c.stop('SIGTERM', { timeout: 15000 });
  assert.equal(code, 0);
  assert.match(c.output, /generate-key 00460002 .*-> (9000|61[0-9A-F]{2})\n[\s\S]*stopped by signal/);
  assert.equal((await busy)[0].sw, '9000');
  await waitCard(pc, 0, { present: false, conf });
});

test('a second card pushed into an occupied reader says so and exits 1 instead of waiting for ever', async () => {
  const a = await card();
  try {
    const b = new Proc(bin('siths-cardsim'), ['--port', String(pc.ports[0]), '--pki', testPki(), '--state', join(tmp('card-'), 's.json')]);
    const { code } = await b.exited;
    assert.equal(code, 1, b.output);
    assert.match(b.output, /connected to [\s\S]*never spoke to the card within 10 s \(another card already in this reader\?\)/);
    assert.equal((await apdus(['00 A4 00 0C 02 3F 00']))[0].sw, '9000', 'the first card still answers');
  } finally { await pull(a); }
});

test('two cards in two readers at once', async () => {
  const a = await card({}, 0);
  const b = await card({ card: writeCard({ card_number: '9752269885715690002', card_type: 'reserve' }) }, 1);
  try {
    const r0 = await apdus(['00 A4 08 0C 04 50 15 50 32', '00 B0 00 00 00'], 0);
    const r1 = await apdus(['00 A4 08 0C 04 50 15 50 32', '00 B0 00 00 00'], 1);
    assert.ok(r0[1].data.includes(Buffer.from('9752269885715693047')));
    assert.ok(r1[1].data.includes(Buffer.from('9752269885715690002')));
    assert.ok(r1[1].data.includes(Buffer.from('SITHS e-id Reservkort')));
  } finally { await pull(a, 0); await pull(b, 1); }
});

function writeCard(obj) {
  const f = join(tmp('cardfile-'), 'card.json');
  writeFileSync(f, JSON.stringify(obj));
  return f;
}

test('--drop-after N pulls the card after N answered APDUs', async () => {
  const c = await card({ args: ['--drop-after', '2'] });
  const r = await apdus(['00 A4 00 0C 02 3F 00', '00 A4 08 0C 02 2F 00', '00 B0 00 00 00']);
  assert.deepEqual(r.slice(0, 2).map((x) => x.sw), ['9000', '9000']);
  assert.equal(r.length, 2, 'third APDU must not be answered');
  const { code } = await c.exited;
  assert.equal(code, 0);
  assert.match(c.output, /card pulled \(--drop-after 2\)/);
  await waitCard(pc, 0, { present: false, conf });
});

test('--drop-at verify:2 pulls the card before the 2nd VERIFY is processed (no try consumed)', async () => {
  const state = join(tmp('card-'), 'state.json');
  let c = await card({ state, args: ['--drop-at', 'verify:2'] });
  const wrong = '00 20 00 01 06 39 39 39 39 39 39';
  const r = await apdus([wrong, wrong]);
  assert.deepEqual(r.map((x) => x.sw), ['63C2']);
  assert.equal((await c.exited).code, 0);
  assert.match(c.output, /card pulled \(--drop-at verify:2\)/);
  await waitCard(pc, 0, { present: false, conf });
  c = await card({ state });
  try {
    const r2 = await apdus(['00 20 00 01']);
    assert.equal(r2[0].sw, '63C2');
  } finally { await pull(c); }
});

test('--drop-at update-binary pulls the card in the middle of writing', async () => {
  const state = join(tmp('card-'), 'state.json');
  const c = await card({ state, args: ['--drop-at', 'update-binary:2'] });
  const r = await apdus(['00 20 00 02 06 36 35 34 33 32 31', '00 A4 08 0C 04 50 15 43 02',
    '00 D6 00 00 02 30 82', '00 D6 00 02 02 AA BB']);
  assert.deepEqual(r.map((x) => x.sw), ['9000', '9000', '9000']);
  assert.equal((await c.exited).code, 0);
  const saved = JSON.parse(readFileSync(state, 'utf8'));
  assert.ok(saved.files['4302'].startsWith('30820000'), 'first chunk written, second never');
  // pcscd must see the removal before the next test's card connects to the same reader port.
  await waitCard(pc, 0, { present: false, conf });
});

test('--garbage-at answers one APDU with random bytes; the card keeps working', async () => {
  const c = await card({ args: ['--garbage-at', 'read-binary:1'] });
  try {
    const g = await apdus(['00 A4 08 0C 02 2F 00', '00 B0 00 00 00']);
    assert.equal(g[0]?.sw, '9000', `SELECT before the garbage: ${g.stdout}${g.stderr}`);
    await c.waitFor(/answered garbage \(--garbage-at read-binary:1\)/);
    const r = await apdus(['00 A4 08 0C 02 2F 00', '00 B0 00 00 00']);
    assert.deepEqual(r.map((x) => x.sw), ['9000', '9000']);
    assert.equal(r[1].data[0], 0x61);
  } finally { await pull(c); }
});

test('--verbose logs headers and status words, never a PIN (not even its length)', async () => {
  const c = await card({ args: ['--verbose'] });
  try {
    const r = await apdus(['00 20 00 01 06 31 32 33 34 35 36', '00 24 00 01 0C 31 32 33 34 35 36 39 38 37 36 35 34',
      '00 2C 00 02 0E 31 32 33 34 35 36 37 38 37 37 37 37 37 37']);
    assert.deepEqual(r.map((x) => x.sw), ['9000', '9000', '9000']);
    await c.waitFor(/reset-retry 002C0002 len - -> 9000/);
    assert.match(c.output, /verify 00200001 len - -> 9000/);
    for (const secret of ['123456', '987654', '12345678', '777777', '313233343536', '373737373737'])
      assert.ok(!c.output.includes(secret), `log contains ${secret}`);
  } finally { await pull(c); }
});

test('--corrupt damages an EF for reader robustness tests', async () => {
  const c = await card({ args: ['--corrupt', '4404:truncate'] });
  try {
    const r = await apdus(['00 A4 08 04 04 50 15 44 04 00']);
    assert.equal(r[0].sw, '9000');
    assert.equal(r[0].data.subarray(2, 6).toString('hex'), '80020200'); // 512 of 1024 bytes
  } finally { await pull(c); }
});

test('garbage APDUs get status words and the card keeps working', async () => {
  const c = await card();
  try {
    const r = await apdus(['80 08 00 00 00', '00 FF 00 00', '00 A4 04 00 05 A0 00 00 03 97 00', '00 B0 00 00 01',
      '00 20 00 09', '00 22 41 B6 02 84 01', '00 2A 9E 9A 01 00 00', '00 A4 00 0C 02 3F 00']);
    assert.deepEqual(r.map((x) => x.sw), ['6E00', '6D00', '6A82', '6986', '6A88', '6A80', '6985', '9000']);
  } finally { await pull(c); }
});

test('reader gone: vpcd closing the connection ends the card cleanly; it waits for a late vpcd', async () => {
  const state = join(tmp('card-'), 'state.json');
  const c = await card({ state });
  await pc.stop();
  const { code } = await c.exited;
  assert.equal(code, 0);
  assert.match(c.output, /vpcd closed the connection/);
  // Started before pcscd listens: retries until vpcd is there.
  const late = new Proc(bin('siths-cardsim'), ['--port', String(pc.ports[0]), '--pki', testPki(), '--state', state, '--wait', '20']);
  try {
    await pc.start();
    await late.waitFor(/connected to 127\.0\.0\.1:\d+/);
    await waitCard(pc, 0, { conf });
  } finally {
    await late.stop();
    assert.equal(late.exitCode, 0, 'SIGTERM exits 0');
    assert.match(late.output, /stopped by signal/);
  }
});

test('usage errors exit 2 with a message; --help exits 0', async () => {
  const bad = new Proc(bin('siths-cardsim'), ['--port', 'x', '--state', '/nonexistent/s', '--pki', '/nonexistent']);
  await bad.exited;
  assert.equal(bad.exitCode, 2);
  assert.match(bad.output, /invalid value for --port/);
  const drop = new Proc(bin('siths-cardsim'), ['--port', '1', '--state', 's', '--pki', 'p', '--drop-at', 'nonsense']);
  await drop.exited;
  assert.equal(drop.exitCode, 2);
  const help = new Proc(bin('siths-cardsim'), ['--help']);
  await help.exited;
  assert.equal(help.exitCode, 0);
  assert.match(help.output, /--drop-at KIND/);
  const badCard = writeCard({ trust_level: 4 });
  const p = new Proc(bin('siths-cardsim'), ['--port', '1', '--pki', testPki(), '--state', join(tmp('card-'), 's.json'), '--card', badCard]);
  await p.exited;
  assert.equal(p.exitCode, 1);
  assert.match(p.output, /trust_level must be 2 or 3/);
});
