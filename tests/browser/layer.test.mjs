// layer.test.mjs — the page operations the browser tests rely on behave alike in both browsers:
// Playwright itself in chromium, tests/lib/playwright-style.mjs over puppeteer in Firefox. Each
// check can fail: a wait on something that never happens times out, a locator matching two
// elements is refused, a click on a covered or disabled button waits, fill and keys reach the page
// as input events, and a page whose certificate the browser does not trust does not load.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, startPortal, UNTRUSTED_CERT_ERROR, localhostCerts } from '../lib/browser.mjs';
import { startFakeBridge } from './fake-bridge.mjs';
import { expect, eventually } from './steps.mjs';

let br, page, portal;

const HTML = `<!doctype html><html><body>
<a id="first" href="#x">first</a>
<ul><li class="item">Alpha one</li><li class="item">Beta two</li></ul>
<p id="gone" style="display:none">hidden text</p>
<p id="ghost" style="visibility:hidden">ghost</p>
<div id="box"><span class="in">inner A</span></div>
<button id="covered">covered</button><div id="overlay" style="position:fixed;inset:0;background:rgba(0,0,0,.2)"></div>
<button id="off" disabled>off</button>
<input id="field" value="old">
<script>
  window.clicks = []; window.inputs = 0;
  for (const b of document.querySelectorAll('button')) b.addEventListener('click', () => clicks.push(b.id));
  document.getElementById('field').addEventListener('input', () => window.inputs++);
</script></body></html>`;

before(async () => {
  br = await launchBrowser();
  portal = await startPortal({ html: HTML });
  page = await br.context.newPage();
  await page.goto(portal.url('/'));
});
after(async () => { await br.close(); await portal.stop(); });

test('waits time out on what never happens; strictness; visible and hidden', async () => {
  await expect(page.locator('#gone')).toBeHidden();
  await expect(page.locator('#ghost')).toBeHidden();
  await expect(page.locator('#nothing')).toBeHidden();
  await expect(page.locator('#box .in')).toBeVisible();
  await assert.rejects(page.locator('#gone').waitFor({ state: 'visible', timeout: 300 }), /timeout/i);
  await assert.rejects(page.locator('#box').waitFor({ state: 'hidden', timeout: 300 }), /timeout/i);
  await assert.rejects(page.locator('.item').textContent({ timeout: 300 }), /strict mode violation/);
  assert.equal(await page.locator('.item').count(), 2);
  assert.deepEqual(await page.locator('.item').allInnerTexts(), ['Alpha one', 'Beta two']);
  assert.equal(await page.locator('.item').nth(1).textContent(), 'Beta two');
  assert.equal(await page.locator('.item').last().textContent(), 'Beta two');
  assert.equal(await page.locator('.item').filter({ hasText: 'alpha' }).textContent(), 'Alpha one');
  assert.equal(await page.locator('ul').locator('.item').first().innerText(), 'Alpha one');
  assert.equal(await page.getAttribute('#field', 'value'), 'old');
  assert.equal(await page.locator('#box').evaluate((el, suffix) => el.id + suffix, '!'), 'box!');
  await assert.rejects(expect(page.locator('#box')).toHaveText('something else', { timeout: 300 }));
});

test('a click waits while the button is covered or disabled, then reaches it', async () => {
  await assert.rejects(page.locator('#covered').click({ timeout: 300 }), /timeout/i);
  assert.ok(await page.locator('#off').isDisabled());
  await assert.rejects(page.locator('#off').click({ timeout: 300 }), /timeout/i);
  assert.deepEqual(await page.evaluate(() => window.clicks), [], 'nothing clicked through the overlay');
  await page.evaluate(() => { document.getElementById('overlay').remove(); document.getElementById('off').disabled = false; });
  await page.locator('#covered').click();
  await page.locator('#off').click();
  assert.deepEqual(await page.evaluate(() => window.clicks), ['covered', 'off']);
});

test('fill and the keyboard reach the page as input, focus moves with Tab and Shift+Tab', async () => {
  await page.locator('#field').fill('123456');
  assert.equal(await page.locator('#field').inputValue(), '123456');
  assert.ok(await page.evaluate(() => window.inputs) >= 1, 'fill fired input events');
  await page.locator('#field').fill('');
  assert.equal(await page.locator('#field').inputValue(), '');
  await page.keyboard.type('42');
  assert.equal(await page.locator('#field').inputValue(), '42');
  await expect(page.locator('#field')).toBeFocused();
  await page.keyboard.press('Shift+Tab');
  await expect(page.locator('#off')).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(page.locator('#field')).toBeFocused();
});

test('a locator outlives a navigation: a wait started on one document ends on the next', async () => {
  const next = `${portal.url('/')}?next`;
  const waiting = page.locator('#after').waitFor({ timeout: 10000 });
  await page.evaluate((u) => { setTimeout(() => { location.href = u; }, 50); }, next);
  await eventually(async () => assert.equal(page.url(), next));
  await page.evaluate(() => { const p = document.createElement('p'); p.id = 'after'; p.textContent = 'after'; document.body.append(p); });
  await waiting;
  await page.goto(portal.url('/'));
});

test('console errors and page errors are collected', async () => {
  br.clearProblems();
  await page.evaluate(() => { console.error('seen by the test'); setTimeout(() => { throw new Error('thrown by the page'); }); });
  await eventually(() => {
    const p = br.problems();
    assert.ok(p.some((x) => /console: seen by the test/.test(x)), p.join('\n'));
    assert.ok(p.some((x) => /pageerror: .*thrown by the page/.test(x)), p.join('\n'));
  });
  br.clearProblems();
});

test('an untrusted certificate stops the page; a CSP violation is collected', async () => {
  const certs = localhostCerts();
  const fb = await startFakeBridge({ cert: certs.cert, key: certs.key });
  const untrusting = await launchBrowser({ ca: null });
  try {
    await assert.rejects(untrusting.page.goto(fb.url('/')), UNTRUSTED_CERT_ERROR);
    // The same page in the trusting browser loads: the refusal was the certificate's.
    assert.equal((await page.goto(fb.url('/'))).status(), 200);
    await expect(page.locator('h1')).toHaveText('Hämta underskriftscertifikat');
    br.clearProblems();
    // An image from another origin: the page's CSP (img-src 'self' data:) blocks it.
    await page.evaluate(() => { const i = document.createElement('img'); i.src = 'https://127.0.0.1:9/x.png'; document.body.append(i); });
    await eventually(() => assert.ok(br.problems().some((x) => /CSP violation: img-src/.test(x)), br.problems().join('\n')));
    br.clearProblems();
  } finally {
    await untrusting.close();
    await fb.stop();
  }
});
