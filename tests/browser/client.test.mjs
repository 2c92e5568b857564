// client.test.mjs — www/siths-bridge.js used the way a third-party portal would: imported from the
// daemon into a page on another origin, in chromium or firefox-esr, against the fake bridge (the
// documented contract): cards, login errors with tries left, a download followed through its
// events, reconnect with backoff after the daemon went away, and a job end missed while
// disconnected.
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeBridge, SEED_CARD } from './fake-bridge.mjs';
import { launchBrowser, startPortal, localhostCerts } from '../lib/browser.mjs';
import { eventually } from './steps.mjs';

const certs = localhostCerts();
let fb, br, portal, page;

before(async () => {
  br = await launchBrowser({ ca: certs.ca });
  portal = await startPortal();
});
after(async () => { await br.close(); await portal.stop(); });
beforeEach(async () => {
  fb = await startFakeBridge({ cert: certs.cert, key: certs.key, stepMs: 60, allowOrigins: [portal.origin] });
  page = await br.context.newPage();
  await page.goto(portal.url('/'));
  // The module, imported cross-origin; events are logged into window.log for the test to read.
  await page.evaluate(async (base) => {
    const m = await import(`${base}/siths-bridge.js`);
    window.M = m;
    window.bridge = new m.SithsBridge(base, { backoff: { initialMs: 100, maxMs: 400 } });
    window.log = [];
    window.bridge.on('message', (ev) => window.log.push(ev.type));
    window.bridge.on('connection', (c) => window.log.push(`connection:${c.state}${c.retryInMs !== undefined ? ':retry' : ''}`));
  }, fb.origin);
  br.clearProblems();
});
afterEach(async () => { await page.close(); await fb.stop(); });

const log = () => page.evaluate(() => window.log.slice());

test('from another origin: connect, list cards, live insert, login errors, download with progress', async () => {
  await page.evaluate(() => window.bridge.connect());
  await eventually(async () => assert.ok((await log()).includes('connection:connected')));
  assert.deepEqual(await page.evaluate(() => window.bridge.cards()), []);
  fb.insert();
  await eventually(async () => assert.ok((await log()).includes('card-inserted')));
  const cards = await page.evaluate(() => window.bridge.cards());
  assert.equal(cards.length, 1);
  assert.equal(cards[0].hsa_id, SEED_CARD.hsa_id);
  const health = await page.evaluate(() => window.bridge.health());
  assert.equal(health.issuer.test, true);

  const wrong = await page.evaluate(async (id) => {
    try { await window.bridge.login(id, '000000'); return null; } catch (e) { return { name: e.name, code: e.code, status: e.status, triesLeft: e.triesLeft }; }
  }, SEED_CARD.id);
  assert.deepEqual(wrong, { name: 'BridgeError', code: 'wrong_pin', status: 401, triesLeft: 2 });
  assert.equal(await page.evaluate((id) => window.bridge.isLoggedIn(id), SEED_CARD.id), false);

  const noLogin = await page.evaluate(async (id) => {
    try { await window.bridge.startSignatureCertificate(id, '654321'); return null; } catch (e) { return { code: e.code, status: e.status }; }
  }, SEED_CARD.id);
  assert.deepEqual(noLogin, { code: 'login_required', status: 401 });

  await page.evaluate((id) => window.bridge.login(id, '123456'), SEED_CARD.id);
  assert.equal(await page.evaluate((id) => window.bridge.isLoggedIn(id), SEED_CARD.id), true);
  const res = await page.evaluate(async (id) => {
    const pct = [];
    const done = await window.bridge.downloadSignatureCertificate(id, '654321', { onProgress: (p) => pct.push(p.percent) });
    return { done: done.type, pct };
  }, SEED_CARD.id);
  assert.equal(res.done, 'job-done');
  assert.ok(res.pct.length >= 3 && res.pct.every((v, i) => i === 0 || v >= res.pct[i - 1]), `progress ${res.pct}`);
  // Every REST call from the portal carried its Origin.
  assert.ok(fb.requests.filter((r) => r.path.startsWith('/v1/')).every((r) => r.origin === portal.origin));
  assert.deepEqual(br.problems().filter((p) => !/status of 401/.test(p)), []);
});

test('a wrong PIN2 ends the job with code wrong_pin and tries left', async () => {
  fb.insert();
  await page.evaluate(() => window.bridge.connect());
  await eventually(async () => assert.ok((await log()).includes('connection:connected')));
  const r = await page.evaluate(async (id) => {
    await window.bridge.login(id, '123456');
    try { await window.bridge.downloadSignatureCertificate(id, '111111'); return null; } catch (e) { return { code: e.code, triesLeft: e.triesLeft }; }
  }, SEED_CARD.id);
  assert.deepEqual(r, { code: 'wrong_pin', triesLeft: 2 });
});

test('reconnects with backoff when the daemon comes back; a job end missed meanwhile is recovered', async () => {
  fb.insert();
  await page.evaluate(() => window.bridge.connect());
  await eventually(async () => assert.ok((await log()).includes('connection:connected')));
  fb.jobHold = new Promise((r) => { fb.release = r; });
  const jobId = await page.evaluate(async (id) => {
    await window.bridge.login(id, '123456');
    const job = await window.bridge.startSignatureCertificate(id, '654321');
    window.jobResult = window.bridge.followJob(job).then((ev) => ev.type, (e) => `failed:${e.code}`);
    return job;
  }, SEED_CARD.id);
  // The event stream goes away; the job ends while the page cannot hear it.
  fb.wsRefuse = true;
  fb.disconnectClients();
  await eventually(async () => assert.ok((await log()).filter((l) => l === 'connection:reconnecting:retry').length >= 2));
  fb.jobHold = null; fb.release();
  await eventually(() => assert.equal(fb.cards.get(SEED_CARD.id).signature_certificate.present, true));
  fb.wsRefuse = false;
  const ended = await page.evaluate(() => Promise.race([window.jobResult, new Promise((r) => setTimeout(() => r('no end within 15 s'), 15000))]));
  assert.equal(ended, 'job-done');
  assert.ok(jobId.startsWith('j'));
  const l = await log();
  assert.ok(l.lastIndexOf('connection:connected') > l.indexOf('connection:reconnecting:retry'), 'connected again');
});

test('daemon unreachable: BridgeError code unreachable', async () => {
  await fb.stop();
  const r = await page.evaluate(async () => {
    try { await window.bridge.cards(); return null; } catch (e) { return { name: e.name, code: e.code }; }
  });
  assert.deepEqual(r, { name: 'BridgeError', code: 'unreachable' });
  fb = await startFakeBridge({ cert: certs.cert, key: certs.key, stepMs: 60, allowOrigins: [portal.origin] });
});
