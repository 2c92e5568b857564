// ports.test.mjs — www/siths-bridge.js finding this user's bridge among the candidate ports, in
// chromium on a portal's page (another origin): a port with no listener refuses, a port held by
// another user's bridge closes the connection before TLS (as the peer check does), and the
// module takes the first that answers /health over TLS — the real daemon — and keeps it; when
// that bridge is gone and the user's bridge answers on another candidate, it finds that one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { freePort, startBridge } from '../lib/harness.mjs';
import { launchBrowser, startPortal } from '../lib/browser.mjs';
import { eventually } from './steps.mjs';

let br, portal, closer, candidates;
const accepted = [];

before(async () => {
  br = await launchBrowser();
  portal = await startPortal();
  // Another user's bridge: accepts, then closes before any TLS byte.
  closer = net.createServer((s) => { accepted.push(Date.now()); s.destroy(); });
  await new Promise((r) => closer.listen(0, '127.0.0.1', r));
  // [nothing listening, another user's bridge, this user's bridge, where it moves to later]
  candidates = [await freePort(), closer.address().port, await freePort(), await freePort()];
});
after(async () => { await br.close(); await portal.stop(); closer.close(); });

const bridgeOn = (port) => startBridge({ args: ['--https', `127.0.0.1:${port}`, '--allow-origin', portal.origin] });

// A portal page with the module (imported from the daemon) and a SithsBridge without a base URL.
async function portalPage(moduleOrigin) {
  const page = await br.context.newPage();
  await page.goto(portal.url('/'));
  await page.evaluate(async ({ origin, ports }) => {
    const m = await import(`${origin}/siths-bridge.js`);
    window.M = m;
    window.bridge = new m.SithsBridge(undefined, { ports, backoff: { initialMs: 100, maxMs: 400 } });
    window.log = [];
    window.bridge.on('connection', (c) => window.log.push(c.state));
  }, { origin: moduleOrigin, ports: candidates });
  return page;
}

test('the first candidate that answers over TLS is taken and kept; refusing and closing ports are passed over', async () => {
  const own = await bridgeOn(candidates[2]);
  const page = await portalPage(own.origin);
  try {
    assert.equal(await page.evaluate(() => window.bridge.baseUrl), null, 'not found before the first call');
    accepted.length = 0;
    await page.evaluate(() => window.bridge.connect());
    await eventually(async () => assert.equal(await page.evaluate(() => window.bridge.connectionState), 'connected'));
    assert.equal(await page.evaluate(() => window.bridge.baseUrl), own.origin);
    // Tried (chromium itself may retry a connection closed before TLS once: one fetch, 1 or 2).
    const tries = accepted.length;
    assert.ok(tries >= 1 && tries <= 2, `the other user's port was tried by one fetch: ${tries}`);
    // Kept: further calls go straight to it.
    assert.deepEqual(await page.evaluate(() => window.bridge.cards()), []);
    const health = await page.evaluate(() => window.bridge.health());
    assert.equal(health.listeners.https, `127.0.0.1:${candidates[2]}`);
    assert.equal(accepted.length, tries, 'not tried again once found');
    // The defaults: the 16 HTTPS ports of the port rule, slot 0 first.
    const defaults = await page.evaluate(() => [...window.M.CANDIDATE_PORTS]);
    assert.deepEqual(defaults, Array.from({ length: 16 }, (_, k) => 29443 + 2 * k));
    assert.deepEqual(br.problems().filter((p) => !/ERR_CONNECTION|Failed to load resource/.test(p)), []);
  } finally {
    await page.close();
    assert.equal((await own.stop()).code, 0);
  }
});

test('a bridge that is gone is forgotten: the next call finds this user\'s bridge on another candidate', async () => {
  let own = await bridgeOn(candidates[2]);
  const page = await portalPage(own.origin);
  try {
    await page.evaluate(() => window.bridge.connect());
    await eventually(async () => assert.equal(await page.evaluate(() => window.bridge.connectionState), 'connected'));
    assert.equal((await own.stop()).code, 0);
    own = await bridgeOn(candidates[3]);
    // The WebSocket's reconnect looks again, passes over the first three and opens on the fourth.
    await eventually(async () => assert.equal(await page.evaluate(() => window.bridge.baseUrl), own.origin), { timeout: 15000 });
    await eventually(async () => assert.equal(await page.evaluate(() => window.bridge.connectionState), 'connected'));
    assert.deepEqual(await page.evaluate(() => window.bridge.cards()), []);
  } finally {
    await page.close();
    assert.equal((await own.stop()).code, 0);
  }
});

test('no candidate answers: unreachable, naming the ports tried', async () => {
  const own = await bridgeOn(candidates[2]);
  const page = await portalPage(own.origin);
  assert.equal((await own.stop()).code, 0);
  try {
    const e = await page.evaluate(() => window.bridge.cards().then(() => null, (x) => ({ code: x.code, message: x.message })));
    assert.deepEqual(e, { code: 'unreachable', message: `no siths-bridge answers on ports ${candidates.join(', ')}` });
    assert.equal(await page.evaluate(() => window.bridge.baseUrl), null);
  } finally { await page.close(); }
});
