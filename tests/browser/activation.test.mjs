// activation.test.mjs — the page against a socket-activated daemon (tests/integration/
// socket_launcher, as systemd's user sockets start it), in Debian's chromium or firefox-esr: the
// page's first load starts the daemon and shows the card; after the last page closed the daemon
// exits when idle and the next page starts it again and shows the card; and when the daemon goes
// away under an open page (stopped, or crashed), the page's reconnect starts it again through the
// socket and shows the card again, without a reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startActivated, startCard, startPcscd } from '../lib/harness.mjs';
import { launchBrowser, screenshot } from '../lib/browser.mjs';
import { panel, checkSeedPanel, expect } from './steps.mjs';

const IDLE_S = 2;
let pc, card, l, br;

before(async () => {
  pc = await startPcscd();
  card = await startCard({ port: pc.ports[0] });
  // chromium keeps its idle HTTPS connections open after the page closed, until the daemon
  // closes them after conn-timeout: short here, so that the idle exit comes soon.
  l = await startActivated({ pcscd: pc, args: ['--idle-exit', String(IDLE_S), '--conn-timeout', '3'] });
  br = await launchBrowser();
});
after(async () => {
  if (br) await br.close();
  if (l) await l.stop();
  if (card) await card.stop();
  if (pc) await pc.stop();
});

async function openAndSeeCard(step) {
  const page = await br.context.newPage();
  const resp = await page.goto(l.url('/'));
  assert.equal(resp.status(), 200);
  await expect(page.locator('#connection')).toBeHidden();
  await checkSeedPanel(panel(page));
  await screenshot(page, 'activation', step);
  return page;
}

test('the first page load starts the daemon; after the page closed it exits idle; the next page starts it again', async () => {
  assert.doesNotMatch(l.output, /started/);
  const page = await openAndSeeCard('01-first-start');
  await l.daemonPid(1);
  await page.close();
  await l.waitFor(/exited 1 code=0/, { timeout: 30000 });
  assert.match(l.output, new RegExp(`stopping: unused for ${IDLE_S} s`));
  const again = await openAndSeeCard('02-after-idle-exit');
  await l.daemonPid(2);
  await again.close();
});

for (const [how, signal] of [['stopped', 'SIGTERM'], ['killed', 'SIGKILL']]) {
  test(`the daemon ${how} under an open page: its reconnect starts it again and shows the card`, async () => {
    const page = await openAndSeeCard(`03-open-${how}`);
    const n = (l.output.match(/started \d+/g) || []).length;
    const pid = await l.daemonPid(n);
    const before = l.mark();
    process.kill(pid, signal);
    await l.waitFor(new RegExp(`exited ${n} (code|signal)=`));
    // The page notices (its WebSocket closed), reconnects; the socket starts the daemon.
    const pid2 = await l.daemonPid(n + 1, { timeout: 30000 });
    assert.notEqual(pid2, pid);
    // The page's own WebSocket is the new daemon's client: its greeting carries the card.
    await l.waitFor(/INFO ws: client \S+ connected/, { from: l.output.indexOf(`started ${n + 1} `, before) });
    await expect(page.locator('#connection')).toBeHidden();
    await checkSeedPanel(panel(page));
    await screenshot(page, 'activation', `04-reconnected-${how}`);
    await page.close();
  });
}
