// cards.test.mjs — the card core through the real daemon: a private pcscd with two vpcd readers,
// the virtual card, GET /v1/readers, /v1/cards, /v1/cards/{id}, WebSocket card events (within a
// second), every model field for the seed card and a reserve trust-level-2 card, and cards that
// answer garbage or truncated DER (clear error, daemon fine).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPcscd, startCard, startBridge, curl, tmp, testPki, until } from '../lib/harness.mjs';
import { eventClient } from '../lib/events.mjs';

let pc, bridge, events;

// Every card a test inserts is pulled when that test ends, also when it fails: vpcd serves one
// card per reader and parks the next connection in its listen backlog, so a card left behind
// would make every later test in that reader fail for the wrong reason.
async function insert(t, opts) {
  const card = await startCard(opts);
  t.after(async () => {
    if (card.exitCode !== undefined || card.exitSignal) return; // the test pulled it itself
    await card.stop();
    await until(async () => (await api('/v1/readers')).json?.readers?.every((r) => !r.card_present),
      { what: 'no card left in any reader' });
  });
  return card;
}

const api = (path) => curl(bridge.url(path), { headers: { Origin: bridge.origin } });

before(async () => {
  testPki();
  pc = await startPcscd();
  bridge = await startBridge({ pcscd: pc });
  events = eventClient(bridge);
  await events.open;
});

after(async () => {
  if (events) events.close();
  if (bridge) await bridge.stop();
  if (pc) await pc.stop();
});

test('two readers are listed, no card yet, /health reports pcscd', async () => {
  // The core lists readers as soon as pcscd answers: wait for that condition, with a deadline.
  const r = await until(async () => {
    const x = await api('/v1/readers');
    return x.json && x.json.readers && x.json.readers.length === 2 ? x : null;
  }, { what: 'two readers' });
  assert.equal(r.status, 200);
  assert.equal(r.json.readers.length, 2);
  for (const rd of r.json.readers) {
    assert.match(rd.id, /^r[0-9a-f]{16}$/);
    assert.match(rd.name, /Virtual PCD/);
    assert.equal(rd.card_present, false);
  }
  assert.notEqual(r.json.readers[0].id, r.json.readers[1].id);
  const h = await curl(bridge.url('/health'));
  assert.equal(h.status, 200);
  assert.equal(h.json.pcsc.reachable, true);
  assert.equal(h.json.pcsc.readers, 2);
  assert.equal(h.json.pcsc.cards, 0);
  const c = await api('/v1/cards');
  assert.deepEqual(c.json, { cards: [] });
});

test('seed card: inserted and removed as WebSocket events within a second, every field right', async (t) => {
  const from = events.mark();
  const card = await insert(t, { port: pc.ports[0] });
  const inserted = Date.now();
  const ev = await events.waitFor((m) => m.type === 'card-inserted', { from, what: 'card-inserted' });
  assert.ok(ev.at - inserted < 1000, `card-inserted after ${ev.at - inserted} ms`);
  const c = ev.card;
  assert.match(c.id, /^c[0-9a-f]{16}$/);
  assert.equal(c.status, 'ok');
  assert.equal(c.reader, 'Virtual PCD 00 00');
  assert.equal(c.card_number, '9752269885715693047');
  assert.equal(c.card_type, 'ordinary');
  assert.equal(c.holder, 'Olof Svensson Andersson');
  assert.equal(c.organisation, 'Västra Götalandsregionen');
  assert.equal(c.valid_from, '2023-11-18');
  assert.equal(c.valid_to, '2028-09-30');
  assert.equal(c.trust_level, 3);
  assert.equal(c.hsa_id, 'TSTNMT2321000156-10XK');
  assert.equal(c.upn, 'osa@test.se');
  assert.equal(c.email, 'cathrine.andersson@inera.se');
  assert.equal(c.signature_certificate.present, false);
  // last_change: the AODF's lastPinChange, written when the card's state was made.
  for (const p of [c.pins.pin1, c.pins.pin2, c.pins.puk]) assert.match(p.last_change, /^\d{14}Z$/);
  const { last_change: _1, ...pin1 } = c.pins.pin1, { last_change: _2, ...pin2 } = c.pins.pin2;
  assert.deepEqual(pin1, { tries_left: 3, blocked: false, label: 'legitimering', min_length: 6, max_length: 8, activated: true });
  assert.deepEqual(pin2, { tries_left: 3, blocked: false, label: 'underskrift', min_length: 6, max_length: 8, activated: true });
  assert.deepEqual([c.pins.puk.tries_left, c.pins.puk.min_length, c.pins.puk.activated], [3, 8, true]);
  assert.equal(c.eids.length, 1);
  assert.equal(c.eids[0].hsa_id, 'TSTNMT2321000156-10XK');
  assert.deepEqual(c.eids[0].signature_certificate, c.signature_certificate);

  // The REST API serves the same model from the cache.
  const one = await api(`/v1/cards/${c.id}`);
  assert.equal(one.status, 200);
  assert.deepEqual(one.json, c);
  const all = await api('/v1/cards');
  assert.deepEqual(all.json.cards, [c]);
  const readers = await api('/v1/readers');
  const rd = readers.json.readers.find((x) => x.name === 'Virtual PCD 00 00');
  assert.equal(rd.card_present, true);
  assert.equal(rd.card_id, c.id);
  assert.equal((await api('/v1/cards/c0000000000000000')).status, 404);

  // A new WebSocket client is greeted with the cards already there.
  const late = eventClient(bridge);
  await late.open;
  const greet = await late.waitFor((m) => m.type === 'card-inserted', { what: 'greeting' });
  assert.equal(greet.card.id, c.id);
  // The hello first, then the card in a message of its own, exactly as the card's event.
  assert.equal(late.msgs[0].type, 'hello');
  assert.equal(late.msgs[1], greet);
  assert.deepEqual(greet.card, c);
  late.close();

  const from2 = events.mark();
  const pulled = Date.now();
  await card.stop();
  const rm = await events.waitFor((m) => m.type === 'card-removed', { from: from2, what: 'card-removed' });
  assert.ok(rm.at - pulled < 1000, `card-removed after ${rm.at - pulled} ms`);
  assert.equal(rm.card_id, c.id);
  assert.equal((await api(`/v1/cards/${c.id}`)).status, 404);
  assert.deepEqual((await api('/v1/cards')).json, { cards: [] });
});

test('reserve trust-level-2 card with a signature certificate, in the second reader', async (t) => {
  const dir = tmp('reserve-');
  const file = join(dir, 'card.json');
  writeFileSync(file, JSON.stringify({
    card_type: 'reserve', trust_level: 2, holder: 'Åsa Ödmark', organisation: 'Region Östergötland',
    hsa_id: 'TSTNMT2321000156-20AB', upn: 'asa@test.se', email: 'asa.odmark@test.se',
    card_number: '9752269885715690001', valid_from: '2024-01-01', valid_to: '2029-12-31',
    with_signature_certificate: true,
  }));
  const from = events.mark();
  const card = await insert(t, { port: pc.ports[1], card: file });
  const ev = await events.waitFor((m) => m.type === 'card-inserted', { from, what: 'card-inserted' });
  const c = ev.card;
  assert.equal(c.reader, 'Virtual PCD 00 01');
  assert.equal(c.status, 'ok');
  assert.equal(c.card_type, 'reserve');
  assert.equal(c.trust_level, 2);
  assert.equal(c.holder, 'Åsa Ödmark');
  assert.equal(c.organisation, 'Region Östergötland');
  assert.equal(c.card_number, '9752269885715690001');
  assert.equal(c.hsa_id, 'TSTNMT2321000156-20AB');
  assert.equal(c.upn, 'asa@test.se');
  assert.equal(c.email, 'asa.odmark@test.se');
  assert.equal(c.valid_from, '2024-01-01');
  assert.equal(c.valid_to, '2029-12-31');
  assert.equal(c.signature_certificate.present, true);
  assert.equal(c.signature_certificate.key_checked, true);
  assert.equal(c.signature_certificate.valid_to, '2029-12-31');
  assert.equal(c.pins.pin2.tries_left, 3);
  const h = await curl(bridge.url('/health'));
  assert.equal(h.json.pcsc.cards, 1);
  const from2 = events.mark();
  await card.stop();
  await events.waitFor((m) => m.type === 'card-removed' && m.card_id === c.id, { from: from2 });
});

for (const [what, corrupt, where] of [
  ['garbage CDF', '4404:garbage', 'EF.CDF'],
  ['truncated TokenInfo', '5032:truncate', 'EF.TokenInfo'],
  ['truncated authentication certificate', '4301:truncate', 'authentication certificate'],
]) {
  test(`a card with ${what}: clear error, daemon fine`, async (t) => {
    const from = events.mark();
    const card = await insert(t, { port: pc.ports[0], args: ['--corrupt', corrupt] });
    const ev = await events.waitFor((m) => m.type === 'card-inserted', { from, what: 'card-inserted' });
    assert.equal(ev.card.status, 'error');
    assert.equal(ev.card.error.code, 'bad_data');
    assert.ok(ev.card.error.message.includes(where), ev.card.error.message);
    const one = await api(`/v1/cards/${ev.card.id}`);
    assert.equal(one.status, 200);
    assert.equal(one.json.status, 'error');
    assert.equal((await curl(bridge.url('/health'))).status, 200);
    assert.match(bridge.output, new RegExp(`could not be read: bad_data \\(${where}`));
    const from2 = events.mark();
    await card.stop();
    await events.waitFor((m) => m.type === 'card-removed', { from: from2 });
    // A good card still reads afterwards, in the same reader.
    const from3 = events.mark();
    const good = await insert(t, { port: pc.ports[0] });
    const ok = await events.waitFor((m) => m.type === 'card-inserted', { from: from3 });
    assert.equal(ok.card.status, 'ok');
    const from4 = events.mark();
    await good.stop();
    await events.waitFor((m) => m.type === 'card-removed', { from: from4 });
  });
}
