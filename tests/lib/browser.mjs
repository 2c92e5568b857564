// browser.mjs — Debian's chromium driven by playwright-core for the page tests. The browser gets a
// private HOME whose NSS database trusts the local loopback CA, so TLS is verified for real (never
// --ignore-certificate-errors). Collects console errors, page errors and CSP violations, and saves
// screenshots under $SITHS_BUILD_DIR/screenshots/<test>/<step>.png for a person to look at.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { BUILD, tmp, startPcscd, startBridge, until, curl, localhostCerts as harnessCerts } from './harness.mjs';

export const CHROMIUM = process.env.SITHS_CHROMIUM || '/usr/bin/chromium';

// The loopback CA and server certificate of certs/localhost-ca.sh (made once per build tree).
export const localhostCerts = harnessCerts;

// A private HOME whose NSS db (what chromium uses on Linux) trusts `ca` for TLS servers (ca null:
// trusts nothing local, like a browser on which the certificate was never installed).
export function privateHome(ca) {
  const home = tmp('home-');
  const db = join(home, '.pki', 'nssdb');
  mkdirSync(db, { recursive: true });
  execFileSync('certutil', ['-N', '-d', `sql:${db}`, '--empty-password']);
  if (ca) execFileSync('certutil', ['-A', '-d', `sql:${db}`, '-t', 'C,,', '-n', 'siths-test', '-i', ca]);
  return home;
}

/**
 * Launches chromium with a fresh profile and a private HOME trusting `ca` (default: the loopback CA).
 * Returns {context, page, problems, close}. problems() lists console errors, page errors, failed
 * requests and CSP violations seen so far on every page of the context.
 */
export async function launchBrowser({ ca = localhostCerts().ca, locale = 'sv-SE', viewport = { width: 1280, height: 900 } } = {}) {
  const home = privateHome(ca);
  const context = await chromium.launchPersistentContext(join(home, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-features=Translate,MediaRouter'],
    env: { ...process.env, HOME: home },
    locale,
    viewport,
  });
  const seen = [];
  const watch = (page) => {
    page.on('console', (m) => { if (m.type() === 'error') seen.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => seen.push(`pageerror: ${e.message}`));
  };
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      // eslint-disable-next-line no-console
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  context.on('page', watch);
  const page = context.pages()[0] || await context.newPage();
  watch(page);
  return {
    context, page, home,
    problems: () => [...seen],
    clearProblems: () => { seen.length = 0; },
    close: () => context.close(),
  };
}

/** Saves a full-page PNG to $SITHS_BUILD_DIR/screenshots/<test>/<step>.png; returns its path. */
export async function screenshot(page, test, step) {
  const dir = join(BUILD, 'screenshots', test);
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
 * serving one empty page, from which a test imports www/siths-bridge.js cross-origin.
 */
export async function startPortal({ cert = localhostCerts().cert, key = localhostCerts().key } = {}) {
  const https = await import('node:https');
  const { readFileSync } = await import('node:fs');
  const server = https.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Portal</title></head><body><h1>Portal</h1></body></html>');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `https://localhost:${server.address().port}`;
  return {
    origin,
    url: (p) => `${origin}${p}`,
    stop: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

// The real stack for a page test file (node:test before/after hooks): a private pcscd, the daemon
// (extra args) and chromium trusting the loopback CA; ready({pc, bridge, br}) once all run. After
// the file: the browser closed, the daemon stopped with a clean exit (0: under ASan+UBSan also
// no leak or UB report), pcscd stopped.
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

export function realStack({ args = [] } = {}, ready = () => {}) {
  const s = { pc: null, bridge: null, br: null };
  before(async () => {
    s.pc = await startPcscd();
    s.bridge = await startBridge({ pcscd: s.pc, args });
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
  });
  return s;
}
