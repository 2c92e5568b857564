// firefox.mjs — Debian's firefox-esr driven by puppeteer-core over WebDriver BiDi, for browser.mjs,
// with Playwright's page API from playwright-style.mjs. The fresh profile's own NSS database
// (cert9.db) trusts the given CA; certificate errors are never accepted (acceptInsecureCerts off).
import { copyFileSync, existsSync, mkdirSync, readdirSync, realpathSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { tmp } from './harness.mjs';
import { nssDb, problemLog } from './browser.mjs';
import { Context } from './playwright-style.mjs';

export const FIREFOX = process.env.SITHS_FIREFOX || '/usr/bin/firefox-esr';

// On top of puppeteer's own automation prefs (no updates, telemetry or safe browsing): the page's
// language as Playwright's `locale` sets it for chromium, and no background connections of the
// browser's own. Nothing here loosens TLS or the content sandbox: firefox-esr runs headless as root
// with no MOZ_* variable or sandbox pref (its content processes run under seccomp-bpf as usual).
const prefs = (locale) => ({
  'intl.accept_languages': `${locale}, ${locale.split('-')[0]}`,
  'intl.locale.requested': locale,
  // Trust only what the profile's NSS db says: no roots taken from the operating system.
  'security.enterprise_roots.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'browser.region.network.url': '',
  'browser.search.geoip.url': '',
  'extensions.blocklist.enabled': false,
  'messaging-system.rsexperimentloader.enabled': false,
});

// Headless firefox-esr starts in 3–5 s here; puppeteer's 30 s default was hit once in a CI run.
const LAUNCH_MS = 90_000;

// Where a release build of Firefox reads its enterprise policies (EnterprisePoliciesParent.sys.mjs):
// /etc/firefox/policies/policies.json when that exists, else policies.json in the installation's
// distribution/ folder (found beside the real, symlink-resolved executable).
// browser.policies.alternatePath is honoured only in automation or Nightly builds: firefox-esr
// ignores it (about:policies: "inactive").
export const FIREFOX_SYSTEM_POLICIES = '/etc/firefox/policies/policies.json';

/**
 * A private installation of this Firefox under dir whose distribution/policies.json is a copy of
 * policiesFile: the executables copied (Firefox finds its installation from its resolved own
 * path), everything else a symlink to the real installation. Returns the executable to start.
 * A machine-wide /etc/firefox/policies/policies.json would take precedence: then this throws
 * rather than test some other policy.
 */
export function privateInstallation(dir, policiesFile) {
  if (existsSync(FIREFOX_SYSTEM_POLICIES)) {
    throw new Error(`${FIREFOX_SYSTEM_POLICIES} exists: Firefox would read it instead of the test's own policies`);
  }
  const exe = realpathSync(FIREFOX);
  const real = dirname(exe);
  mkdirSync(join(dir, 'distribution'), { recursive: true });
  for (const n of readdirSync(real)) {
    if (n === 'distribution') continue;
    if (n === basename(exe) || n === 'firefox-bin') copyFileSync(join(real, n), join(dir, n));
    else symlinkSync(join(real, n), join(dir, n));
  }
  copyFileSync(policiesFile, join(dir, 'distribution', 'policies.json'));
  return join(dir, basename(exe));
}

/** See launchBrowser() in browser.mjs; firefoxPolicies: a policies.json for this browser only. */
export async function launch({ ca, locale, viewport, firefoxPrefs = {}, firefoxPolicies = null }) {
  const home = tmp('home-');
  const profile = nssDb(join(home, 'firefox-profile'), ca);
  const browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: firefoxPolicies ? privateInstallation(join(home, 'firefox'), firefoxPolicies) : FIREFOX,
    headless: true,
    userDataDir: profile,
    acceptInsecureCerts: false,
    defaultViewport: viewport,
    extraPrefsFirefox: { ...prefs(locale), ...firefoxPrefs },
    env: { ...process.env, HOME: home },
    // A start that never prints its BiDi endpoint fails the test after LAUNCH_MS, with the
    // browser's own output on stderr (shown by ctest only for a failed test) to say why.
    timeout: LAUNCH_MS,
    dumpio: true,
  });
  const log = problemLog();
  const context = await Context.create(browser, { watch: log.watch });
  await context.addInitScript(log.cspReporter);
  const page = context.pages()[0] || await context.newPage();
  return {
    engine: 'firefox', version: await browser.version(),
    context, page, home,
    problems: () => [...log.seen],
    clearProblems: () => { log.seen.length = 0; },
    // A permission decided for origin as the user would (WebDriver BiDi permissions.setPermission).
    setPermission: (origin, name, state) => browser.defaultBrowserContext().setPermission(origin, { permission: { name }, state }),
    close: () => context.close(),
  };
}
