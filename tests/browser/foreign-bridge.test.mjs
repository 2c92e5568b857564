// foreign-bridge.test.mjs — why each user has a CA of their own: a listener on this user's port
// with another user's certificate (a fake bridge that would collect PINs) is refused by this
// user's chromium with a certificate error, and the page never loads. Both users' certificates
// and this user's trust come from certs/user-trust.sh, the user service's step, on private
// HOMEs; the listener is the real daemon, serving this user (same uid, so the peer check lets
// the connection through: only the certificate stands in the way).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { SRC, tmp, freePort, startBridge } from '../lib/harness.mjs';
import { CHROMIUM } from '../lib/chromium.mjs';

// A user's HOME after their service's first start: their own CA, trusted in their own stores.
function userHome() {
  const home = tmp('home-');
  execFileSync(join(SRC, 'certs', 'user-trust.sh'), [], { env: { ...process.env, HOME: home }, stdio: 'ignore' });
  const certs = join(home, '.local', 'state', 'siths-bridge', 'certs');
  return { home, cert: join(certs, 'server.pem'), key: join(certs, 'server.key') };
}

// Every step bounded: a browser or daemon that stops answering fails the step that waited on it
// (twice this test ran into ctest's 300 s timeout instead, with nothing said of where). Longer
// than two page loads (20 s each) plus the daemon's bounded stop (30 s, then its threads' stacks
// taken by gdb, up to 60 s), so a daemon that does not stop fails with its stacks.
const STEP = { timeout: 150000 };

let alice, bob, port, context;
before(async () => {
  alice = userHome();
  bob = userHome();
  port = await freePort();
  // Alice's chromium: her HOME, so her ~/.pki/nssdb as user-trust.sh left it, and nothing else.
  context = await chromium.launchPersistentContext(join(alice.home, 'chromium-profile'), {
    executablePath: CHROMIUM, headless: true, env: { ...process.env, HOME: alice.home },
    // The flags of tests/lib/browser.mjs's launchBrowser(), which makes a HOME of its own.
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-features=Translate,MediaRouter'],
    timeout: 60000,
  });
}, STEP);
after(async () => { await context?.close(); }, STEP);

// A navigation the browser refuses for the certificate. Chromium rejects goto() at once and
// commits its error page (chrome-error://) a little later; a close or a navigation sent before
// that commit races it, and Chromium then acknowledges Target.closeTarget without closing the
// page, so page.close() never returns (playwright#42366). The commit ends the step.
async function refused(page, url) {
  const committed = page.waitForEvent('framenavigated',
    { predicate: (f) => f === page.mainFrame() && f.url().startsWith('chrome-error:'), timeout: 20000 });
  committed.catch(() => {}); // awaited below; a goto that fails first must not leave it unhandled
  await assert.rejects(page.goto(url, { timeout: 20000 }), /net::ERR_CERT_AUTHORITY_INVALID/, url);
  await committed;
}

// The daemon on the port with `who`'s certificate; `fn` runs while it serves.
async function serving(who, fn) {
  const b = await startBridge({ args: ['--https', `127.0.0.1:${port}`, '--cert', who.cert, '--key', who.key] });
  try { return await fn(b); } finally {
    const { code } = await b.stop();
    assert.equal(code, 0, b.output.slice(-2000));
  }
}

test('a listener with another user\'s certificate on the port: ERR_CERT_AUTHORITY_INVALID, no page', STEP, async () => {
  const page = await context.newPage();
  try {
    await serving(bob, async (b) => {
      for (const host of ['127.0.0.1', 'localhost']) await refused(page, `https://${host}:${port}/`);
      // The browser broke the handshake off: nothing was sent over it.
      assert.match(b.output, /refused by libmicrohttpd: .*handshake/);
    });
  } finally { await page.close(); }
});

test('control: the same browser opens the page of a listener with this user\'s own certificate', STEP, async () => {
  const page = await context.newPage();
  try {
    await serving(alice, async () => {
      const res = await page.goto(`https://127.0.0.1:${port}/`, { timeout: 20000 });
      assert.equal(res.status(), 200);
      assert.match(await page.title(), /Mina sidor/);
      const health = await page.evaluate(async () => (await fetch('/health')).json());
      assert.equal(health.listeners.https, `127.0.0.1:${port}`);
    });
  } finally { await page.close(); }
});
