// issuer-errors.test.mjs — what the page says when the CA over CMP does not simply issue, in each
// browser against the real stack: private pcscd, the virtual card, the daemon with siths-test-ca
// as its CMP issuer, made to refuse (its status text and failInfo in Swedish), to answer
// "waiting" (the progress says so), or to answer with a protection the daemon cannot check; and a
// CA that wants each request signed by the card, for which the page asks PIN1 after PIN2.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startPcscd, startBridge, startCard, startTestCa, cmpIssuerArgs, testPki } from '../lib/harness.mjs';
import { launchBrowser, localhostCerts, readersEmpty, screenshot } from '../lib/browser.mjs';
import { panel, login, openPin2, submitPin2, waitDownloadDone, expect } from './steps.mjs';

const MAC = 'order-17:page-test-secret';
let pc, br;
const running = [];

before(async () => {
  pc = await startPcscd();
  br = await launchBrowser({ ca: localhostCerts().ca });
});
after(async () => {
  if (br) await br.close();
  if (pc) await pc.stop();
});
// Each test's card, daemon and CA stop; the daemon's exit must be clean.
afterEach(async () => {
  const [card, bridge, ca] = running.splice(0);
  if (card) await card.stop();
  if (bridge) {
    await readersEmpty(bridge);
    const { code } = await bridge.stop();
    assert.equal(code, 0, bridge.output.slice(-3000));
  }
  if (ca) await ca.stop();
});

// The test CA with caArgs, the daemon with bridgeArgs(ca), the card; the page at the PIN2 dialog,
// PIN2 submitted. Returns {page, ca, bridge}.
async function startDownload(caArgs, bridgeArgs) {
  const ca = await startTestCa({ args: caArgs });
  const bridge = await startBridge({ pcscd: pc, args: bridgeArgs(ca) });
  const card = await startCard({ port: pc.ports[0] });
  running.push(card, bridge, ca);
  const page = await br.context.newPage();
  await page.goto(bridge.url('/'));
  const p = panel(page);
  await expect(p).toBeVisible({ timeout: 20000 });
  await login(page, p, '123456');
  await openPin2(page, p);
  await submitPin2(page, '654321');
  return { page, ca, bridge };
}

// The same with a MAC-protecting test CA, the daemon holding the MAC order `mac`.
const downloadWith = (caArgs, mac = MAC) => startDownload(['--mac', MAC, ...caArgs], (ca) => cmpIssuerArgs(ca, mac));

async function failedWith(page, text) {
  await expect(page.locator('#job-result')).toHaveAttribute('data-result', 'failed', { timeout: 30000 });
  await expect(page.locator('#job-result-title')).toHaveText('Hämtningen misslyckades');
  await expect(page.locator('#job-result-text')).toHaveText(text);
}

test('the CA refuses: its reason (failInfo) in Swedish and its own words quoted', async () => {
  const { page } = await downloadWith(['--reject', 'Beställningen är återkallad av RA']);
  await failedWith(page, 'Certifikatutfärdaren avslog begäran: begäran uppfyllde inte utfärdarens krav. '
    + 'Ingenting har sparats på kortet. Kontakta din SITHS-administratör. '
    + 'Utfärdarens svar: ”Beställningen är återkallad av RA”.');
  await screenshot(page, 'issuer-errors', '01-refused');
  await page.close();
});

test('the CA answers "waiting": the progress says the page waits for the issuer, then Finns', async () => {
  const { page, ca } = await downloadWith(['--delay-polls', '2', '--check-after', '1']);
  await expect(page.locator('#job-stage')).toHaveText('Väntar på att certifikatutfärdaren ska utfärda certifikatet', { timeout: 30000 });
  await screenshot(page, 'issuer-errors', '02-waiting');
  await waitDownloadDone(page);
  await ca.waitFor(/pollReq 2: answering the request[^]*confirmed/);
  await page.close();
});

test('an answer the daemon cannot verify (another MAC secret): issuer_failed in Swedish', async () => {
  const { page, bridge } = await downloadWith([], 'order-17:not-the-secret');
  await failedWith(page, 'Det gick inte att hämta certifikatet från certifikatutfärdaren: den svarade inte, eller '
    + 'svaret kunde inte kontrolleras. Ingenting har sparats på kortet. Försök igen om en stund. '
    + 'Kontakta IT-supporten om felet kvarstår.');
  assert.match(bridge.output, /error validating protection/);
  await screenshot(page, 'issuer-errors', '03-failed');
  await page.close();
});

// The CA wants requests signed with the card's authentication key (no MAC at all): the page asks
// PIN1 after PIN2, with its own text; a wrong PIN1 fails the job and the PIN1 question comes
// back with the tries left; the right one → Finns.
test('signature protection: PIN2, then PIN1 for the card\'s signature; a wrong PIN1 asked again → Finns', async () => {
  const root = join(testPki(), 'root-ca.pem');
  const { page, ca } = await startDownload([], (c) => ['--issuer-cmp', c.url, '--issuer-cmp-ca', root,
    '--issuer-cmp-protection', 'signature', '--issuer-cmp-trusted', root]);
  const askedPin1 = async () => {
    await expect(page.locator('#pin-label')).toHaveText('Ange legitimeringskod (PIN1)');
    await expect(page.locator('#pin-desc')).toHaveText('Certifikatsbegäran skickas till certifikatutfärdaren underskriven med ditt legitimeringscertifikat. Vänligen ange legitimeringskoden (PIN1)');
    await expect(page.locator('#pin-input')).toBeFocused();
  };
  await askedPin1();
  await screenshot(page, 'issuer-errors', '04-pin1-for-signature');
  await submitPin2(page, '975318');
  // The job failed on PIN1: PIN2 is asked again, then PIN1 with the error and its tries.
  await expect(page.locator('#pin-label')).toHaveText('Ange underskriftskod (PIN2)', { timeout: 30000 });
  await expect(page.locator('#pin-error')).toHaveText('');
  await submitPin2(page, '654321');
  await askedPin1();
  await expect(page.locator('#pin-error')).toHaveText('Fel kod. Du har 2 försök kvar. Kontrollera koden och försök igen.');
  await submitPin2(page, '123456');
  await waitDownloadDone(page);
  await ca.waitFor(/certificate serial \S+ confirmed/);
  await page.close();
});
