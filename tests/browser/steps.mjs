// steps.mjs — the user guide's steps as page actions and checks, shared by the browser tests
// against the real daemon and against the fake bridge. Everything waits on what the page shows
// (Playwright's auto-waiting locators with deadlines), never on fixed sleeps.
import assert from 'node:assert/strict';

/** Retries `check` (which throws while not yet true) until it passes or `timeout` ms passed. */
export async function eventually(check, { timeout = 10000, interval = 25 } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    try { return await check(); } catch (e) {
      if (Date.now() > end) throw e;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

const norm = (s) => s.replace(/\s+/g, ' ').trim();
/** A tiny web-first assertion helper over Playwright locators (playwright-core has no expect). */
export function expect(loc) {
  return {
    toBeVisible: ({ timeout = 10000 } = {}) => loc.waitFor({ state: 'visible', timeout }),
    toBeHidden: ({ timeout = 10000 } = {}) => loc.waitFor({ state: 'hidden', timeout }),
    toHaveText: (want, { timeout = 10000 } = {}) => eventually(async () => {
      const got = norm(await loc.textContent({ timeout: 1000 }) || '');
      if (want instanceof RegExp) assert.match(got, want); else assert.equal(got, want);
    }, { timeout }),
    toContainText: (want, { timeout = 10000 } = {}) => eventually(async () => {
      const got = norm(await loc.textContent({ timeout: 1000 }) || '');
      assert.ok(got.includes(want), `expected "${got}" to contain "${want}"`);
    }, { timeout }),
    toHaveAttribute: (name, want, { timeout = 10000 } = {}) => eventually(async () => {
      assert.equal(await loc.getAttribute(name, { timeout: 1000 }), want);
    }, { timeout }),
    toBeFocused: ({ timeout = 5000 } = {}) => eventually(async () => {
      assert.ok(await loc.evaluate((el) => el === document.activeElement, null, { timeout: 1000 }), 'element is focused');
    }, { timeout }),
  };
}

/** The seed card as the page must show it (step 4/5). */
export const SEED_VIEW = {
  card_type: 'Ordinarie kort', organisation: 'Västra Götalandsregionen', valid_to: '2028-09-30',
  valid_from: '2023-11-18', card_number: '9752269885715693047', trust_level: '3',
  hsa_id: 'TSTNMT2321000156-10XK', upn: 'osa@test.se', email: 'cathrine.andersson@inera.se',
  holder: 'Olof Svensson Andersson',
};

/** Step 6's note for reserve cards and step 8's sentence, as the user guide words them. */
export const RESERVE_NOTE = 'Om du behöver aktivera underskriftskoden till ett reservkort är det olika beroende på hur det brev med koder som följer med reservkortet ser ut. Om du har tre koder i brevet varav en är underskriftskod anger du den. Om brevet bara har två koder anger du den kod som kallas säkerhetskod alltså samma kod du har som inloggningskod.';
export const ACTIVATED = 'Den kod du angav är nu aktiverad som underskriftskod.';

export const panel = (page, n = 0) => page.locator('#card-list .card-panel').nth(n);

/** The text of every [data-field] of a card panel: {field: [texts…]}. */
export async function panelFields(p) {
  return p.evaluate((el) => {
    const out = {};
    for (const f of el.querySelectorAll('[data-field]')) (out[f.dataset.field] ||= []).push(f.textContent.trim());
    return out;
  });
}

/** Step 4: checks every field the seed's card panel shows, with its Swedish label. */
export async function checkSeedPanel(p, view = SEED_VIEW) {
  const f = await panelFields(p);
  for (const [k, v] of Object.entries(view)) {
    assert.ok(f[k] && f[k].length > 0, `field ${k} shown`);
    for (const x of f[k]) assert.equal(x, v, `field ${k}`);
  }
  const summary = (await p.locator('.card-summary').innerText()).replace(/\s+/g, ' ');
  assert.match(summary, new RegExp(`SITHS-kort ${view.card_type} Organisation ${view.organisation} Giltig till ${view.valid_to}`));
  const body = (await p.innerText()).replace(/\s+/g, ' ');
  assert.match(body, new RegExp(`Serienummer ${view.card_number}`));
  assert.match(body, /SITHS EID/);
  const eid = (await p.locator('.eid-summary').innerText()).replace(/\s+/g, ' ');
  assert.equal(eid.trim(), `Organisation ${view.organisation} Giltig från ${view.valid_from} Giltig till ${view.valid_to} Tillitsnivå ${view.trust_level}`.trim());
  const heads = (await p.locator('.eid-table th').allInnerTexts()).map((s) => s.trim());
  assert.deepEqual(heads, ['Tjänste-id', 'UPN', 'Email', 'Underskriftscertifikat']);
  assert.match(await p.locator('.eid-table td').first().innerText(), new RegExp(`HSA-id: ${view.hsa_id}`));
}

/** Step 3: log in with PIN1 through the dialog. Expects success unless `expectError`. */
export async function login(page, p, pin, { expectError } = {}) {
  await p.locator('.login-button').click();
  const dlg = page.locator('#pin-dialog');
  await expect(dlg).toBeVisible();
  await expect(page.locator('#pin-label')).toHaveText('Ange legitimeringskod (PIN1)');
  await page.locator('#pin-input').fill(pin);
  await page.locator('#pin-ok').click();
  if (expectError) { await expect(page.locator('#pin-error')).toHaveText(expectError); return; }
  await expect(dlg).toBeHidden();
  await expect(p.locator('.login-state')).toContainText('Inloggad som');
}

/** Step 5 → 6: opens the PIN2 dialog and checks its seed texts, with step 6's reserve-card note
 * only when `reserveNote` (a card whose PIN2 is still to be activated). Returns the dialog locator. */
export async function openPin2(page, p, { testMarker = true, reserveNote = false, holder = SEED_VIEW.holder } = {}) {
  await p.locator('.get-sign').click();
  const dlg = page.locator('#pin-dialog');
  await expect(dlg).toBeVisible();
  await expect(page.locator('#pin-title')).toHaveText('SITHS eID');
  await expect(page.locator('#pin-holder')).toHaveText(holder);
  await expect(page.locator('#pin-desc')).toHaveText('Vänligen ange underskriftskoden (PIN2) för att skapa en ny certifikatsbegäran');
  await expect(page.locator('#pin-sub')).toHaveText('Ange pinkod för SITHS-kort (Underskrift)');
  await expect(page.locator('#pin-label')).toHaveText('Ange underskriftskod (PIN2)');
  await expect(page.locator('#pin-ok')).toHaveText('Legitimera');
  await expect(page.locator('#pin-cancel')).toHaveText('Avbryt');
  if (reserveNote) {
    await expect(page.locator('#pin-reserve')).toBeVisible();
    await expect(page.locator('#pin-reserve')).toHaveText(`OBS! ${RESERVE_NOTE}`);
  } else {
    await expect(page.locator('#pin-reserve')).toBeHidden();
  }
  const input = page.locator('#pin-input');
  assert.equal(await input.getAttribute('type'), 'password');
  assert.equal(await input.getAttribute('inputmode'), 'numeric');
  await expect(input).toBeFocused();
  if (testMarker) await expect(page.locator('#pin-test')).toBeVisible();
  return dlg;
}

/** Tries left as the dialog shows them before entry (number, or null if not shown). */
export async function shownTries(page) {
  const v = await page.locator('#pin-tries').getAttribute('data-tries');
  return v === '' || v === null ? null : Number(v);
}

/** Step 6 → 7: submits PIN2 and waits for the download view. */
export async function submitPin2(page, pin) {
  await page.locator('#pin-input').fill(pin);
  await page.locator('#pin-ok').click();
}

/** Step 7 → 8: the download view's texts, then waits until it reports success. */
export async function waitDownloadDone(page, { timeout = 60000 } = {}) {
  await expect(page.locator('#job-dialog')).toBeVisible();
  await expect(page.locator('#job-started')).toHaveText('Hämtning startad');
  await expect(page.locator('#job-running')).toContainText('Hämtning av underskriftscertifikat pågår. Ta inte ut kortet ur läsaren under tiden.');
  await expect(page.locator('#job-progress-label')).toHaveText('SITHS eID laddas ner till kortet');
  await expect(page.locator('#job-result')).toHaveAttribute('data-result', 'done', { timeout });
  await expect(page.locator('#job-percent')).toHaveText('100%');
}
