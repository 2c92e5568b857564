// page.test.mjs — the Mina sidor page served by the real siths-bridge, in Debian's chromium or
// firefox-esr (SITHS_BROWSER), trusting the local CA through a private NSS db: loads clean (no console errors, no CSP
// violations), Swedish by default with an English switch, keyboard navigation, live card panel,
// login and Logga ut against the real session store, and a plain Swedish message when the
// daemon stops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBridge, startCard, tmp } from '../lib/harness.mjs';
import { realStack, screenshot, focused, startPortal, assertTlsVerified } from '../lib/browser.mjs';
import { panel, checkSeedPanel, login, expect, eventually, SEED_VIEW } from './steps.mjs';

let pc, bridge, br;

// The real stack: pcscd, the daemon, the browser; the daemon's clean exit is checked after the file.
const stack = realStack({}, (s) => { ({ pc, bridge, br } = s); });

test('loads over trusted TLS with the strict CSP, no console errors, Swedish by default, English switch', async () => {
  const page = await br.context.newPage();
  br.clearProblems();
  const resp = await page.goto(bridge.url('/'));
  assert.equal(resp.status(), 200);
  assert.equal(new URL(page.url()).protocol, 'https:');
  assertTlsVerified(br, await resp.securityDetails());
  const csp = (await resp.allHeaders())['content-security-policy'] || '';
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /default-src 'none'/);
  assert.equal(await page.getAttribute('html', 'lang'), 'sv');
  await expect(page.locator('h1')).toHaveText('Hämta underskriftscertifikat');
  await expect(page.locator('.lead')).toHaveText('Om ditt kort saknar underskriftscertifikat kan du ladda ned detta via Mina sidor');
  await expect(page.locator('footer')).toHaveText('SITHS eID används av medarbetare inom vård och omsorg. Sidan visas av programmet siths-bridge på din dator.');
  // The private pcscd has two empty vpcd readers: the page asks for the card (seed step 1).
  await expect(page.locator('#empty-title')).toHaveText('Sätt kortet i kortläsaren');
  await expect(page.locator('#connection')).toBeHidden();   // the WebSocket is up
  await screenshot(page, 'page', '01-no-card');

  await page.locator('#lang-switch').click();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await expect(page.locator('h1')).toHaveText('Download signature certificate');
  await expect(page.locator('#empty-title')).toHaveText('Put the card in the card reader');
  await expect(page.locator('footer')).toHaveText('SITHS eID is used by staff in Swedish health and social care. This page is served by the siths-bridge program on your computer.');
  await screenshot(page, 'page', '02-english');
  await page.reload();
  await expect(page.locator('h1')).toHaveText('Download signature certificate');   // the choice is kept
  await page.locator('#lang-switch').click();
  await expect(page.locator('h1')).toHaveText('Hämta underskriftscertifikat');
  assert.deepEqual(br.problems(), [], 'no console errors, page errors or CSP violations');
  await page.close();
});

test('keyboard: skip link first, language switch by Enter, focus visible', async () => {
  const page = await br.context.newPage();
  await page.goto(bridge.url('/'));
  await expect(page.locator('#empty-title')).toHaveText('Sätt kortet i kortläsaren');
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'a.skip');
  await expect(page.locator('.skip')).toBeVisible();
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'button#lang-switch.link-button');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'focus is visible');
  await page.keyboard.press('Enter');
  await expect(page.locator('h1')).toHaveText('Download signature certificate');
  assert.equal(await focused(page), 'button#lang-switch.link-button', 'focus stays on the switch');
  await page.keyboard.press('Enter');
  await expect(page.locator('h1')).toHaveText('Hämta underskriftscertifikat');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(page), 'a.skip');
  await page.keyboard.press('Enter');
  assert.equal(await focused(page), 'main#main', 'skip link moves focus to the content');
  await page.close();
});

test('a card inserted while the page is open appears with the seed fields, and goes when pulled', async () => {
  const page = await br.context.newPage();
  br.clearProblems();
  await page.goto(bridge.url('/'));
  await expect(page.locator('#empty-title')).toHaveText('Sätt kortet i kortläsaren');
  const card = await startCard({ port: pc.ports[0] });
  try {
    await expect(panel(page)).toBeVisible({ timeout: 15000 });
    await checkSeedPanel(panel(page));
    await expect(panel(page).locator('.get-sign')).toBeVisible();
    await screenshot(page, 'page', '03-card-inserted');
  } finally {
    await card.stop();
  }
  await expect(page.locator('#card-list .card-panel')).toBeHidden({ timeout: 15000 });
  await expect(page.locator('#empty-title')).toHaveText('Sätt kortet i kortläsaren');
  assert.deepEqual(br.problems(), []);
  await page.close();
});

test('log in with PIN1, Logga ut: the daemon ends the session and a download asks for PIN1 again', async () => {
  const page = await br.context.newPage();
  br.clearProblems();
  const card = await startCard({ port: pc.ports[0] });
  let cardId;
  try {
    await page.goto(bridge.url('/'));
    const p = panel(page);
    await expect(p).toBeVisible({ timeout: 15000 });
    cardId = await p.getAttribute('data-card-id');
    // The real model has an eids array: one row, the seed's eID.
    assert.equal(await p.locator('.eid-table tbody tr').count(), 1);
    await checkSeedPanel(p);
    await expect(p.locator('.logout-button')).toBeHidden();
    await login(page, p, '123456');
    await expect(p.locator('.logout-button')).toHaveText('Logga ut');
    const from = bridge.output.length;
    await p.locator('.logout-button').click();
    await expect(p.locator('.logout-button')).toBeHidden();
    await expect(p.locator('.login-button')).toBeFocused();
    // The daemon ended that session (its log says so; the token itself is never logged).
    await bridge.waitFor(/login: card \S+: logged out \(session [0-9a-f]{8}\)/, { from });
    await p.locator('.get-sign').click();
    await expect(page.locator('#pin-dialog')).toBeVisible();
    await expect(page.locator('#pin-label')).toHaveText('Ange legitimeringskod (PIN1)');
    await screenshot(page, 'page', '07-logged-out-pin1-again');
    await page.locator('#pin-cancel').click();
    await expect(page.locator('#pin-dialog')).toBeHidden();
    assert.deepEqual(br.problems(), []);
  } finally {
    const from = bridge.output.length;
    await card.stop();
    await page.close();
    // The next test wants the readers empty again.
    if (cardId) await bridge.waitFor(new RegExp(`cards: removed: card ${cardId} `), { from });
  }
});

test('daemon stopped: the page tells how to start it; it recovers when the daemon is back', async () => {
  const page = await br.context.newPage();
  await page.goto(bridge.url('/'));
  await expect(page.locator('#empty-title')).toHaveText('Sätt kortet i kortläsaren');
  const { https, wss } = bridge;
  await bridge.stop();
  await expect(page.locator('#unreachable')).toBeVisible({ timeout: 20000 });
  await expect(page.locator('#unreachable h2')).toHaveText('SITHS-tjänsten svarar inte');
  await expect(page.locator('#unreachable')).toContainText('systemctl --user start siths-bridge-https.socket siths-bridge-wss.socket');
  await expect(page.locator('#unreachable')).toContainText('siths-bridge doctor');
  await screenshot(page, 'page', '04-daemon-down');
  bridge = await startBridge({ pcscd: pc, args: ['--https', `127.0.0.1:${https}`, '--wss', `127.0.0.1:${wss}`] });
  stack.bridge = bridge; // the one stopped and checked after the file
  await expect(page.locator('#unreachable')).toBeHidden({ timeout: 30000 });
  await expect(page.locator('#empty-title')).toHaveText('Sätt kortet i kortläsaren');
  await page.close();
});

test('another portal (--allow-origin) imports siths-bridge.js cross-origin and gets cards and events', async () => {
  const portal = await startPortal();
  const own = await startBridge({ pcscd: pc, args: ['--allow-origin', portal.origin] });
  const page = await br.context.newPage();
  let card;
  try {
    await page.goto(portal.url('/'));
    await page.evaluate(async (base) => {
      const m = await import(`${base}/siths-bridge.js`);
      window.bridge = new m.SithsBridge(base);
      window.log = [];
      window.bridge.on('message', (ev) => window.log.push(ev));
      window.bridge.connect();
    }, own.origin);
    await eventually(async () => assert.equal(await page.evaluate(() => window.bridge.connectionState), 'connected'));
    assert.deepEqual(await page.evaluate(() => window.bridge.cards()), []);
    card = await startCard({ port: pc.ports[1] });
    await eventually(async () => {
      const ins = await page.evaluate(() => window.log.filter((e) => e.type === 'card-inserted'));
      assert.equal(ins.length, 1);
      assert.equal(ins[0].card.hsa_id, 'TSTNMT2321000156-10XK');
    }, { timeout: 15000 });
    const cards = await page.evaluate(() => window.bridge.cards());
    assert.equal(cards[0].card_number, '9752269885715693047');
  } finally {
    if (card) await card.stop();
    await page.close();
    await own.stop();
    await portal.stop();
  }
});

test('no pcscd: the page says no reader and how to restart the smart card service', async () => {
  const alone = await startBridge({ env: { PCSCLITE_CSOCK_NAME: `${pc.dir}/no-such-pcscd.comm` } });
  const page = await br.context.newPage();
  try {
    await page.goto(alone.url('/'));
    await expect(page.locator('#empty-title')).toHaveText('Ingen kortläsare hittades', { timeout: 15000 });
    await expect(page.locator('#pcsc-down')).toContainText('Kortläsartjänsten (pcscd) svarar inte.');
    await screenshot(page, 'page', '05-no-pcscd');
  } finally {
    await page.close();
    const { code } = await alone.stop();
    assert.equal(code, 0);
  }
});

test('two readers: the seed card and a reserve card (trust level 2, å/ä/ö, certificate present) side by side', async () => {
  const file = join(tmp('cardfile-'), 'reserve.json');
  writeFileSync(file, JSON.stringify({ card_type: 'reserve', trust_level: 2, holder: 'Åsa Ödmark', organisation: 'Region Östergötland',
    hsa_id: 'TSTNMT2321000156-20AB', upn: 'asa@test.se', email: 'asa.odmark@test.se', card_number: '9752269885715690001',
    valid_from: '2024-01-01', valid_to: '2029-12-31', with_signature_certificate: true }));
  const page = await br.context.newPage();
  br.clearProblems();
  const seed = await startCard({ port: pc.ports[0] });
  const reserve = await startCard({ port: pc.ports[1], card: file });
  try {
    await page.goto(bridge.url('/'));
    await expect(page.locator('#card-list .card-panel').nth(1)).toBeVisible({ timeout: 15000 });
    const byNumber = (n) => page.locator('#card-list .card-panel').filter({ hasText: n });
    await checkSeedPanel(byNumber(SEED_VIEW.card_number));
    await checkSeedPanel(byNumber('9752269885715690001'), {
      card_type: 'Reservkort', organisation: 'Region Östergötland', valid_to: '2029-12-31', valid_from: '2024-01-01',
      card_number: '9752269885715690001', trust_level: '2', hsa_id: 'TSTNMT2321000156-20AB', upn: 'asa@test.se',
      email: 'asa.odmark@test.se', holder: 'Åsa Ödmark',
    });
    await expect(byNumber('9752269885715690001').locator('.sign-present')).toHaveText('Finns');
    await expect(byNumber(SEED_VIEW.card_number).locator('.get-sign')).toBeVisible();
    await screenshot(page, 'page', '06-two-cards');
    assert.deepEqual(br.problems(), []);
  } finally {
    await reserve.stop();
    await seed.stop();
    await page.close();
  }
});
