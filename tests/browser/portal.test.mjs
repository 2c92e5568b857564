// portal.test.mjs — Mina sidor from a portal's own public origin (https://minasidor.test:PORT on
// 127.0.0.2, tests/lib/portal.mjs) calling the real bridge on 127.0.0.1, with Local Network Access
// applying as in production, in each browser: allowed by managed policy (the whole seed flow,
// progress bar over the WebSocket), refused, not decided yet (click to connect), bridge not
// running, bridge certificate not trusted, and the page in an iframe with and without
// allow="loopback-network", the example page of docs/portal.md hosted by the portal and importing
// the module straight from the bridge (allowlisted origin only). Screenshots: $SITHS_BUILD_DIR/screenshots/<browser>/portal/.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SRC, startPcscd, startBridge, startCard, startTestCa, cmpIssuerArgs, freePort, localhostCerts } from '../lib/harness.mjs';
import { launchBrowser, screenshot, recordProgress, readersEmpty, BROWSER } from '../lib/browser.mjs';
import { startPortal, portalBrowserOptions, chromiumPolicy, managedPolicies } from '../lib/portal.mjs';
import { panel, checkSeedPanel, login, openPin2, waitDownloadDone, expect, eventually } from './steps.mjs';

let pc, bridge, portal, policies, ca;
const PORTAL_MAC = 'portal-order:portal-standing-secret';
const open = new Set();   // browsers and policy files of the running test, cleaned up after it

before(async () => {
  pc = await startPcscd();
  portal = await startPortal({ pages: {
    '/frame.html': { body: (u) => `<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Portal</title></head>
<body><h1>Portal</h1><iframe id="bridge-frame" title="SITHS" width="1200" height="800"
${u.searchParams.get('allow') === '1' ? 'allow="loopback-network; local-network-access"' : ''}
src="${portal.frameOrigin}/mina-sidor/"></iframe></body></html>` },
    // docs/portal-example.html as a portal hosts it: the page and copies of the two modules.
    '/example/': { body: () => readFileSync(join(SRC, 'docs', 'portal-example.html'), 'utf8')
      .replace('content="https://127.0.0.1:29443"', `content="${bridge.origin}"`) },
    '/example/siths-bridge.js': { type: 'text/javascript', body: () => readFileSync(join(SRC, 'www', 'siths-bridge.js')) },
    '/example/i18n.js': { type: 'text/javascript', body: () => readFileSync(join(SRC, 'www', 'i18n.js')) },
    // The same page importing both modules straight from the bridge given by ?bridge= (way b).
    '/example-from-bridge/': { body: (u) => readFileSync(join(SRC, 'docs', 'portal-example.html'), 'utf8')
      .replace("from './siths-bridge.js'", `from '${u.searchParams.get('bridge')}/siths-bridge.js'`)
      .replace("from './i18n.js'", `from '${u.searchParams.get('bridge')}/i18n.js'`)
      .replace('content="https://127.0.0.1:29443"', `content="${u.searchParams.get('bridge')}"`) },
  } });
  ca = await startTestCa({ args: ['--mac', PORTAL_MAC] });
  bridge = await startBridge({ pcscd: pc, args: [...cmpIssuerArgs(ca, PORTAL_MAC), '--allow-origin', portal.origin,
    '--allow-origin', portal.frameOrigin] });
  portal.bridgeOrigin = bridge.origin;
  policies = managedPolicies([portal.origin, portal.frameOrigin]);
  assert.deepEqual(JSON.parse(readFileSync(policies.firefox, 'utf8')),
    { policies: { LocalNetworkAccess: { SkipDomains: ['minasidor.test', 'kort.minasidor.test'] } } });
});
after(async () => {
  if (bridge) {
    const { code } = await bridge.stop();
    assert.equal(code, 0, `siths-bridge exit status\n${bridge.output.slice(-3000)}`);
  }
  if (portal) await portal.stop();
  if (pc) await pc.stop();
  if (ca) await ca.stop();
});
afterEach(async () => {
  for (const x of open) await x.close();
  open.clear();
  await readersEmpty(bridge);
});

/**
 * A browser for one case. lna: 'granted' (the managed policy `siths-bridge policies --write`
 * writes for the portal's origins: chromium's LoopbackNetworkAllowedForUrls file, firefox's
 * policies.json with LocalNetworkAccess.SkipDomains), 'blocked' (chromium
 * LoopbackNetworkBlockedForUrls; firefox has no refusing policy: the user's answer, set through
 * WebDriver BiDi) or 'prompt'.
 */
async function browserFor(lna, { trustBridge = true } = {}) {
  const origins = [portal.origin, portal.frameOrigin];
  const opts = portalBrowserOptions(portal, { bridgeCa: localhostCerts().ca, trustBridge });
  if (BROWSER === 'chromium' && lna !== 'prompt') {
    const pol = chromiumPolicy(lna, lna === 'granted' ? policies.chromium : { LoopbackNetworkBlockedForUrls: origins });
    open.add({ close: pol.remove });
  }
  if (BROWSER === 'firefox' && lna === 'granted') opts.firefoxPolicies = policies.firefox;
  const br = await launchBrowser(opts);
  open.add(br);
  if (BROWSER === 'firefox' && lna === 'blocked') for (const o of origins) await br.setPermission(o, 'loopback-network', 'denied');
  return br;
}

const shot = (page, step) => screenshot(page, 'portal', step);

// Firefox 153 reports 'prompt' also for an origin its LocalNetworkAccess policy skips, so the
// page asks for one click there (no question follows). When the request then fails, the page
// cannot tell a closed question from a bridge that does not answer: it shows both advices.
async function clickIfFirefoxAsks(page) {
  if (BROWSER !== 'firefox') {
    await expect(page.locator('#permission')).toBeHidden();
    return;
  }
  await expect(page.locator('#permission')).toBeVisible({ timeout: 20000 });
  await page.locator('#permission-connect').click();
  await expect(page.locator('#permission-dismissed')).toBeVisible({ timeout: 20000 });
}

test('allowed by managed policy: the whole seed flow from the portal, progress over the WebSocket', async () => {
  const br = await browserFor('granted');
  const card = await startCard({ port: pc.ports[0], args: ['--delay', 'realistic'] });
  try {
    const page = br.page;
    await page.goto(portal.url('/mina-sidor/'));
    if (BROWSER === 'firefox') {
      // Firefox 153 reports 'prompt' for a SkipDomains origin (docs/portal.md): one click, no question.
      await expect(page.locator('#permission')).toBeVisible({ timeout: 20000 });
      await page.locator('#permission-connect').click();
    }
    const p = panel(page);
    await expect(p).toBeVisible({ timeout: 20000 });
    await checkSeedPanel(p);
    await expect(page.locator('#permission')).toBeHidden();
    await expect(page.locator('#blocked')).toBeHidden();
    await shot(page, 'granted-1-card');
    await login(page, p, '123456');
    await openPin2(page, p);
    await page.locator('#pin-input').fill('654321');
    const seen = await recordProgress(page);
    await page.locator('#pin-ok').click();
    await waitDownloadDone(page, { timeout: 120000 });
    const values = [...new Set((await seen()).filter((v) => v > 0 && v < 100))];
    assert.ok(values.length >= 3, `the bar moved through at least three values before 100: ${values}`);
    await shot(page, 'granted-2-done');
    await page.locator('#job-close').click();
    await expect(p.locator('.sign-present')).toHaveText('Finns');
  } finally {
    await card.stop();
  }
});

test('refused: the page says the browser blocks the connection and what to do', async () => {
  const br = await browserFor('blocked');
  const page = br.page;
  await page.goto(portal.url('/mina-sidor/'));
  await expect(page.locator('#blocked')).toBeVisible({ timeout: 20000 });
  await expect(page.locator('#blocked-h')).toHaveText('Webbläsaren blockerar anslutningen till SITHS-programmet på den här datorn');
  await expect(page.locator('#blocked')).toContainText('webbplatsinställningar');
  await expect(page.locator('#blocked')).toContainText('LoopbackNetworkAllowedForUrls');
  await expect(page.locator('#unreachable')).toBeHidden();
  await expect(page.locator('#permission')).toBeHidden();
  assert.equal(await page.evaluate(() => document.querySelector('#card-list .card-panel')), null);
  await expect(page.locator('#loading')).toBeHidden();
  // Hosted by the portal: the footer names the portal as the page's source, not the bridge.
  await expect(page.locator('footer')).toHaveText('SITHS eID används av medarbetare inom vård och omsorg. Sidan kommer från minasidor.test och läser korten genom programmet siths-bridge på din dator.');
  await shot(page, 'blocked');
  await page.locator('#lang-switch').click();
  await expect(page.locator('#blocked-h')).toHaveText('The browser blocks the connection to the SITHS program on this computer');
  await expect(page.locator('footer')).toHaveText('SITHS eID is used by staff in Swedish health and social care. This page comes from minasidor.test and reads the cards through the siths-bridge program on your computer.');
  await expect(page.locator('#blocked')).toContainText('site settings');
  await shot(page, 'blocked-en');
});

test('not decided yet: the page asks for a click, and the click makes the request that asks the user', async () => {
  const br = await browserFor('prompt');
  const card = await startCard({ port: pc.ports[0] });
  try {
    const page = br.page;
    await page.goto(portal.url('/mina-sidor/'));
    await expect(page.locator('#permission')).toBeVisible({ timeout: 20000 });
    await expect(page.locator('#permission-h')).toHaveText('Tillåt anslutningen till SITHS-programmet');
    await expect(page.locator('#permission-connect')).toHaveText('Anslut till SITHS-programmet');
    await expect(page.locator('#permission-dismissed')).toBeHidden();
    await expect(page.locator('#unreachable')).toBeHidden();
    await shot(page, 'needs-permission');
    await page.locator('#permission-connect').click();
    if (BROWSER === 'chromium') {
      // Headless chromium answers the question itself, "Block" (the permission goes from prompt to
      // denied: only the click's request can have asked): the page now says the browser blocks it.
      await expect(page.locator('#blocked')).toBeVisible({ timeout: 20000 });
      await expect(page.locator('#permission')).toBeHidden();
      assert.equal(await page.evaluate(async () => (await navigator.permissions.query({ name: 'loopback-network' })).state), 'denied');
      await shot(page, 'needs-permission-refused');
    } else {
      // Firefox keeps the question open; the user answers "Allow" and the waiting request goes on.
      await br.setPermission(portal.origin, 'loopback-network', 'granted');
      const p = panel(page);
      await expect(p).toBeVisible({ timeout: 20000 });
      await checkSeedPanel(p);
      await expect(page.locator('#permission')).toBeHidden();
      await shot(page, 'needs-permission-allowed');
    }
  } finally {
    await card.stop();
  }
});

test('bridge not running: the page says how to start it', async () => {
  const br = await browserFor('granted');
  const page = br.page;
  portal.bridgeOrigin = `https://127.0.0.1:${await freePort()}`;   // nobody listens there
  try {
    await page.goto(portal.url('/mina-sidor/'));
  } finally {
    portal.bridgeOrigin = bridge.origin;
  }
  await clickIfFirefoxAsks(page);
  await expect(page.locator('#unreachable')).toBeVisible({ timeout: 20000 });
  await expect(page.locator('#unreachable')).toContainText('systemctl --user start siths-bridge-https.socket siths-bridge-wss.socket');
  await expect(page.locator('#blocked')).toBeHidden();
  await shot(page, 'not-running');
});

test('bridge certificate not trusted: the page cannot tell it from not running and gives the combined advice', async () => {
  const br = await browserFor('granted', { trustBridge: false });
  const page = br.page;
  await page.goto(portal.url('/mina-sidor/'));
  await clickIfFirefoxAsks(page);
  await expect(page.locator('#unreachable')).toBeVisible({ timeout: 20000 });
  await expect(page.locator('#unreachable')).toContainText('litar på siths-bridge-certifikatet');
  await expect(page.locator('#unreachable')).toContainText('siths-bridge doctor');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.connection),
    BROWSER === 'firefox' ? 'needs-permission' : 'not-running');
  await shot(page, 'untrusted');
});

// What the page in the portal's iframe shows: its connection state and which notices are up,
// read inside the frame (another origin: the portal page cannot look in, the automation can).
async function frameView(br) {
  const frames = br.engine === 'firefox' ? br.page._pp.frames() : br.page.frames();
  const f = frames.find((x) => x.url().startsWith(portal.frameOrigin));
  if (!f) return null;
  return f.evaluate(() => ({
    state: document.documentElement.dataset.connection || null,
    blocked: !document.querySelector('#blocked').hidden,
    permission: !document.querySelector('#permission').hidden,
    cards: document.querySelectorAll('#card-list .card-panel').length,
    holder: (document.querySelector('#card-list .card-panel') || { textContent: '' }).textContent.includes('Testperson'),
  })).catch(() => null);
}

test('in an iframe: allow="loopback-network" lets the embedded page connect; without it the browser blocks it', async () => {
  const br = await browserFor('granted');
  const card = await startCard({ port: pc.ports[0] });
  try {
    const page = br.page;
    await page.goto(portal.url('/frame.html?allow=1'));
    if (BROWSER === 'firefox') {
      // As on the top level (Firefox reports 'prompt' for a skipped domain): one click in the frame.
      await eventually(async () => assert.equal((await frameView(br) || {}).state, 'needs-permission'), { timeout: 20000 });
      const f = br.page._pp.frames().find((x) => x.url().startsWith(portal.frameOrigin));
      await f.click('#permission-connect');
    }
    await eventually(async () => {
      const v = await frameView(br);
      assert.deepEqual(v && { state: v.state, cards: v.cards }, { state: 'connected', cards: 1 });
    }, { timeout: 20000 });
    await shot(page, 'iframe-allowed');

    await page.goto(portal.url('/frame.html'));
    await eventually(async () => {
      const v = await frameView(br);
      assert.deepEqual(v && { state: v.state, blocked: v.blocked, cards: v.cards }, { state: 'blocked', blocked: true, cards: 0 });
    }, { timeout: 20000 });
    await shot(page, 'iframe-without-allow');
  } finally {
    await card.stop();
  }
});

// The example page at page.url(): connected (in Firefox after its one click), then a card
// inserted shows in its list and leaves it when pulled, live. Screenshot `step` with the card.
async function examplePageWorks(page, step) {
  if (BROWSER === 'firefox') {
    await expect(page.locator('#status')).toHaveAttribute('data-state', 'needs-permission', { timeout: 20000 });
    await expect(page.locator('#connect')).toHaveText('Anslut till SITHS-programmet');
    await page.locator('#connect').click();
  }
  await expect(page.locator('#status')).toHaveAttribute('data-state', 'connected', { timeout: 20000 });
  await expect(page.locator('#status')).toHaveText('Ansluten till SITHS-programmet på den här datorn.');
  await expect(page.locator('#connect')).toBeHidden();
  const card = await startCard({ port: pc.ports[0] });
  try {
    await expect(page.locator('#cards li')).toContainText('TSTNMT2321000156-10XK', { timeout: 20000 });
    await shot(page, step);
  } finally {
    await card.stop();
  }
  await expect(page.locator('#cards li')).toBeHidden({ timeout: 20000 });   // card-removed, live
}

test('the minimal example page of docs/portal.md works from the portal: states, the cards live', async () => {
  const br = await browserFor('granted');
  await br.page.goto(portal.url('/example/'));
  await examplePageWorks(br.page, 'example-connected');
});

test('the module imported straight from the bridge: works from an allowlisted origin, refused by CORS from another', async () => {
  // A bridge allowlisting only the portal's main origin; the LNA policy covers both origins, so
  // the one difference between the two pages below is the bridge's allowlist.
  const narrow = await startBridge({ pcscd: pc, args: ['--allow-origin', portal.origin] });
  try {
    const br = await browserFor('granted');
    const page = br.page;
    const path = `/example-from-bridge/?bridge=${encodeURIComponent(narrow.origin)}`;
    await page.goto(portal.url(path));
    await examplePageWorks(page, 'module-from-bridge');

    // Another origin of the portal, not on this bridge's allowlist: the module's answer carries no
    // Access-Control-Allow-Origin, so the browser refuses the module and the page's script never runs.
    await page.goto(`${portal.frameOrigin}${path}`);
    const refused = await page.evaluate(async (u) => {
      try { await import(u); return 'imported'; } catch (e) { return e.name; }
    }, `${narrow.origin}/siths-bridge.js`);
    assert.equal(refused, 'TypeError');
    assert.equal(await page.locator('#status').getAttribute('data-state'), null);
    assert.equal(await page.locator('#status').textContent(), '');
    await shot(page, 'module-from-bridge-refused');
  } finally {
    const { code } = await narrow.stop();
    assert.equal(code, 0, `siths-bridge exit status\n${narrow.output.slice(-3000)}`);
  }
});
