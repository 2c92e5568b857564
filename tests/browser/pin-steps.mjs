// pin-steps.mjs — the card panel's "Dina koder" and its change / unblock dialog as page actions
// and checks, shared by the browser tests against the fake bridge and against the real daemon.
import assert from 'node:assert/strict';
import { expect } from './steps.mjs';

/** The row of 'pin1' | 'pin2' | 'puk' in a card panel. */
export const codeRow = (p, which) => p.locator(`.code-row[data-pin="${which}"]`);

const BUTTON = { change: '.pin-change', unblock: '.pin-unblock' };

/** Opens the dialog from the row's button; checks focus went to the first field. */
export async function openCodeDialog(page, p, which, action = 'change') {
  await codeRow(p, which).locator(BUTTON[action]).click();
  await expect(page.locator('#pm-dialog')).toBeVisible();
  await expect(page.locator('#pm-entry')).toBeVisible();
  await expect(page.locator('#pm-old')).toBeFocused();
}

/** Types the old code (or PUK) and the new code twice, then sends them with the button. */
export async function submitCodes(page, old, newPin, repeat = newPin) {
  await page.locator('#pm-old').fill(old);
  await page.locator('#pm-new').fill(newPin);
  await page.locator('#pm-repeat').fill(repeat);
  await page.locator('#pm-ok').click();
}

/** Tries left the dialog shows for the old code or the PUK before entry (null: not shown). */
export async function dialogTries(page) {
  const v = await page.locator('#pm-old-tries').getAttribute('data-tries');
  return v === '' || v === null ? null : Number(v);
}

/** Waits for the dialog's outcome `kind` (data-result) and checks its title and text. */
export async function expectOutcome(page, kind, { title, text } = {}) {
  await expect(page.locator('#pm-result')).toHaveAttribute('data-result', kind);
  await expect(page.locator('#pm-result')).toBeVisible();
  if (title) await expect(page.locator('#pm-result-title')).toHaveText(title);
  if (text) await expect(page.locator('#pm-result-text')).toContainText(text);
}

/** An error shown in the form (the dialog stays), with the field to correct focused. */
export async function expectFormError(page, text, field = 'old') {
  await expect(page.locator('#pm-error')).toHaveText(text);
  await expect(page.locator(`#pm-${field}`)).toBeFocused();
  assert.equal(await page.locator(`#pm-${field}`).getAttribute('aria-invalid'), 'true');
  for (const f of ['old', 'new', 'repeat'])
    assert.equal(await page.locator(`#pm-${f}`).inputValue(), '', `#pm-${f} cleared`);
}

/** Closes the outcome with Stäng; focus goes back to the code's row. */
export async function closeOutcome(page, p, which) {
  await page.locator('#pm-close').click();
  await expect(page.locator('#pm-dialog')).toBeHidden();
  await expect(codeRow(p, which).locator('button:not([hidden])').first()).toBeFocused();
}

/** Every console message of the page, to check that no code is ever logged. */
export function consoleLog(page) {
  const seen = [];
  page.on('console', (m) => seen.push(m.text()));
  return seen;
}
