// seed-flow.test.mjs — the user guide's eight steps in each browser against the whole real stack:
// private pcscd, the virtual card (realistic timings, so the progress bar can be watched), the
// daemon with siths-test-ca over CMP as its issuer (as in the demo). Then the failures a person
// meets: wrong PIN2, the card pulled in the middle of the download or right after the certificate
// was committed, keyboard only with Escape. Screenshots of every step are saved under $SITHS_BUILD_DIR/screenshots/<browser>/seed-flow/.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startCard, testPki, curl, exportCerts, pulledOut } from '../lib/harness.mjs';
import { realStack, readersEmpty, screenshot, recordProgress, focused } from '../lib/browser.mjs';
import { panel, checkSeedPanel, login, openPin2, submitPin2, waitDownloadDone, shownTries, expect, eventually } from './steps.mjs';

const PIN1 = '123456';
const PIN2 = '654321';
let pc, bridge, br, ca;

// The real stack: pcscd, the daemon, the browser; the daemon's clean exit is checked after the file.
realStack({ cmp: true }, (s) => { ({ pc, bridge, br, ca } = s); });
// Every test stops its cards; the next starts on an empty reader as the daemon sees it.
afterEach(() => readersEmpty(bridge));

// The card as the daemon reports it (REST, with our own Origin).
async function apiCard() {
  const r = await curl(bridge.url('/v1/cards'), { headers: { Origin: bridge.origin } });
  assert.equal(r.status, 200, r.body);
  return r.json.cards[0];
}


// Steps 3–6 on the card shown: logged in with PIN1, the PIN2 dialog open. Returns the panel.
async function toPin2(page) {
  const p = panel(page);
  await expect(p).toBeVisible({ timeout: 20000 });
  await login(page, p, PIN1);
  await openPin2(page, p);
  return p;
}

async function freshPage() {
  const page = await br.context.newPage();
  br.clearProblems();
  await page.goto(bridge.url('/'));
  return page;
}

test('the whole seed flow: card, login, PIN2, progress, Finns — and the card holds the certificate', async () => {
  const card = await startCard({ port: pc.ports[0], args: ['--delay', 'realistic'] });
  const page = await freshPage();
  const shot = (s) => screenshot(page, 'seed-flow', s);
  try {
    await shot('step1-page');
    const p = panel(page);
    await expect(p).toBeVisible({ timeout: 20000 });
    await checkSeedPanel(p);                                     // step 4
    await expect(p.locator('.get-sign')).toBeVisible();          // step 5: no signature certificate yet
    await shot('step4-card-panel');
    await login(page, p, PIN1);                                  // step 3
    await shot('step3-logged-in');
    await openPin2(page, p);                                     // step 6
    assert.equal(await shownTries(page), 3, 'tries left shown before entry');
    await expect(page.locator('#pin-test')).toBeVisible();
    await page.locator('#pin-input').fill(PIN2);
    await shot('step6-pin2-dialog');
    const seen = await recordProgress(page);
    await page.locator('#pin-ok').click();
    await expect(page.locator('#job-dialog')).toBeVisible();     // step 7
    // Key generation takes seconds on a (realistic) card: a calm moment for the step-7 picture.
    await expect(page.locator('#job-stage')).toHaveText('Skapar en ny nyckel på kortet', { timeout: 30000 });
    await shot('step7-download');
    await waitDownloadDone(page, { timeout: 120000 });           // step 8
    const values = [...new Set((await seen()).filter((v) => v > 0 && v < 100))];
    assert.ok(values.length >= 3, `the bar moved through at least three values before 100: ${values}`);
    await shot('step8-result');
    await page.locator('#job-close').click();
    await expect(p.locator('.sign-present')).toHaveText('Finns');
    await expect(p.locator('.get-sign')).toBeHidden();
    await shot('step8-finns');
    assert.equal((await apiCard()).signature_certificate.present, true);
    assert.deepEqual(br.problems(), []);
  } finally {
    await card.stop();
    await page.close();
  }
  // The card really holds it: a certificate for its signing key that chains to the test hierarchy.
  const dir = exportCerts(card.state);
  assert.ok(existsSync(join(dir, 'sign-cert.pem')), 'the CDF lists a signature certificate');
  const pki = testPki();
  execFileSync('openssl', ['verify', '-CAfile', join(pki, 'root-ca.pem'), '-untrusted', join(pki, 'person-3-ca.pem'), join(dir, 'sign-cert.pem')]);
  const certKey = execFileSync('openssl', ['x509', '-in', join(dir, 'sign-cert.pem'), '-noout', '-pubkey']).toString();
  const cardKey = execFileSync('openssl', ['pkey', '-pubin', '-in', join(dir, 'sign-pub.pem')]).toString();
  assert.equal(certKey.trim(), cardKey.trim(), "the certificate is for the card's signing key");
  const text = execFileSync('openssl', ['x509', '-in', join(dir, 'sign-cert.pem'), '-noout', '-text']).toString();
  assert.match(text, /Non Repudiation/);
  // Issued over CMP and confirmed (certConf) after it was on the card.
  const serial = execFileSync('openssl', ['x509', '-in', join(dir, 'sign-cert.pem'), '-noout', '-serial']).toString().trim().replace('serial=', '');
  await ca.waitFor(new RegExp(`certificate serial ${serial} confirmed`));
});

test('wrong PIN2 twice: tries left shown and decreasing, then the right code works', async () => {
  const card = await startCard({ port: pc.ports[0] });
  const page = await freshPage();
  try {
    const p = await toPin2(page);
    assert.equal(await shownTries(page), 3);
    await submitPin2(page, '111111');
    await expect(page.locator('#pin-error')).toHaveText('Fel kod. Du har 2 försök kvar. Kontrollera koden och försök igen.', { timeout: 30000 });
    assert.equal(await shownTries(page), 2);
    await screenshot(page, 'seed-flow', 'wrong-pin2-once');
    await submitPin2(page, '222222');
    await expect(page.locator('#pin-error')).toContainText('Du har 1 försök kvar', { timeout: 30000 });
    assert.equal(await shownTries(page), 1);
    await screenshot(page, 'seed-flow', 'wrong-pin2-twice');
    await submitPin2(page, PIN2);
    await waitDownloadDone(page, { timeout: 120000 });
    await page.locator('#job-close').click();
    await expect(p.locator('.sign-present')).toHaveText('Finns');
    assert.equal((await apiCard()).pins.pin2.tries_left, 3, 'the right code resets the counter');
  } finally {
    await card.stop();
    await page.close();
  }
});

test('card pulled in the middle of the download: Swedish error; reinsert, retry, success', async () => {
  // The card pulls itself at its second UPDATE BINARY: in the middle of writing the certificate.
  const card = await startCard({ port: pc.ports[0], args: ['--drop-at', 'update-binary:2'] });
  const page = await freshPage();
  let again;
  try {
    const p = await toPin2(page);
    await submitPin2(page, PIN2);
    await expect(page.locator('#job-result')).toHaveAttribute('data-result', 'failed', { timeout: 120000 });
    await expect(page.locator('#job-result-text')).toContainText('Kortet togs ut ur läsaren innan hämtningen var klar. Sätt tillbaka kortet i kortläsaren');
    await expect(page.locator('#card-list .card-panel')).toBeHidden({ timeout: 15000 });
    assert.ok(await page.locator('#job-retry').isDisabled(), 'retry waits for the card');
    await screenshot(page, 'seed-flow', 'card-pulled');
    await card.exited;
    await pulledOut(pc);
    again = await startCard({ port: pc.ports[0], state: card.state });
    await eventually(async () => assert.ok(await page.locator('#job-retry').isEnabled()), { timeout: 20000 });
    // Never shown as present after a half-written certificate.
    await expect(panel(page).locator('.get-sign')).toBeVisible();
    await page.locator('#job-retry').click();
    await expect(page.locator('#pin-label')).toHaveText('Ange legitimeringskod (PIN1)');
    await page.locator('#pin-input').fill(PIN1);
    await page.locator('#pin-ok').click();
    await expect(page.locator('#pin-label')).toHaveText('Ange underskriftskod (PIN2)');
    await submitPin2(page, PIN2);
    await waitDownloadDone(page, { timeout: 120000 });
    await page.locator('#job-close').click();
    await expect(panel(page).locator('.sign-present')).toHaveText('Finns');
  } finally {
    if (again) await again.stop();
    await card.stop();
    await page.close();
  }
});

test('card pulled right after the certificate was committed: "put the card back", never a new download; reinsert: success, Finns', async () => {
  // A fresh card's download writes the certificate in 5 UPDATE BINARYs (about 1,080 bytes, 255
  // per APDU), then the CDF entry: the 6th is the commit. The card carries it out, then pulls
  // itself before answering (the daemon cannot know whether it took it). Checked below on the
  // card's own memory: had the count been wrong, the card would list no certificate.
  const card = await startCard({ port: pc.ports[0], args: ['--drop-after-commit', 'update-binary:6'] });
  const page = await freshPage();
  let again;
  try {
    const p = await toPin2(page);
    await submitPin2(page, PIN2);
    await expect(page.locator('#job-result')).toHaveAttribute('data-result', 'interrupted', { timeout: 120000 });
    await expect(page.locator('#job-result-title')).toHaveText('Sätt tillbaka kortet');
    await expect(page.locator('#job-result-text')).toContainText('Sätt tillbaka kortet i kortläsaren');
    await expect(page.locator('#job-result-text')).toContainText('Du behöver inte hämta det igen');
    assert.doesNotMatch(await page.locator('#job-result-text').textContent(), /Försök igen|logga in igen/);
    await expect(page.locator('#job-retry')).toBeHidden();
    await expect(page.locator('#card-list .card-panel')).toBeHidden({ timeout: 15000 });
    await screenshot(page, 'seed-flow', 'card-pulled-after-commit');
    await card.exited;
    assert.ok(existsSync(join(exportCerts(card.state), 'sign-cert.der')), 'pulled after the commit: the card lists the certificate');
    // The same card back: the daemon checks it and ends the job; the page shows the success.
    await pulledOut(pc);
    again = await startCard({ port: pc.ports[0], state: card.state });
    await expect(page.locator('#job-result')).toHaveAttribute('data-result', 'done', { timeout: 20000 });
    await expect(page.locator('#job-result-title')).toHaveText('Underskriftscertifikatet finns nu på kortet');
    await expect(page.locator('#job-retry')).toBeHidden();
    await expect(page.locator('#pin-dialog')).toBeHidden();
    await screenshot(page, 'seed-flow', 'card-back-after-commit');
    await page.locator('#job-close').click();
    await expect(panel(page).locator('.sign-present')).toHaveText('Finns');
    await expect(panel(page).locator('.get-sign')).toBeHidden();
    assert.equal((await apiCard()).signature_certificate.present, true);
  } finally {
    if (again) await again.stop();
    await card.stop();
    await page.close();
  }
});

test('keyboard only: login, PIN2 dialog, Escape cancels and uses no try, then done', async () => {
  const card = await startCard({ port: pc.ports[0] });
  const page = await freshPage();
  try {
    await expect(panel(page)).toBeVisible({ timeout: 20000 });
    const tab = async (what) => {
      for (let i = 0; !(await focused(page)).includes(what); i++) {
        assert.ok(i < 25, `${what} reachable with Tab`);
        await page.keyboard.press('Tab');
      }
    };
    await tab('login-button');
    await screenshot(page, 'seed-flow', 'keyboard-login-focused');
    await page.keyboard.press('Enter');
    await expect(page.locator('#pin-input')).toBeFocused();
    await page.keyboard.type(PIN1);
    await page.keyboard.press('Enter');
    await expect(panel(page).locator('.login-state')).toContainText('Inloggad som');
    await tab('get-sign');
    await page.keyboard.press('Enter');
    await expect(page.locator('#pin-input')).toBeFocused();
    await page.keyboard.type('6543');
    await page.keyboard.press('Escape');
    await expect(page.locator('#pin-dialog')).toBeHidden();
    await expect(panel(page).locator('.get-sign')).toBeFocused();
    await screenshot(page, 'seed-flow', 'keyboard-escape-back-on-action');
    assert.equal((await apiCard()).pins.pin2.tries_left, 3, 'Escape used no try');
    await page.keyboard.press('Enter');
    await expect(page.locator('#pin-input')).toBeFocused();
    assert.equal(await page.locator('#pin-input').inputValue(), '');
    await page.keyboard.type(PIN2);
    await page.keyboard.press('Enter');
    await waitDownloadDone(page, { timeout: 120000 });
    await expect(page.locator('#job-close')).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(panel(page).locator('.sign-present')).toHaveText('Finns');
  } finally {
    await card.stop();
    await page.close();
  }
});
