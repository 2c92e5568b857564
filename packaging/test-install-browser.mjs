// test-install-browser.mjs ENGINE URL CARD-NUMBER [FIREFOX-PROFILE] — run by test-install-inside.sh
// as a desktop user of the booted machine: opens URL in that user's own browser profile (Chromium
// through playwright-core, firefox-esr through puppeteer-core over WebDriver BiDi) with TLS
// verified against the user's own stores (certificate errors are never accepted) and waits for the
// virtual card's panel naming CARD-NUMBER. ENGINE chromium-refused instead expects Chromium to
// refuse URL's certificate (ERR_CERT_AUTHORITY_INVALID) and show no page. Prints one JSON line of
// what it saw; exit 1 on failure.
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';

const [engine, url, cardNumber, firefoxProfile] = process.argv.slice(2);
const PANEL = '#card-list .card-panel';
const TIMEOUT = 30000;
const home = process.env.HOME;

// The user's own Chromium profile (~/.config/chromium); Chromium on Linux trusts ~/.pki/nssdb.
async function inChromium(expectRefused) {
  const context = await chromium.launchPersistentContext(join(home, '.config', 'chromium'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    timeout: TIMEOUT,
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    if (expectRefused) return await refused(context, page);
    const response = await page.goto(url, { timeout: TIMEOUT });
    const tls = await response.securityDetails();
    await page.locator(PANEL).filter({ hasText: cardNumber }).first().waitFor({ state: 'visible', timeout: TIMEOUT });
    return { version: context.browser()?.version() ?? '', issuer: tls?.issuer ?? null, title: await page.title(),
      panel: (await page.locator(PANEL).first().innerText()).replace(/\s+/g, ' ').slice(0, 160) };
  } finally {
    await context.close();
  }
}

async function refused(context, page) {
  let error = null;
  try { await page.goto(url, { timeout: TIMEOUT }); } catch (e) { error = String(e.message).split('\n')[0]; }
  if (!/net::ERR_CERT_AUTHORITY_INVALID/.test(error ?? '')) {
    throw new Error(`expected a certificate error, got ${error ?? `the page "${await page.title()}"`}`);
  }
  return { version: context.browser()?.version() ?? '', refused: error };
}

// The Firefox profile the user's firefox-esr made (its cert9.db holds the trust), as userDataDir.
async function inFirefox() {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: '/usr/bin/firefox-esr',
    headless: true,
    userDataDir: firefoxProfile,
    acceptInsecureCerts: false,
    // Only the profile's own NSS database decides, no roots taken from the operating system.
    extraPrefsFirefox: { 'security.enterprise_roots.enabled': false },
    // Its start is seconds; twice (once in CI) it printed no endpoint within 30 s: a longer
    // wait, and the browser's own output (on stderr, shown under the check) to say why.
    timeout: 3 * TIMEOUT,
    dumpio: true,
  });
  try {
    const page = (await browser.pages())[0] || await browser.newPage();
    await page.goto(url, { timeout: TIMEOUT });
    await page.waitForFunction((sel, n) => [...document.querySelectorAll(sel)].some((p) => p.innerText.includes(n)),
      { timeout: TIMEOUT }, PANEL, cardNumber);
    return { version: await browser.version(), title: await page.title(),
      panel: (await page.$eval(PANEL, (p) => p.innerText)).replace(/\s+/g, ' ').slice(0, 160) };
  } finally {
    await browser.close();
  }
}

try {
  const seen = await (engine === 'firefox' ? inFirefox() : inChromium(engine === 'chromium-refused'));
  console.log(JSON.stringify({ engine, url, ...seen }));
} catch (e) {
  console.log(JSON.stringify({ engine, url, error: String(e.message || e).split('\n').slice(0, 6).join(' | ') }));
  process.exit(1);
}
