// chromium.mjs — Debian's chromium driven by playwright-core, for browser.mjs: a fresh profile and
// a private HOME whose NSS db (~/.pki/nssdb, what chromium reads on Linux) trusts the given CA.
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { privateHome, problemLog } from './browser.mjs';

export const CHROMIUM = process.env.SITHS_CHROMIUM || '/usr/bin/chromium';

/** See launchBrowser() in browser.mjs. */
export async function launch({ ca, locale, viewport, chromiumArgs = [] }) {
  const home = privateHome(ca);
  const context = await chromium.launchPersistentContext(join(home, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    // --no-sandbox: chromium refuses to start its sandbox as root (these tests run as root).
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-features=Translate,MediaRouter', ...chromiumArgs],
    env: { ...process.env, HOME: home },
    locale,
    viewport,
  });
  const log = problemLog();
  await context.addInitScript(log.cspReporter);
  context.on('page', log.watch);
  const page = context.pages()[0] || await context.newPage();
  log.watch(page);
  return {
    engine: 'chromium', version: context.browser() ? context.browser().version() : await page.evaluate(() => navigator.userAgent),
    context, page, home,
    problems: () => [...log.seen],
    clearProblems: () => { log.seen.length = 0; },
    close: () => context.close(),
  };
}
