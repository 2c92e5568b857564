// issuer-errors.test.mjs — what the page says when the CA over CMP does not simply issue, in each
// browser against the real stack: private pcscd, the virtual card, the daemon with siths-test-ca
// as its CMP issuer, made to refuse (its status text and failInfo in Swedish), to answer
// "waiting" (the progress says so), or to answer with a protection the daemon cannot check.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startPcscd, startBridge, startCard, startTestCa, cmpIssuerArgs } from '../lib/harness.mjs';
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

// The test CA with caArgs, the daemon with its MAC order `mac`, the card; the page at the PIN2
// dialog, PIN2 submitted. Returns {page, ca, bridge}.
async function downloadWith(caArgs, mac = MAC) {
  const ca = await startTestCa({ args: ['--mac', MAC, ...caArgs] });
  const bridge = await startBridge({ pcscd: pc, args: cmpIssuerArgs(ca, mac) });
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
