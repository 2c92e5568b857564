// page-fake.test.mjs — the page against the documented API contract, served by the fake bridge
// (tests/browser/fake-bridge.mjs) in real chromium or firefox-esr over trusted TLS. It checks the
// page's own behaviour (every seed step, errors, language, keyboard) independently of the daemon;
// the same steps against the real daemon are in seed-flow.test.mjs.
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeBridge, SEED_CARD } from './fake-bridge.mjs';
import { launchBrowser, screenshot, recordProgress, focused, localhostCerts, assertTlsVerified, UNTRUSTED_CERT_ERROR } from '../lib/browser.mjs';
import { panel, checkSeedPanel, login, openPin2, submitPin2, waitDownloadDone, shownTries, expect, eventually } from './steps.mjs';

let fb, br, page;
const certs = localhostCerts();

before(async () => { br = await launchBrowser({ ca: certs.ca }); });
after(async () => { await br.close(); });
beforeEach(async () => {
  fb = await startFakeBridge({ cert: certs.cert, key: certs.key, stepMs: 120 });
  page = await br.context.newPage();
  br.clearProblems();
});
afterEach(async () => { await page.close(); await fb.stop(); });

const noProblems = () => assert.deepEqual(br.problems(), []);

test('page loads over trusted TLS, Swedish by default, live insert/remove, English switch', async () => {
  const resp = await page.goto(fb.url('/'));
  assert.equal(resp.status(), 200);
  assert.equal(new URL(page.url()).protocol, 'https:');
  assertTlsVerified(br, await resp.securityDetails());
  assert.equal(await page.getAttribute('html', 'lang'), 'sv');
  await expect(page.locator('h1')).toHaveText('Hämta underskriftscertifikat');
  await expect(page.locator('#empty-title')).toHaveText('Sätt kortet i kortläsaren');
  await expect(page.locator('#test-marker')).toBeVisible();
  await screenshot(page, 'page-fake', '01-no-card');

  fb.insert();
  await expect(panel(page)).toBeVisible();
  await checkSeedPanel(panel(page));
  await expect(page.locator('#empty')).toBeHidden();
  await screenshot(page, 'page-fake', '02-card-inserted');

  await page.locator('#lang-switch').click();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await expect(page.locator('h1')).toHaveText('Download signature certificate');
  await expect(panel(page).locator('.eid-table th').last()).toHaveText('Signature certificate');
  await expect(page.locator('#lang-switch')).toHaveText('Svenska');
  await screenshot(page, 'page-fake', '03-english');
  await page.locator('#lang-switch').click();
  await expect(page.locator('h1')).toHaveText('Hämta underskriftscertifikat');

  fb.remove(SEED_CARD.id);
  await expect(page.locator('#card-list .card-panel')).toBeHidden();
  await expect(page.locator('#empty-title')).toHaveText('Sätt kortet i kortläsaren');
  noProblems();
});

test('a browser that does not trust the local CA refuses the page (trust comes from the NSS db)', async () => {
  const untrusting = await launchBrowser({ ca: null });
  try {
    await assert.rejects(untrusting.page.goto(fb.url('/')), UNTRUSTED_CERT_ERROR);
  } finally {
    await untrusting.close();
  }
});

test('seed flow: login, PIN2 dialog, progress, Finns', async () => {
  fb.insert();
  await page.goto(fb.url('/'));
  const p = panel(page);
  await checkSeedPanel(p);
  await screenshot(page, 'page-fake', '10-step4-card');
  await login(page, p, '123456');
  await screenshot(page, 'page-fake', '11-step3-logged-in');
  await openPin2(page, p);
  assert.equal(await shownTries(page), 3);
  await screenshot(page, 'page-fake', '12-step6-pin2');
  fb.jobHold = new Promise((r) => { fb.release = r; });
  const seen = await recordProgress(page);
  await submitPin2(page, '654321');
  await expect(page.locator('#job-dialog')).toBeVisible();
  await eventually(async () => assert.ok((await seen()).some((v) => v > 0)));
  await screenshot(page, 'page-fake', '13-step7-download');
  fb.jobHold = null; fb.release();
  await waitDownloadDone(page);
  const values = [...new Set((await seen()).filter((v) => v > 0 && v < 100))];
  assert.ok(values.length >= 3, `progress took ${values} before 100`);
  await screenshot(page, 'page-fake', '14-step8-result');
  await page.locator('#job-close').click();
  await expect(p.locator('.sign-present')).toBeVisible();
  await expect(p.locator('.sign-present')).toHaveText('Finns');
  await expect(p.locator('.get-sign')).toBeHidden();
  await screenshot(page, 'page-fake', '15-step8-finns');
  noProblems();
});

test('wrong PIN2 twice: tries left shown and decreasing, then right', async () => {
  fb.insert();
  await page.goto(fb.url('/'));
  const p = panel(page);
  await login(page, p, '123456');
  await openPin2(page, p);
  assert.equal(await shownTries(page), 3);
  await submitPin2(page, '111111');
  await expect(page.locator('#pin-error')).toHaveText('Fel kod. Du har 2 försök kvar. Kontrollera koden och försök igen.');
  assert.equal(await shownTries(page), 2);
  await screenshot(page, 'page-fake', '20-wrong-pin2-once');
  await submitPin2(page, '222222');
  await expect(page.locator('#pin-error')).toContainText('Du har 1 försök kvar');
  assert.equal(await shownTries(page), 1);
  await screenshot(page, 'page-fake', '21-wrong-pin2-twice');
  await submitPin2(page, '654321');
  await waitDownloadDone(page);
  noProblems();
});

test('a PIN of the wrong length is refused in the page and costs no try', async () => {
  fb.insert();
  await page.goto(fb.url('/'));
  const p = panel(page);
  await login(page, p, '123456');
  await openPin2(page, p);
  const before = fb.requests.length;
  await submitPin2(page, '12');
  await expect(page.locator('#pin-error')).toHaveText('Koden ska vara 6–8 siffror (bara siffror).');
  assert.equal(fb.requests.length, before, 'nothing sent to the daemon');
  assert.equal(fb.cards.get(SEED_CARD.id).pins.pin2.tries_left, 3);
});

test('card pulled during the download: Swedish error, reinsert, retry, success', async () => {
  fb.insert();
  await page.goto(fb.url('/'));
  const p = panel(page);
  await login(page, p, '123456');
  await openPin2(page, p);
  fb.jobHold = new Promise((r) => { fb.release = r; });
  await submitPin2(page, '654321');
  await expect(page.locator('#job-dialog')).toBeVisible();
  await eventually(async () => assert.ok(Number(await page.locator('#job-progress').getAttribute('value')) > 0));
  fb.remove(SEED_CARD.id);
  fb.jobHold = null; fb.release();
  await expect(page.locator('#job-result')).toHaveAttribute('data-result', 'failed');
  await expect(page.locator('#job-result-text')).toContainText('Kortet togs ut ur läsaren innan hämtningen var klar. Sätt tillbaka kortet i kortläsaren');
  assert.ok(await page.locator('#job-retry').isDisabled(), 'retry waits for the card');
  await screenshot(page, 'page-fake', '30-card-pulled');
  fb.insert();
  await eventually(async () => assert.ok(await page.locator('#job-retry').isEnabled()));
  await page.locator('#job-retry').click();
  // The session went with the card: log in again, then PIN2.
  await expect(page.locator('#pin-label')).toHaveText('Ange legitimeringskod (PIN1)');
  await page.locator('#pin-input').fill('123456');
  await page.locator('#pin-ok').click();
  await expect(page.locator('#pin-label')).toHaveText('Ange underskriftskod (PIN2)');
  await submitPin2(page, '654321');
  await waitDownloadDone(page);
  await page.locator('#job-close').click();
  await expect(panel(page).locator('.sign-present')).toBeVisible();
  noProblems();
});

test('a card error and then the card gone reads as a pulled card; other card errors do not', async () => {
  fb.insert();
  await page.goto(fb.url('/'));
  const p = panel(page);
  await login(page, p, '123456');
  await openPin2(page, p);
  fb.failNextJobAt = 'write';
  fb.failCode = 'card_error';
  await submitPin2(page, '654321');
  await expect(page.locator('#job-result')).toHaveAttribute('data-result', 'failed');
  await expect(page.locator('#job-result-text')).toHaveText('Kortet svarade inte som väntat. Ta ut kortet, sätt i det igen och försök igen.');
  fb.remove(SEED_CARD.id);
  await expect(page.locator('#job-result-text')).toContainText('Kortet togs ut ur läsaren innan hämtningen var klar.');
  assert.ok(await page.locator('#job-retry').isDisabled());
});

test('keyboard only: login and PIN2 dialog; Escape cancels without using a try', async () => {
  fb.insert();
  await page.goto(fb.url('/'));
  await expect(panel(page)).toBeVisible();
  // Tab from the top of the page to the login button.
  let hops = 0;
  while (!(await focused(page)).includes('login-button')) {
    await page.keyboard.press('Tab');
    assert.ok(++hops < 20, 'login button reachable by Tab');
  }
  await page.keyboard.press('Enter');
  await expect(page.locator('#pin-input')).toBeFocused();
  await page.keyboard.type('123456');
  await page.keyboard.press('Enter');
  await expect(panel(page).locator('.login-state')).toContainText('Inloggad som');
  hops = 0;
  while (!(await focused(page)).includes('get-sign')) {
    await page.keyboard.press('Tab');
    assert.ok(++hops < 20, 'action reachable by Tab');
  }
  await page.keyboard.press('Enter');
  await expect(page.locator('#pin-input')).toBeFocused();
  await page.keyboard.type('65');
  const before = fb.requests.filter((r) => r.method === 'POST').length;
  await page.keyboard.press('Escape');
  await expect(page.locator('#pin-dialog')).toBeHidden();
  await expect(panel(page).locator('.get-sign')).toBeFocused();
  assert.equal(fb.requests.filter((r) => r.method === 'POST').length, before, 'Escape sent nothing');
  assert.equal(fb.cards.get(SEED_CARD.id).pins.pin2.tries_left, 3);
  // Again, this time through to the end with the keyboard.
  await page.keyboard.press('Enter');
  await expect(page.locator('#pin-input')).toBeFocused();
  assert.equal(await page.locator('#pin-input').inputValue(), '', 'the field was cleared');
  await page.keyboard.type('654321');
  await page.keyboard.press('Enter');
  await waitDownloadDone(page);
  await expect(page.locator('#job-close')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(panel(page).locator('.sign-present')).toBeVisible();
  noProblems();
});

test('daemon stopped: the page says how to start it', async () => {
  fb.insert();
  await page.goto(fb.url('/'));
  await expect(panel(page)).toBeVisible();
  await fb.stop();
  await expect(page.locator('#unreachable')).toBeVisible({ timeout: 20000 });
  await expect(page.locator('#unreachable h2')).toHaveText('SITHS-tjänsten svarar inte');
  await expect(page.locator('#unreachable')).toContainText('systemctl --user start siths-bridge-https.socket siths-bridge-wss.socket');
  await expect(page.locator('#card-list .card-panel')).toBeHidden();
  await screenshot(page, 'page-fake', '40-daemon-down');
  // Restart on the same ports: the page recovers by itself.
  const { https, wss } = fb;
  fb = await startFakeBridge({ cert: certs.cert, key: certs.key, port: https, wssPort: wss, stepMs: 120 });
  fb.insert();
  await expect(panel(page)).toBeVisible({ timeout: 30000 });
  await expect(page.locator('#unreachable')).toBeHidden();
});

test('the daemon refusing the page: a plain error with the code, not "no reader"', async () => {
  fb.refuseApi = 'origin_required';
  await page.goto(fb.url('/'));
  await expect(page.locator('#api-error')).toBeVisible();
  await expect(page.locator('#api-error')).toContainText('SITHS-tjänsten på din dator svarade med ett fel (origin_required)');
  await expect(page.locator('#empty')).toBeHidden();
  await expect(page.locator('#loading')).toBeHidden();
  fb.refuseApi = null;
  fb.insert();
  await page.reload();
  await expect(panel(page)).toBeVisible();
  await expect(page.locator('#api-error')).toBeHidden();
});

test('no reader, pcscd down, a blocked signature code: each says what to do', async () => {
  fb.readers.clear();
  fb.pcscReachable = false;
  await page.goto(fb.url('/'));
  await expect(page.locator('#empty-title')).toHaveText('Ingen kortläsare hittades');
  await expect(page.locator('#empty-text')).toContainText('Anslut en kortläsare till datorn.');
  await expect(page.locator('#pcsc-down')).toContainText('Kortläsartjänsten (pcscd) svarar inte. Starta om den med systemctl restart pcscd');
  await screenshot(page, 'page-fake', '60-no-reader');
  await stopAndRestart();
  const blocked = structuredClone(SEED_CARD);
  blocked.pins.pin2 = { tries_left: 0, blocked: true, min_length: 6, max_length: 8 };
  fb.insert(blocked);
  await page.goto(fb.url('/'));
  await expect(panel(page).locator('.sign-blocked')).toContainText('Underskriftskoden är spärrad. Lås upp den med PUK-koden');
  await expect(panel(page).locator('.get-sign')).toBeHidden();
  await expect(panel(page).locator('.sign-present')).toBeHidden();
});

async function stopAndRestart() {
  await fb.stop();
  fb = await startFakeBridge({ cert: certs.cert, key: certs.key, stepMs: 120 });
}

test('narrow screen (phone)', async () => {
  fb.insert();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(fb.url('/'));
  await expect(panel(page)).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling (${overflow}px)`);
  await screenshot(page, 'page-fake', '50-phone');
  await login(page, panel(page), '123456');
  await openPin2(page, panel(page));
  await screenshot(page, 'page-fake', '51-phone-pin2');
});

test('a card with two eIDs: one row each (Tjänste-id, UPN, Email, Underskriftscertifikat), live updates', async () => {
  const two = structuredClone(SEED_CARD);
  two.eids = [
    { hsa_id: 'TSTNMT2321000156-10XK', upn: 'osa@test.se', email: 'cathrine.andersson@inera.se',
      signature_certificate: { present: true } },
    { hsa_id: 'TSTNMT2321000156-77QQ', upn: 'osa2@test.se', email: 'olof.andersson@test.se' },
  ];
  // The top-level fields are the first eID's; the card has no signature certificate of its own.
  fb.insert(two);
  await page.goto(fb.url('/'));
  const p = panel(page);
  const rows = p.locator('.eid-table tbody tr');
  await expect(rows.nth(1)).toBeVisible();
  assert.equal(await rows.count(), 2);
  const heads = (await p.locator('.eid-table th').allInnerTexts()).map((s) => s.trim());
  assert.deepEqual(heads, ['Tjänste-id', 'UPN', 'Email', 'Underskriftscertifikat']);
  const cells = async (n) => (await rows.nth(n).locator('td').allInnerTexts()).map((s) => s.replace(/\s+/g, ' ').trim());
  assert.deepEqual(await cells(0), ['HSA-id: TSTNMT2321000156-10XK', 'osa@test.se', 'cathrine.andersson@inera.se', 'Finns']);
  assert.deepEqual(await cells(1), ['HSA-id: TSTNMT2321000156-77QQ', 'osa2@test.se', 'olof.andersson@test.se', '→ Hämta underskriftscertifikat']);
  await expect(rows.nth(0).locator('.get-sign')).toBeHidden();
  await screenshot(page, 'page-fake', '70-two-eids');

  // The second row's action starts the card's flow: log in with PIN1 first.
  await rows.nth(1).locator('.get-sign').click();
  await expect(page.locator('#pin-label')).toHaveText('Ange legitimeringskod (PIN1)');
  await page.locator('#pin-cancel').click();
  await expect(rows.nth(1).locator('.get-sign')).toBeFocused();

  // English labels the rows too.
  await page.locator('#lang-switch').click();
  assert.deepEqual(await cells(1), ['HSA-id: TSTNMT2321000156-77QQ', 'osa2@test.se', 'olof.andersson@test.se', '→ Download signature certificate']);
  await page.locator('#lang-switch').click();

  // card-updated with one eID left: one row; without eids: the top-level fields, one row.
  fb.update(two.id, { eids: [two.eids[1]] });
  await eventually(async () => assert.equal(await rows.count(), 1));
  assert.deepEqual(await cells(0), ['HSA-id: TSTNMT2321000156-77QQ', 'osa2@test.se', 'olof.andersson@test.se', '→ Hämta underskriftscertifikat']);
  fb.update(two.id, { eids: undefined, signature_certificate: { present: true } });
  await eventually(async () => assert.deepEqual(await cells(0), ['HSA-id: TSTNMT2321000156-10XK', 'osa@test.se', 'cathrine.andersson@inera.se', 'Finns']));
  assert.equal(await rows.count(), 1);
  noProblems();
});

test('Logga ut: the daemon ends the session, the panel asks for PIN1 again; a pulled card logs out too', async () => {
  fb.insert();
  await page.goto(fb.url('/'));
  const p = panel(page);
  await expect(p.locator('.logout-button')).toBeHidden();
  await login(page, p, '123456');
  assert.equal(fb.sessions.size, 1);
  await expect(p.locator('.logout-button')).toBeVisible();
  await expect(p.locator('.logout-button')).toHaveText('Logga ut');
  await expect(p.locator('.login-button')).toBeHidden();
  await screenshot(page, 'page-fake', '80-logged-in');
  await p.locator('.logout-button').click();
  await expect(p.locator('.logout-button')).toBeHidden();
  await expect(p.locator('.login-button')).toBeFocused();
  await expect(p.locator('.login-state')).toHaveText('Logga in med din legitimeringskod (PIN1) för att hämta underskriftscertifikat.');
  await eventually(async () => assert.equal(fb.sessions.size, 0, 'the session ended in the daemon'));
  const out = fb.requests.filter((r) => r.method === 'POST' && /\/logout$/.test(r.path));
  assert.equal(out.length, 1);
  assert.ok(out[0].auth, 'sent with the session');
  assert.equal(out[0].origin, fb.origin);
  // A download now starts with the login prompt.
  await p.locator('.get-sign').click();
  await expect(page.locator('#pin-dialog')).toBeVisible();
  await expect(page.locator('#pin-label')).toHaveText('Ange legitimeringskod (PIN1)');
  await page.locator('#pin-input').fill('123456');
  await page.locator('#pin-ok').click();
  await expect(page.locator('#pin-label')).toHaveText('Ange underskriftskod (PIN2)');
  await page.locator('#pin-cancel').click();
  await expect(p.locator('.logout-button')).toBeVisible();

  // Pulled while logged in: back in, the page asks for PIN1 again (nothing sent for it).
  const before = fb.requests.length;
  fb.remove(SEED_CARD.id);
  await expect(page.locator('#card-list .card-panel')).toBeHidden();
  fb.insert();
  await expect(panel(page).locator('.login-button')).toBeVisible();
  await expect(panel(page).locator('.logout-button')).toBeHidden();
  assert.equal(fb.requests.slice(before).filter((r) => /\/logout$/.test(r.path)).length, 0);
  noProblems();
});
