// browser.mjs — the browser the page tests drive, chosen by SITHS_BROWSER: Debian's chromium
// (playwright-core) or Debian's firefox-esr (puppeteer-core over WebDriver BiDi, behind the
// Playwright-style layer of playwright-style.mjs), so one test source runs in both. Each browser
// gets a private HOME and profile whose own NSS database trusts the local loopback CA, so TLS is
// verified for real (never an ignore-certificate-errors switch). Collects console errors, page
// errors and CSP violations, and saves screenshots under
// $SITHS_BUILD_DIR/screenshots/<browser>/<test>/<step>.png, the browsers side by side.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BUILD, tmp, startPcscd, startBridge, until, curl, localhostCerts as harnessCerts, startTestCa, cmpIssuerArgs } from './harness.mjs';

export const BROWSERS = ['chromium', 'firefox'];
/** The browser of this run: SITHS_BROWSER (set per CTest entry), chromium by default. */
export const BROWSER = process.env.SITHS_BROWSER || 'chromium';
if (!BROWSERS.includes(BROWSER)) throw new Error(`SITHS_BROWSER=${BROWSER}: one of ${BROWSERS.join(', ')}`);

/** How a navigation to a server whose certificate this browser does not trust fails. */
export const UNTRUSTED_CERT_ERROR = { chromium: /net::ERR_CERT_AUTHORITY_INVALID/, firefox: /SEC_ERROR_UNKNOWN_ISSUER/ }[BROWSER];

// The loopback CA and server certificate of certs/localhost-ca.sh (made once per build tree).
export const localhostCerts = harnessCerts;

/**
 * Makes the NSS database in `dir` (what chromium reads from ~/.pki/nssdb, and a Firefox profile's
 * own cert9.db) trusting `ca` for TLS servers; ca null: trusting nothing local, like a browser on
 * which the certificate was never installed.
 */
export function nssDb(dir, ca) {
  mkdirSync(dir, { recursive: true });
  execFileSync('certutil', ['-N', '-d', `sql:${dir}`, '--empty-password']);
  // ca: one CA file or a list (e.g. the loopback CA and a test portal's CA).
  [].concat(ca || []).forEach((c, i) => execFileSync('certutil',
    ['-A', '-d', `sql:${dir}`, '-t', 'C,,', '-n', i ? `siths-test-${i}` : 'siths-test', '-i', c]));
  return dir;
}

/** A private HOME with chromium's NSS db trusting `ca` (see nssDb). */
export function privateHome(ca) {
  const home = tmp('home-');
  nssDb(join(home, '.pki', 'nssdb'), ca);
  return home;
}

// Problems seen on the pages of one browser: console errors, uncaught page errors, and CSP
// violations (an init script turns each into a console error). Playwright's and puppeteer's page
// events have the same shape for these two.
export function problemLog() {
  const seen = [];
  return {
    seen,
    watch(page) {
      page.on('console', (m) => { if (m.type() === 'error') seen.push(`console: ${m.text()}`); });
      page.on('pageerror', (e) => seen.push(`pageerror: ${e && e.message !== undefined ? e.message : e}`));
    },
    cspReporter: () => {
      document.addEventListener('securitypolicyviolation', (e) => {
        // eslint-disable-next-line no-console
        console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
      });
    },
  };
}

/**
 * Launches the browser of this run (or `browser`) with a fresh profile and a private HOME trusting
 * `ca` (default: the loopback CA). What only one engine understands goes in chromiumArgs
 * (command-line switches), firefoxPrefs (profile preferences) or firefoxPolicies (a policies.json
 * file: Firefox's enterprise policies for this browser alone, firefox.mjs privateInstallation());
 * each engine ignores the other's. Chromium's policies are machine-wide (portal.mjs chromiumPolicy()).
 * Returns {engine, version, context, page, home, problems, clearProblems, close}; context and page
 * have Playwright's API (the subset the tests use, for Firefox). problems() lists console errors,
 * page errors and CSP violations seen so far on every page of the context.
 */
export async function launchBrowser({ ca = localhostCerts().ca, locale = 'sv-SE', viewport = { width: 1280, height: 900 },
  browser = BROWSER, chromiumArgs = [], firefoxPrefs = {}, firefoxPolicies = null } = {}) {
  const engine = await import(browser === 'firefox' ? './firefox.mjs' : './chromium.mjs');
  return engine.launch({ ca, locale, viewport, chromiumArgs, firefoxPrefs, firefoxPolicies });
}

/**
 * Checks the TLS a page response came over, given its securityDetails(): chromium reports TLS 1.2
 * or 1.3; Firefox over WebDriver BiDi reports no TLS details at all (null), and there the load
 * itself is the proof the certificate chain was verified — the browser runs with insecure
 * certificates refused, and the untrusting-browser test shows that refusal happen.
 */
export function assertTlsVerified(br, sec) {
  if (br.engine === 'firefox') { assert.equal(sec, null, 'firefox reports no TLS details (if it now does, check them here)'); return; }
  assert.ok(sec && /^TLS 1\.[23]$/.test(sec.protocol), `TLS verified by chromium (${sec && sec.protocol})`);
}

/** Saves a full-page PNG to $SITHS_BUILD_DIR/screenshots/<browser>/<test>/<step>.png; returns its path. */
export async function screenshot(page, test, step) {
  const dir = join(BUILD, 'screenshots', BROWSER, test);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${step}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Records every value the page's <progress> takes (via a MutationObserver installed now) so a
 * test can check the bar really moved. Returns a function that reads the values seen so far.
 */
export async function recordProgress(page, selector = '#job-progress') {
  await page.evaluate((sel) => {
    const el = document.querySelector(sel);
    window.__progressSeen = [el.value];
    new MutationObserver(() => window.__progressSeen.push(el.value)).observe(el, { attributes: true, attributeFilter: ['value'] });
  }, selector);
  return () => page.evaluate(() => window.__progressSeen.slice());
}

/** The element that has focus, described as "tag#id.class" (for keyboard tests). */
export function focused(page) {
  return page.evaluate(() => {
    const a = document.activeElement;
    if (!a) return '';
    return `${a.tagName.toLowerCase()}${a.id ? `#${a.id}` : ''}${a.className && typeof a.className === 'string' ? `.${a.className.trim().split(/\s+/).join('.')}` : ''}`;
  });
}

/**
 * A stand-in for a third-party portal: an HTTPS server on another origin (https://localhost:PORT)
 * serving one page (by default an empty one), from which a test imports www/siths-bridge.js
 * cross-origin.
 */
const PORTAL_HTML = '<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Portal</title></head><body><h1>Portal</h1></body></html>';
export async function startPortal({ cert = localhostCerts().cert, key = localhostCerts().key, html = PORTAL_HTML } = {}) {
  const https = await import('node:https');
  const { readFileSync } = await import('node:fs');
  const server = https.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `https://localhost:${server.address().port}`;
  return {
    origin,
    url: (p) => `${origin}${p}`,
    stop: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

/**
 * Resolves once the daemon reports every reader empty. A test that stops its card calls it before
 * the next one starts a card on the same reader: otherwise the next page can show the old card
 * (same id) until the daemon saw it go, and a login started on that panel meets the removal.
 */
export async function readersEmpty(bridge, { timeout = 15000 } = {}) {
  await until(async () => {
    const r = await curl(bridge.url('/v1/readers'), { headers: { Origin: bridge.origin } });
    return r.status === 200 && r.json.readers.every((x) => !x.card_present);
  }, { timeout, what: 'the daemon to report the readers empty' });
}

// The real stack for a page test file (node:test before/after hooks): a private pcscd, the daemon
// (extra args) and the browser trusting the loopback CA; ready({pc, bridge, br, ca}) once all run.
// cmp: the daemon's issuer is siths-test-ca over CMP (s.ca), as in the demo.
// After the file: the browser closed, the daemon stopped with a clean exit (0: under ASan+UBSan
// also no leak or UB report), pcscd and the test CA stopped.
export function realStack({ args = [], cmp = false } = {}, ready = () => {}) {
  const s = { pc: null, bridge: null, br: null, ca: null };
  before(async () => {
    s.pc = await startPcscd();
    const mac = 'browser-order:one-secret-per-file';
    if (cmp) s.ca = await startTestCa({ args: ['--mac', mac] });
    s.bridge = await startBridge({ pcscd: s.pc, args: [...(cmp ? cmpIssuerArgs(s.ca, mac) : []), ...args] });
    s.br = await launchBrowser({ ca: localhostCerts().ca });
    ready(s);
  });
  after(async () => {
    if (s.br) await s.br.close();
    if (s.bridge) {
      const { code } = await s.bridge.stop();
      assert.equal(code, 0, `siths-bridge exit status\n${s.bridge.output.slice(-3000)}`);
    }
    if (s.pc) await s.pc.stop();
    if (s.ca) await s.ca.stop();
  });
  return s;
}
