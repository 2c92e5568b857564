// pcsc_restart.test.mjs — pcscd killed and restarted while the daemon runs: the daemon reports
// pcscd unreachable (health, cards gone, card-removed/reader-removed events), reconnects by
// itself as soon as pcscd's socket is back, and lists the readers and cards again — without
// being restarted.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPcscd, startCard, startBridge, curl, testPki, until, waitCard, openscConf } from '../lib/harness.mjs';
import { eventClient } from '../lib/events.mjs';

let pc, bridge, events;
const cards = [];

after(async () => {
  if (events) events.close();
  for (const c of cards) await c.stop();
  if (bridge) await bridge.stop();
  if (pc) await pc.stop();
});

const api = (path) => curl(bridge.url(path), { headers: { Origin: bridge.origin } });
const health = async () => (await curl(bridge.url('/health'))).json.pcsc;

test('pcscd killed and restarted: cards listed again, same daemon', async () => {
  testPki();
  pc = await startPcscd();
  bridge = await startBridge({ pcscd: pc });
  events = eventClient(bridge);
  await events.open;
  cards.push(await startCard({ port: pc.ports[0] }));
  const first = await events.waitFor((m) => m.type === 'card-inserted', { what: 'first insert' });
  const pid = bridge.pid;

  let from = events.mark();
  await pc.kill(); // SIGKILL: no goodbye from pcscd; the cards lose their reader too
  await events.waitFor((m) => m.type === 'card-removed' && m.card_id === first.card.id, { from, what: 'card-removed' });
  await events.waitFor((m) => m.type === 'reader-removed', { from, what: 'reader-removed' });
  const down = await until(async () => { const h = await health(); return h.reachable === false ? h : null; },
    { what: 'pcsc unreachable in /health' });
  assert.equal(down.readers, 0);
  assert.equal(down.cards, 0);
  assert.deepEqual((await api('/v1/cards')).json, { cards: [] });
  await bridge.waitFor(/pcscd not reachable/);

  // The card processes exit with their reader; start pcscd and insert the card again.
  await Promise.all(cards.splice(0).map((c) => c.exited));
  from = events.mark();
  await pc.start();
  await events.waitFor((m) => m.type === 'reader-added', { from, timeout: 15000, what: 'reader-added' });
  cards.push(await startCard({ port: pc.ports[0] }));
  const again = await events.waitFor((m) => m.type === 'card-inserted', { from, timeout: 15000, what: 'card-inserted' });
  assert.equal(again.card.card_number, '9752269885715693047');
  assert.equal(again.card.status, 'ok');
  const up = await until(async () => { const h = await health(); return h.reachable && h.cards === 1 ? h : null; },
    { what: 'pcsc reachable again' });
  assert.equal(up.readers, 2);
  const list = await api('/v1/cards');
  assert.equal(list.json.cards.length, 1);
  assert.equal(list.json.cards[0].id, again.card.id);
  // Same process all along.
  assert.equal(bridge.pid, pid);
  assert.equal(bridge.exitCode, undefined);
  assert.match(bridge.output, /pcscd reachable[\s\S]*pcscd not reachable[\s\S]*pcscd reachable/);
  // Reconnected because pcscd's socket appeared (an inotify watch), not on a back-off timer.
  assert.match(bridge.output, /pcscd not reachable[\s\S]*pcscd reachable \(its socket appeared\)/);
});

// What `siths-bridge doctor` waits for: the core says when it has read every reader pcscd listed,
// after the card already in one was read — on the first connection and after pcscd came back.
test('the first reading of pcscd\'s readers is reported complete after the card in one was read', async () => {
  const pc2 = await startPcscd();
  const card = await startCard({ port: pc2.ports[0] });
  let b;
  try {
    await waitCard(pc2, 0, { conf: openscConf() }); // pcscd itself sees the card before the daemon starts
    b = await startBridge({ pcscd: pc2 });
    const scanned = await b.waitFor(/pcscd's readers read: (\d+) reader\(s\), (\d+) card\(s\)/);
    assert.deepEqual([scanned[1], scanned[2]], ['2', '1']);
    const inserted = b.output.search(/inserted: card /);
    assert.ok(inserted >= 0 && inserted < b.output.indexOf("pcscd's readers read"), b.output);
    // pcscd again: a second complete reading, of the readers alone (the card went with its reader).
    await pc2.kill();
    await b.waitFor(/pcscd not reachable/);
    const from = b.mark();
    await pc2.start();
    const again = await b.waitFor(/pcscd's readers read: (\d+) reader\(s\), (\d+) card\(s\)/, { from });
    assert.deepEqual([again[1], again[2]], ['2', '0']);
  } finally {
    if (b) await b.stop();
    await card.stop();
    await pc2.stop();
  }
});
