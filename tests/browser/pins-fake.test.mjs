// pins-fake.test.mjs — the card panel's codes (change PIN1/PIN2, unblock with the PUK) and the
// reserve card's signature code, against the documented API served by the fake bridge in real
// chromium or firefox-esr: every dialog and outcome, local checks that send nothing, keyboard only, Escape,
// focus, English. The same flows against the real daemon and virtual card are in pins.test.mjs.
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeBridge, SEED_CARD, RESERVE_CARD } from './fake-bridge.mjs';
import { launchBrowser, screenshot, focused, localhostCerts } from '../lib/browser.mjs';
import { panel, login, openPin2, submitPin2, waitDownloadDone, expect, eventually, ACTIVATED } from './steps.mjs';
import { codeRow, openCodeDialog, submitCodes, dialogTries, expectOutcome, expectFormError, closeOutcome, consoleLog } from './pin-steps.mjs';

let fb, br, page, logged;
const certs = localhostCerts();
// New codes that are no substring of the card's id or anything else the page sends.
const NEW1 = '975310';
const NEW2 = '86420864';

before(async () => { br = await launchBrowser({ ca: certs.ca }); });
after(async () => { await br.close(); });
beforeEach(async () => {
  fb = await startFakeBridge({ cert: certs.cert, key: certs.key, stepMs: 60 });
  page = await br.context.newPage();
  logged = consoleLog(page);
  br.clearProblems();
});
afterEach(async () => { await page.close(); await fb.stop(); });

const posts = () => fb.requests.filter((r) => r.method === 'POST');
const pinPosts = () => posts().filter((r) => /\/pins\//.test(r.path));
// No code in any URL the page asked for, nor in anything it logged.
function codesStayedSecret(...codes) {
  for (const c of codes) {
    for (const r of fb.requests) assert.ok(!r.path.includes(c), `code not in the URL ${r.path}`);
    for (const m of logged) assert.ok(!m.includes(c), 'code not logged to the console');
  }
  // The daemon's expected refusals (wrong code, blocked, card pulled) are logged by chromium
  // itself as failed loads (Firefox logs none): anything else is a problem.
  const expected = /^console: Failed to load resource: the server responded with a status of (401|409|423) /;
  assert.deepEqual(br.problems().filter((m) => !expected.test(m)), []);
}

async function withCard(card = SEED_CARD) {
  fb.insert(card);
  await page.goto(fb.url('/'));
  const p = panel(page);
  await expect(p).toBeVisible();
  return p;
}

test('Dina koder: each code with its tries; change PIN1 without logging in; the new code logs in', async () => {
  const p = await withCard();
  await expect(p.locator('.codes-heading')).toHaveText('Dina koder');
  await expect(codeRow(p, 'pin1')).toContainText('Legitimeringskod (PIN1) 3 försök kvar');
  await expect(codeRow(p, 'pin2')).toContainText('Underskriftskod (PIN2) 3 försök kvar');
  await expect(codeRow(p, 'puk')).toContainText('PUK-kod 3 försök kvar');
  await expect(codeRow(p, 'pin1').locator('.pin-change')).toHaveText('Byt legitimeringskod (PIN1)');
  await expect(codeRow(p, 'pin2').locator('.pin-change')).toHaveText('Byt underskriftskod (PIN2)');
  await expect(p.locator('.pin-unblock').first()).toBeHidden();
  await screenshot(page, 'pins-fake', '01-codes');

  await openCodeDialog(page, p, 'pin1');
  await expect(page.locator('#pm-title')).toHaveText('Byt legitimeringskod (PIN1)');
  await expect(page.locator('#pm-holder')).toHaveText(SEED_CARD.holder);
  await expect(page.locator('#pm-old-label')).toHaveText('Nuvarande legitimeringskod (PIN1)');
  await expect(page.locator('#pm-new-label')).toHaveText('Ny legitimeringskod (PIN1)');
  await expect(page.locator('#pm-repeat-label')).toHaveText('Upprepa den nya koden');
  // The rules and the tries left are there before anything is typed.
  await expect(page.locator('#pm-old-rule')).toHaveText('6–8 siffror 3 försök kvar');
  await expect(page.locator('#pm-new-rule')).toHaveText('6–8 siffror');
  assert.equal(await dialogTries(page), 3);
  for (const f of ['old', 'new', 'repeat']) {
    const el = page.locator(`#pm-${f}`);
    assert.equal(await el.getAttribute('type'), 'password');
    assert.equal(await el.getAttribute('inputmode'), 'numeric');
    // Each field is labelled (the accessible name comes from its <label>).
    assert.ok((await page.locator(`label[for="pm-${f}"]`).textContent()).length > 0);
  }
  await expect(page.locator('#pm-test')).toBeVisible();
  await screenshot(page, 'pins-fake', '02-change-pin1');
  await submitCodes(page, '123456', NEW1);
  await expectOutcome(page, 'changed', { title: 'Koden är bytt', text: 'Den nya legitimeringskoden (PIN1) gäller från och med nu.' });
  for (const f of ['old', 'new', 'repeat']) assert.equal(await page.locator(`#pm-${f}`).inputValue(), '', 'fields cleared');
  await expect(page.locator('#pm-close')).toBeFocused();
  await screenshot(page, 'pins-fake', '03-changed');
  const sent = pinPosts();
  assert.equal(sent.length, 1);
  assert.equal(sent[0].path, `/v1/cards/${SEED_CARD.id}/pins/pin1/change`);
  assert.deepEqual(sent[0].keys, ['new_pin', 'pin'], 'body {pin, new_pin}');
  assert.equal(sent[0].auth, false, 'no session needed or sent');
  assert.equal(fb.pins.pin1, NEW1);
  await closeOutcome(page, p, 'pin1');
  await expect(codeRow(p, 'pin1').locator('.pin-change')).toBeFocused();

  await login(page, p, NEW1);
  codesStayedSecret(NEW1);
});

test('local checks: letters, wrong length, two new codes that differ — nothing sent, no try used', async () => {
  const p = await withCard();
  await openCodeDialog(page, p, 'pin2');
  const before = posts().length;
  await submitCodes(page, '65a321', NEW1);
  await expectFormError(page, 'Den nuvarande koden ska vara 6–8 siffror (bara siffror).', 'old');
  await submitCodes(page, '654321', '12');
  await expectFormError(page, 'Den nya koden ska vara 6–8 siffror (bara siffror).', 'new');
  await submitCodes(page, '654321', '12345');
  await expectFormError(page, 'Den nya koden ska vara 6–8 siffror (bara siffror).', 'new');
  // No more than the longest code can be typed at all.
  await page.locator('#pm-new').fill('123456789');
  assert.equal(await page.locator('#pm-new').inputValue(), '12345678');
  await page.locator('#pm-new').fill('');
  await submitCodes(page, '654321', NEW1, '975311');
  await expectFormError(page, 'De två nya koderna är inte lika. Skriv samma nya kod i båda fälten.', 'new');
  await screenshot(page, 'pins-fake', '10-mismatch');
  assert.equal(posts().length, before, 'nothing sent to the daemon');
  assert.equal(fb.cards.get(SEED_CARD.id).pins.pin2.tries_left, 3);
  assert.equal(await dialogTries(page), 3);
  // The PUK has its own rule (8 digits on this card).
  await page.locator('#pm-cancel').click();
  const blocked = structuredClone(SEED_CARD);
  blocked.pins.pin2 = { ...blocked.pins.pin2, tries_left: 0, blocked: true };
  fb.update(SEED_CARD.id, { pins: blocked.pins });
  await expect(codeRow(p, 'pin2').locator('.pin-unblock')).toBeVisible();
  await openCodeDialog(page, p, 'pin2', 'unblock');
  await expect(page.locator('#pm-old-rule')).toHaveText('8 siffror 3 försök kvar');
  await submitCodes(page, '1234567', NEW1);
  await expectFormError(page, 'PUK-koden ska vara 8 siffror (bara siffror).', 'old');
  assert.equal(posts().length, before, 'still nothing sent');
  assert.equal(fb.cards.get(SEED_CARD.id).pins.puk.tries_left, 3);
});

test('wrong old code: tries left in the form, then blocked; Lås upp med PUK: wrong PUK, then right', async () => {
  const p = await withCard();
  await openCodeDialog(page, p, 'pin1');
  await submitCodes(page, '111111', NEW1);
  await expectFormError(page, 'Fel kod. Du har 2 försök kvar. Kontrollera koden och försök igen.', 'old');
  assert.equal(await dialogTries(page), 2);
  await expect(page.locator('#pm-old-rule')).toHaveText('6–8 siffror 2 försök kvar');
  await screenshot(page, 'pins-fake', '20-wrong-old');
  await submitCodes(page, '222222', NEW1);
  await expectFormError(page, 'Fel kod. Du har 1 försök kvar. Om nästa kod också är fel spärras koden och måste låsas upp med din PUK-kod.', 'old');
  await expect(page.locator('#pm-old-tries')).toHaveText('1 försök kvar. Nästa felaktiga kod spärrar koden.');
  await submitCodes(page, '333333', NEW1);
  await expectOutcome(page, 'pin_blocked', { title: 'Koden är spärrad', text: 'legitimeringskoden (PIN1) är nu spärrad. Lås upp den med PUK-koden' });
  await expect(page.locator('#pm-unblock')).toBeFocused();
  await expect(page.locator('#pm-unblock')).toHaveText('Lås upp med PUK');
  await screenshot(page, 'pins-fake', '21-blocked');
  // The panel behind: blocked, no change button, the unblock one instead.
  await expect(codeRow(p, 'pin1')).toContainText('Spärrad efter för många felaktiga försök.');
  await expect(codeRow(p, 'pin1').locator('.pin-change')).toBeHidden();

  await page.locator('#pm-unblock').click();
  await expect(page.locator('#pm-title')).toHaveText('Lås upp legitimeringskoden (PIN1)');
  await expect(page.locator('#pm-old-label')).toHaveText('PUK-kod');
  await expect(page.locator('#pm-old-rule')).toHaveText('8 siffror 3 försök kvar');
  await expect(page.locator('#pm-old')).toBeFocused();
  await screenshot(page, 'pins-fake', '22-unblock');
  await submitCodes(page, '87654321', NEW2);
  await expectFormError(page, 'Fel PUK-kod. Du har 2 försök kvar. Kontrollera PUK-koden i brevet som kom med kortet och försök igen.', 'old');
  assert.equal(await dialogTries(page), 2);
  await submitCodes(page, '12345678', NEW2);
  await expectOutcome(page, 'unblocked', { title: 'Koden är upplåst', text: 'Du har låst upp legitimeringskoden (PIN1). Den nya koden du valde gäller från och med nu.' });
  const sent = pinPosts().map((r) => [r.path.replace(/^.*\/pins\//, ''), r.keys.join()]);
  assert.deepEqual(sent, [['pin1/change', 'new_pin,pin'], ['pin1/change', 'new_pin,pin'], ['pin1/change', 'new_pin,pin'],
    ['pin1/unblock', 'new_pin,puk'], ['pin1/unblock', 'new_pin,puk']]);
  await closeOutcome(page, p, 'pin1');
  await expect(codeRow(p, 'pin1')).toContainText('3 försök kvar');
  await expect(codeRow(p, 'pin1').locator('.pin-change')).toBeFocused();
  await expect(codeRow(p, 'puk')).toContainText('PUK-kod 3 försök kvar');
  await login(page, p, NEW2);
  codesStayedSecret(NEW1, NEW2);
});

test('the PUK blocked: the card must be replaced, contact the SITHS administrator', async () => {
  const card = structuredClone(SEED_CARD);
  card.pins.pin2 = { ...card.pins.pin2, tries_left: 0, blocked: true };
  card.pins.puk = { ...card.pins.puk, tries_left: 1 };
  const p = await withCard(card);
  await expect(codeRow(p, 'pin2')).toContainText('Spärrad');
  await expect(codeRow(p, 'pin2').locator('.pin-change')).toBeHidden();
  // The PIN2 dialog of the download is not offered for a blocked code either.
  await expect(p.locator('.sign-blocked')).toContainText('Lås upp med PUK');
  await openCodeDialog(page, p, 'pin2', 'unblock');
  await expect(page.locator('#pm-title')).toHaveText('Lås upp underskriftskoden (PIN2)');
  await expect(page.locator('#pm-old-tries')).toHaveText('1 försök kvar. Nästa felaktiga PUK-kod spärrar PUK-koden för gott.');
  await submitCodes(page, '11112222', NEW1);
  await expectOutcome(page, 'puk_blocked', { title: 'PUK-koden är spärrad' });
  await expect(page.locator('#pm-result-text')).toHaveText('PUK-koden är spärrad efter för många felaktiga försök. En spärrad PUK-kod kan inte låsas upp, så kortet måste bytas ut. Kontakta din SITHS-administratör.');
  await expect(page.locator('#pm-unblock')).toBeHidden();
  await screenshot(page, 'pins-fake', '30-puk-blocked');
  await page.locator('#pm-close').click();
  await expect(page.locator('#pm-dialog')).toBeHidden();
  await expect(codeRow(p, 'puk')).toContainText('kortet måste bytas ut. Kontakta din SITHS-administratör.');
  await expect(codeRow(p, 'pin2').locator('.pin-unblock')).toBeHidden();
  assert.ok(await page.evaluate(() => document.activeElement && document.activeElement.closest('.card-panel') !== null), 'focus back in the card panel');
  codesStayedSecret(NEW1);
});

test('card pulled during the change: put it back; back the page says which code holds', async () => {
  const p = await withCard();
  // The card's model object: the fake keeps changing it until it is pulled, then it is what the
  // card holds when put back.
  let card = fb.cards.get(SEED_CARD.id);
  // Pulled before the card acted: the old code holds.
  fb.pinFault = 'before';
  await openCodeDialog(page, p, 'pin1');
  await submitCodes(page, '123456', NEW1);
  await expectOutcome(page, 'change_interrupted', { title: 'Kortet togs ut',
    text: 'Kortet togs ut ur läsaren medan koden ändrades. Sätt tillbaka kortet i kortläsaren, så visar sidan vilken kod som gäller.' });
  await expect(page.locator('#card-list .card-panel')).toBeHidden();
  await screenshot(page, 'pins-fake', '40-pulled');
  fb.insert(card);
  await expectOutcome(page, 'back-old', { title: 'Kortet är tillbaka',
    text: 'Koden hann inte bytas: din gamla legitimeringskod (PIN1) gäller fortfarande.' });
  await expect(panel(page).locator('.pin-notice')).toContainText('din gamla legitimeringskod (PIN1) gäller fortfarande');
  await screenshot(page, 'pins-fake', '41-back-old');
  await closeOutcome(page, panel(page), 'pin1');
  assert.equal(fb.pins.pin1, '123456');

  // Pulled after the card acted, the dialog closed while the card is out: the panel says it.
  card = fb.cards.get(SEED_CARD.id);
  fb.pinFault = 'after';
  await openCodeDialog(page, panel(page), 'pin1');
  await expect(panel(page).locator('.pin-notice')).toBeHidden();
  await submitCodes(page, '123456', NEW1);
  await expectOutcome(page, 'change_interrupted');
  await page.locator('#pm-close').click();
  await expect(page.locator('#pm-dialog')).toBeHidden();
  assert.equal(fb.pins.pin1, NEW1, 'the fake card holds the new code');
  fb.insert(card);
  await expect(panel(page).locator('.pin-notice')).toHaveText('Kortet är tillbaka. Ändringen hann bli klar på kortet: den nya legitimeringskoden (PIN1) gäller nu. Den gamla koden fungerar inte längre.');
  await screenshot(page, 'pins-fake', '42-back-new');
  await login(page, panel(page), NEW1);
  codesStayedSecret(NEW1);
});

// The three fields by keyboard (from the focused first one), then Enter sends them.
async function typeCodes(old, newPin) {
  await page.keyboard.type(old);
  for (const v of [newPin, newPin]) {
    await page.keyboard.press('Tab');
    await page.keyboard.type(v);
  }
  await page.keyboard.press('Enter');
}

test('keyboard only: Tab to Byt underskriftskod, Escape sends nothing and returns focus, then a change', async () => {
  const p = await withCard();
  let hops = 0;
  while (!(await focused(page)).includes('pin-change')) {
    await page.keyboard.press('Tab');
    assert.ok(++hops < 25, 'change button reachable by Tab');
  }
  await page.keyboard.press('Tab');
  assert.match(await focused(page), /pin-change/);
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Byt underskriftskod (PIN2)');
  await page.keyboard.press('Enter');
  await expect(page.locator('#pm-old')).toBeFocused();
  await page.keyboard.type('654321');
  await page.keyboard.press('Tab');
  await expect(page.locator('#pm-new')).toBeFocused();
  await page.keyboard.type('975');
  const before = posts().length;
  await page.keyboard.press('Escape');
  await expect(page.locator('#pm-dialog')).toBeHidden();
  await expect(codeRow(p, 'pin2').locator('.pin-change')).toBeFocused();
  assert.equal(posts().length, before, 'Escape sent nothing');
  assert.equal(fb.cards.get(SEED_CARD.id).pins.pin2.tries_left, 3);

  await page.keyboard.press('Enter');
  await expect(page.locator('#pm-old')).toBeFocused();
  assert.equal(await page.locator('#pm-old').inputValue(), '', 'the fields were cleared');
  assert.equal(await page.locator('#pm-new').inputValue(), '');
  await typeCodes('654321', NEW2);
  await expectOutcome(page, 'changed', { text: 'Den nya underskriftskoden (PIN2) gäller från och med nu.' });
  await expect(page.locator('#pm-close')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('#pm-dialog')).toBeHidden();
  await expect(codeRow(p, 'pin2').locator('.pin-change')).toBeFocused();
  assert.equal(fb.pins.pin2, NEW2);
  // A refused code, then Escape: closed, focus back on the row.
  await page.keyboard.press('Enter');
  await typeCodes('000000', NEW1);
  await expect(page.locator('#pm-error')).toContainText('Du har 2 försök kvar');
  await expect(page.locator('#pm-old')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(page.locator('#pm-dialog')).toBeHidden();
  await expect(codeRow(p, 'pin2').locator('.pin-change')).toBeFocused();
  codesStayedSecret(NEW1, NEW2);
});

test('English: the codes, the dialog and its outcomes', async () => {
  const p = await withCard();
  await page.locator('#lang-switch').click();
  await expect(p.locator('.codes-heading')).toHaveText('Your codes');
  await expect(codeRow(p, 'pin1').locator('.pin-change')).toHaveText('Change authentication code (PIN1)');
  await expect(codeRow(p, 'pin2').locator('.pin-change')).toHaveText('Change signature code (PIN2)');
  await expect(codeRow(p, 'puk')).toContainText('PUK 3 tries left');
  await openCodeDialog(page, p, 'pin2');
  await expect(page.locator('#pm-title')).toHaveText('Change signature code (PIN2)');
  await expect(page.locator('#pm-old-label')).toHaveText('Current signature code (PIN2)');
  await expect(page.locator('#pm-old-rule')).toHaveText('6–8 digits 3 tries left');
  await submitCodes(page, '111111', NEW1);
  await expect(page.locator('#pm-error')).toHaveText('Wrong code. You have 2 tries left. Check the code and try again.');
  await submitCodes(page, '654321', NEW1, '975311');
  await expect(page.locator('#pm-error')).toHaveText('The two new codes differ. Type the same new code in both fields.');
  await submitCodes(page, '654321', NEW1);
  await expectOutcome(page, 'changed', { title: 'The code has been changed', text: 'The new signature code (PIN2) is valid from now on.' });
  // Switching language with the outcome shown: the dialog follows.
  await page.locator('#pm-close').click();
  await page.locator('#lang-switch').click();
  await expect(p.locator('.codes-heading')).toHaveText('Dina koder');
});

test('reserve card: PIN2 not activated — step 6\'s note in the PIN2 dialog, step 8\'s sentence after the download', async () => {
  await fb.stop();
  // A two-code letter: the security code is the login code, and PIN2 holds it until activated.
  fb = await startFakeBridge({ cert: certs.cert, key: certs.key, stepMs: 60, pins: { pin1: '13572468', pin2: '13572468' } });
  const p = await withCard(RESERVE_CARD);
  await expect(p.locator('.card-type')).toHaveText('Reservkort');
  await expect(codeRow(p, 'pin2')).toContainText('Underskriftskod (PIN2) Inte aktiverad än. Den aktiveras när du hämtar underskriftscertifikat.');
  await expect(codeRow(p, 'pin2').locator('.pin-change')).toBeHidden();
  await login(page, p, '13572468');
  await openPin2(page, p, { reserveNote: true });
  await screenshot(page, 'pins-fake', '60-reserve-note');
  await submitPin2(page, '13572468');
  await waitDownloadDone(page);
  await expect(page.locator('#job-activated')).toBeVisible();
  await expect(page.locator('#job-activated')).toHaveText(ACTIVATED);
  await screenshot(page, 'pins-fake', '61-activated');
  await page.locator('#job-close').click();
  await expect(codeRow(p, 'pin2')).toContainText('Underskriftskod (PIN2) 3 försök kvar');
  await expect(codeRow(p, 'pin2').locator('.pin-change')).toBeVisible();
  await expect(p.locator('.sign-present')).toHaveText('Finns');
  // The daemon's expected refusals (wrong code, blocked, card pulled) are logged by chromium
  // itself as failed loads (Firefox logs none): anything else is a problem.
  const expected = /^console: Failed to load resource: the server responded with a status of (401|409|423) /;
  assert.deepEqual(br.problems().filter((m) => !expected.test(m)), []);
});

test('ordinary card: no reserve note, no activation sentence', async () => {
  const p = await withCard();
  await login(page, p, '123456');
  await openPin2(page, p, { reserveNote: false });
  await submitPin2(page, '654321');
  await waitDownloadDone(page);
  await expect(page.locator('#job-result-text')).toHaveText('Du kan ta ut kortet ur läsaren.');
  await expect(page.locator('#job-activated')).toBeHidden();
});

test('client module: changePin/unblockPin send {pin|puk, new_pin} once, name no other PIN, carry the API\'s details', async () => {
  fb.insert();
  await page.goto(fb.url('/'));
  const before = fb.requests.length;
  const r = await page.evaluate(async (id) => {
    const { SithsBridge } = await import('/siths-bridge.js');
    const b = new SithsBridge();
    const fail = (p) => p.then(() => null, (e) => ({ code: e.code, status: e.status, triesLeft: e.triesLeft, error: e.body && e.body.error }));
    return {
      other: await fail(b.changePin(id, 'puk', '12345678', '86420864')),
      badNew: await fail(b.changePin(id, 'pin1', '123456', '12')),
      wrongPuk: await fail(b.unblockPin(id, 'pin2', '87654321', '86420864')),
      ok: await b.changePin(id, 'pin2', '654321', '86420864'),
    };
  }, SEED_CARD.id);
  assert.equal(r.other.code, 'bad_request', 'a PIN other than pin1/pin2 is refused here');
  assert.equal(r.badNew.code, 'bad_pin');
  assert.deepEqual([r.badNew.error.field, r.badNew.error.min_length, r.badNew.error.max_length], ['new_pin', 6, 8]);
  assert.deepEqual([r.wrongPuk.code, r.wrongPuk.status, r.wrongPuk.triesLeft], ['wrong_puk', 401, 2]);
  assert.equal(r.ok.pin, 'pin2');
  assert.equal(r.ok.card.pins.pin2.tries_left, 3);
  const sent = fb.requests.slice(before).filter((q) => q.method === 'POST').map((q) => [q.path.replace(/^.*\/pins\//, ''), q.keys.join()]);
  assert.deepEqual(sent, [['pin1/change', 'new_pin,pin'], ['pin2/unblock', 'new_pin,puk'], ['pin2/change', 'new_pin,pin']]);
});
