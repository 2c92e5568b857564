// idle_exit.test.mjs — what keeps an on-demand daemon (--idle-exit) running without a connection:
// a login session, until it ends. Logged in and with no client connected, it stays well past the
// idle time; the logout ends the session, and the daemon exits (code 0) the idle time after it —
// told by the session store, not found by asking again later.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, insert, loginOk } from '../lib/bridge-rig.mjs';

const IDLE_S = 2;

test('a login session holds the daemon past the idle time; its logout lets it exit the idle time later', async () => {
  const t = await setup({ args: ['--idle-exit', String(IDLE_S)] });
  const card = await insert(t);
  try {
    const session = await loginOk(t, card.id);
    t.events.close();
    // No connection now, only the session: nothing may end the daemon meanwhile.
    const held = t.bridge.mark();
    await new Promise((r) => setTimeout(r, 2 * IDLE_S * 1000));
    assert.equal(t.bridge.exitCode, undefined, 'exited with a live session');
    assert.doesNotMatch(t.bridge.output.slice(held), /stopping/);

    const r = await t.api(`/v1/cards/${card.id}/logout`, { method: 'POST', data: '', headers: { Authorization: `Bearer ${session}` } });
    assert.equal(r.status, 204);
    const loggedOut = Date.now();
    const { code } = await Promise.race([t.bridge.exited,
      new Promise((_, rej) => setTimeout(() => rej(new Error(`no exit after the logout\n${t.bridge.output.slice(-3000)}`)), 15000))]);
    const after = Date.now() - loggedOut;
    assert.equal(code, 0, t.bridge.output.slice(-3000));
    assert.ok(after >= IDLE_S * 1000 - 50, `exited ${after} ms after the logout`);
    assert.ok(after < IDLE_S * 1000 + 5000, `exited ${after} ms after the logout: the early end was not told`);
    assert.match(t.bridge.output, new RegExp(`stopping: unused for ${IDLE_S} s`));
  } finally {
    await card.stop();
    await t.pc.stop();
  }
});
