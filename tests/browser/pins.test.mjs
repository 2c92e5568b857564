// pins.test.mjs — changing and unblocking codes through the page against the whole real stack:
// private pcscd, the virtual card (its state file holds the codes and counters), the daemon with
// its test issuer, the browser. Change PIN1 then log in with it; a wrong old code with its tries
// left; blocked, then unblocked with the PUK; the card pulled during the change (before and
// after the card carried it out); a two-code reserve card's PIN2 activated by the download.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCard, tmp, curl, exportCerts, openscConf } from '../lib/harness.mjs';
import { signs } from '../lib/opensc-checks.mjs';
import { realStack, screenshot } from '../lib/browser.mjs';
import { panel, login, openPin2, submitPin2, waitDownloadDone, expect, ACTIVATED } from './steps.mjs';
import { codeRow, openCodeDialog, submitCodes, dialogTries, expectOutcome, expectFormError, closeOutcome, consoleLog } from './pin-steps.mjs';

const PIN1 = '123456';
const PUK = '12345678';
const NEW1 = '975310';
const NEW2 = '86420864';
let pc, bridge, br;

realStack({ cmp: true }, (s) => { ({ pc, bridge, br } = s); });

// The card as the daemon reports it (REST, with our own Origin).
async function apiCard(id) {
  const r = await curl(bridge.url(`/v1/cards/${id}`), { headers: { Origin: bridge.origin } });
  assert.equal(r.status, 200, r.body);
  return r.json;
}

// A page on a fresh virtual card in reader 0; run(page, p, card, id) then the card is pulled and
// the page checked for problems (the daemon's expected refusals are failed loads to chromium; Firefox logs none).
async function onCard(name, run, { card: profile, args = [] } = {}) {
  let file;
  if (profile) { file = join(tmp('cardfile-'), 'card.json'); writeFileSync(file, JSON.stringify(profile)); }
  const card = await startCard({ port: pc.ports[0], card: file, args });
  const page = await br.context.newPage();
  const logged = consoleLog(page);
  br.clearProblems();
  const ctx = { card, id: null };
  try {
    await page.goto(bridge.url('/'));
    const p = panel(page);
    await expect(p).toBeVisible({ timeout: 20000 });
    ctx.id = await p.getAttribute('data-card-id');
    await run(page, p, ctx);
    const expected = /^console: Failed to load resource: the server responded with a status of (401|409|423) /;
    assert.deepEqual(br.problems().filter((m) => !expected.test(m)), [], 'no console errors, page errors, CSP violations');
    for (const c of [NEW1, NEW2, PUK]) for (const m of logged) assert.ok(!m.includes(c), 'no code logged to the console');
  } finally {
    const from = bridge.output.length;
    const inserted = ctx.card.exitCode === undefined && !ctx.card.exitSignal;
    await ctx.card.stop();
    await page.close();
    // The next test wants the reader empty again.
    if (ctx.id && inserted) await bridge.waitFor(new RegExp(`cards: removed: card ${ctx.id} `), { from });
  }
  // The daemon never logs a code.
  for (const c of [NEW1, NEW2, PUK]) assert.ok(!bridge.output.includes(c), `${name}: no code in the daemon's log`);
}

test('change PIN1 through the page, then log in with the new code; OpenSC signs with it', async () => {
  await onCard('change', async (page, p, ctx) => {
    const { id } = ctx;
    const before = (await apiCard(id)).pins.pin1;
    await expect(codeRow(p, 'pin1')).toContainText('Legitimeringskod (PIN1) 3 försök kvar');
    await openCodeDialog(page, p, 'pin1');
    await expect(page.locator('#pm-old-rule')).toHaveText('6–8 siffror 3 försök kvar');
    await submitCodes(page, PIN1, NEW1);
    await expectOutcome(page, 'changed', { title: 'Koden är bytt', text: 'Den nya legitimeringskoden (PIN1) gäller från och med nu.' });
    await screenshot(page, 'pins', '01-changed');
    await closeOutcome(page, p, 'pin1');
    const after = (await apiCard(id)).pins.pin1;
    assert.notEqual(after.last_change, before.last_change, 'the card wrote a new lastPinChange');
    assert.equal(after.tries_left, 3);
    await login(page, p, PIN1, { expectError: 'Fel kod. Du har 2 försök kvar. Kontrollera koden och försök igen.' });
    await page.locator('#pin-cancel').click();
    await login(page, p, NEW1);
    // The independent judge: OpenSC signs with the code set through the page (openssl verifies
    // the signature), and refuses the old one.
    const conf = openscConf(), keys = exportCerts(ctx.card.state);
    const good = await signs(pc, conf, keys, 'pin1', NEW1);
    assert.ok(good.ok, `OpenSC signs with the new PIN1\n${good.stdout}${good.stderr}`);
    const old = await signs(pc, conf, keys, 'pin1', PIN1);
    assert.equal(old.ok, false, 'OpenSC refuses the old PIN1');
    assert.match(`${old.stdout}${old.stderr}`, /CKR_PIN_INCORRECT/);
  });
});

test('wrong old code shows the tries left; blocked after three; unblocked with the PUK (a wrong one first)', async () => {
  await onCard('block-unblock', async (page, p, { id }) => {
    await openCodeDialog(page, p, 'pin2');
    await submitCodes(page, '111111', NEW1);
    await expectFormError(page, 'Fel kod. Du har 2 försök kvar. Kontrollera koden och försök igen.', 'old');
    assert.equal(await dialogTries(page), 2);
    assert.equal((await apiCard(id)).pins.pin2.tries_left, 2, 'the API says what the page shows');
    await screenshot(page, 'pins', '10-wrong-old');
    await submitCodes(page, '222222', NEW1);
    await expectFormError(page, 'Fel kod. Du har 1 försök kvar. Om nästa kod också är fel spärras koden och måste låsas upp med din PUK-kod.', 'old');
    await submitCodes(page, '333333', NEW1);
    await expectOutcome(page, 'pin_blocked', { title: 'Koden är spärrad', text: 'underskriftskoden (PIN2) är nu spärrad' });
    await screenshot(page, 'pins', '11-blocked');
    const blocked = (await apiCard(id)).pins;
    assert.equal(blocked.pin2.blocked, true);
    await expect(codeRow(p, 'pin2')).toContainText('Spärrad');

    await page.locator('#pm-unblock').click();
    await expect(page.locator('#pm-title')).toHaveText('Lås upp underskriftskoden (PIN2)');
    await expect(page.locator('#pm-old-rule')).toHaveText(`8 siffror ${blocked.puk.tries_left} försök kvar`);
    await submitCodes(page, '87654321', NEW2);
    await expectFormError(page, 'Fel PUK-kod. Du har 2 försök kvar. Kontrollera PUK-koden i brevet som kom med kortet och försök igen.', 'old');
    assert.equal((await apiCard(id)).pins.puk.tries_left, 2);
    await submitCodes(page, PUK, NEW2);
    await expectOutcome(page, 'unblocked', { title: 'Koden är upplåst', text: 'Du har låst upp underskriftskoden (PIN2).' });
    await screenshot(page, 'pins', '12-unblocked');
    await closeOutcome(page, p, 'pin2');
    await expect(codeRow(p, 'pin2')).toContainText('Underskriftskod (PIN2) 3 försök kvar');
    await expect(codeRow(p, 'puk')).toContainText('PUK-kod 3 försök kvar');
    const now = (await apiCard(id)).pins;
    assert.equal(now.pin2.blocked, false);
    assert.equal(now.puk.tries_left, 3);
    // The new PIN2 is the card's: changing it back takes it as the old code.
    await openCodeDialog(page, p, 'pin2');
    await submitCodes(page, NEW2, NEW1);
    await expectOutcome(page, 'changed');
  });
});

test('PIN1 blocked, unblocked with the PUK through the page; the new code logs in, OpenSC signs with it', async () => {
  await onCard('unblock-pin1', async (page, p, ctx) => {
    await openCodeDialog(page, p, 'pin1');
    for (const wrong of ['111111', '222222', '333333']) {
      await submitCodes(page, wrong, NEW1);
      if (wrong !== '333333') await expect(page.locator('#pm-error')).toContainText('försök kvar');
    }
    await expectOutcome(page, 'pin_blocked');
    await page.locator('#pm-close').click();
    await expect(codeRow(p, 'pin1').locator('.pin-unblock')).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(page.locator('#pm-old')).toBeFocused();
    await submitCodes(page, PUK, NEW1);
    await expectOutcome(page, 'unblocked');
    await closeOutcome(page, p, 'pin1');
    await login(page, p, NEW1);
    const s = await signs(pc, openscConf(), exportCerts(ctx.card.state), 'pin1', NEW1);
    assert.ok(s.ok, `OpenSC signs with the PIN1 set by the unblock\n${s.stdout}${s.stderr}`);
  });
});

for (const [when, kind, holds] of [['--drop-at', 'back-old', PIN1], ['--drop-after-commit', 'back-new', NEW1]]) {
  test(`card pulled during the change (${when} change-ref): put it back, the page says which code holds`, async () => {
    await onCard(`pulled ${when}`, async (page, p, ctx) => {
      await openCodeDialog(page, p, 'pin1');
      await submitCodes(page, PIN1, NEW1);
      await expectOutcome(page, 'change_interrupted', { title: 'Kortet togs ut',
        text: 'Sätt tillbaka kortet i kortläsaren, så visar sidan vilken kod som gäller.' });
      await ctx.card.exited;
      await screenshot(page, 'pins', `20-pulled${when}`);
      ctx.card = await startCard({ port: pc.ports[0], state: ctx.card.state });
      await expectOutcome(page, kind, { title: 'Kortet är tillbaka',
        text: kind === 'back-new' ? 'den nya legitimeringskoden (PIN1) gäller nu' : 'din gamla legitimeringskod (PIN1) gäller fortfarande' });
      await screenshot(page, 'pins', `21-back${when}`);
      await closeOutcome(page, panel(page), 'pin1');
      await login(page, panel(page), holds);
    }, { args: [when, 'change-ref'] });
  });
}

test('reserve card with a two-code letter: step 6\'s note, PIN2 activated by the download, step 8\'s sentence', async () => {
  const SECURITY = '13572468';
  await onCard('reserve', async (page, p, { id }) => {
    await expect(p.locator('.card-type')).toHaveText('Reservkort');
    assert.equal((await apiCard(id)).pins.pin2.activated, false);
    await expect(codeRow(p, 'pin2')).toContainText('Inte aktiverad än. Den aktiveras när du hämtar underskriftscertifikat.');
    await expect(codeRow(p, 'pin2').locator('.pin-change')).toBeHidden();
    await login(page, p, SECURITY);
    await openPin2(page, p, { reserveNote: true });
    await screenshot(page, 'pins', '30-reserve-note');
    await submitPin2(page, SECURITY);
    await waitDownloadDone(page, { timeout: 120000 });
    await expect(page.locator('#job-activated')).toHaveText(ACTIVATED);
    await screenshot(page, 'pins', '31-activated');
    await page.locator('#job-close').click();
    await expect(p.locator('.sign-present')).toHaveText('Finns');
    await expect(codeRow(p, 'pin2')).toContainText('Underskriftskod (PIN2) 3 försök kvar');
    const now = (await apiCard(id)).pins.pin2;
    assert.equal(now.activated, true);
    // The activated code is the signature code now: it changes like any other.
    await openCodeDialog(page, p, 'pin2');
    await submitCodes(page, SECURITY, NEW2);
    await expectOutcome(page, 'changed');
  }, { card: { card_type: 'reserve', card_number: '9752269885715690003', pins: { pin1: SECURITY }, pin2_activated: false } });
});
