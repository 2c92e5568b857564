// activation.test.mjs — the daemon socket-activated as systemd starts it: socket_launcher holds
// the two listeners and starts the daemon on the first connection with them (LISTEN_FDS,
// LISTEN_PID, LISTEN_FDNAMES) and NOTIFY_SOCKET. /health over TLS and the WSS greeting (the card
// in pcscd) on the inherited sockets; READY=1 from the daemon's own pid only after both serve;
// the idle exit (code 0, STOPPING=1 first, not before the idle time, held off by a WebSocket
// client) and the start on the next connection; inherited sockets refused; Debian's
// systemd-socket-activate as the launcher.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { SRC, Proc, bin, curl, freePort, localhostCerts, startActivated, startCard, startPcscd } from '../lib/harness.mjs';
import { eventClient } from '../lib/events.mjs';

const IDLE_S = 2;

function daemonArgs(extra = []) {
  const c = localhostCerts();
  return [bin('siths-bridge'), '--cert', c.cert, '--key', c.key, '--www', join(SRC, 'www'),
    '--log-level', 'debug', ...extra];
}

const launch = ({ opts = [], args = [], env = {} } = {}) => startActivated({ opts, args, env });

// Resolves once a TCP connection to port was accepted (it is closed again at once).
function touch(port) {
  return new Promise((res, rej) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); res(); });
    s.once('error', rej);
  });
}

describe('socket activation', () => {
  let pc, card;
  before(async () => {
    pc = await startPcscd();
    card = await startCard({ port: pc.ports[0] });
  });
  after(async () => {
    if (card) await card.stop();
    if (pc) await pc.stop();
  });

  test('started by the first connection; /health, WSS events and READY on the inherited sockets; idle exit; started again', async () => {
    const l = await launch({ args: ['--idle-exit', String(IDLE_S)], env: pc.env });
    try {
      assert.doesNotMatch(l.output, /started/, 'nothing runs before the first connection');
      const health = await curl(`https://127.0.0.1:${l.https}/health`);
      assert.equal(health.status, 200);
      assert.equal(health.json.listeners.https, `127.0.0.1:${l.https}`);
      assert.equal(health.json.listeners.wss, `127.0.0.1:${l.wss}`);
      const pid = await l.daemonPid(1);
      assert.match(l.output, /socket-activated: listeners inherited/);
      // READY comes from the daemon itself, after its ready line, naming both listeners.
      const ready = await l.waitFor(/notify pid=(\d+) READY=1 STATUS=serving https:\/\/(\S+) and wss:\/\/(\S+)/);
      assert.equal(Number(ready[1]), pid);
      assert.equal(ready[2], `127.0.0.1:${l.https}`);
      assert.equal(ready[3], `127.0.0.1:${l.wss}`);
      assert.ok(l.output.indexOf('ready https=') < l.output.indexOf('READY=1'));

      const ev = eventClient(l);
      await ev.open;
      await ev.waitFor((m) => m.type === 'hello', { what: 'hello' });
      const ins = await ev.waitFor((m) => m.type === 'card-inserted', { what: 'the card in the greeting' });
      assert.equal(ins.card.card_number, '9752269885715693047');
      // A connected client holds the daemon well past the idle time.
      const held = l.mark();
      await new Promise((r) => setTimeout(r, 2 * IDLE_S * 1000));
      assert.doesNotMatch(l.output.slice(held), /exited|STOPPING/, 'exited with a client connected');

      const closed = Date.now();
      ev.close();
      const ex = await l.waitFor(/exited 1 code=(\d+)/, { timeout: 15000 });
      assert.equal(Number(ex[1]), 0);
      const idleFor = Date.now() - closed;
      assert.ok(idleFor >= IDLE_S * 1000, `exited ${idleFor} ms after the last client left`);
      assert.match(l.output, new RegExp(`notify pid=${pid} STOPPING=1`));
      assert.match(l.output, new RegExp(`stopping: unused for ${IDLE_S} s`));

      // The sockets stayed open: the next connection starts it again and is served.
      const again = await curl(`https://127.0.0.1:${l.https}/health`);
      assert.equal(again.status, 200);
      const pid2 = await l.daemonPid(2);
      assert.notEqual(pid2, pid);
      await l.waitFor(new RegExp(`notify pid=${pid2} READY=1`));
      const ev2 = eventClient(l);
      await ev2.open;
      const ins2 = await ev2.waitFor((m) => m.type === 'card-inserted', { what: 'the card after the restart' });
      assert.equal(ins2.card.id, ins.card.id);
      ev2.close();
    } finally {
      await l.stop();
    }
  });

  test('the first connection may be the WebSocket one; without --idle-exit the default applies', async () => {
    const l = await launch({ env: pc.env });
    try {
      const ev = eventClient(l);
      await ev.open;
      await ev.waitFor((m) => m.type === 'card-inserted', { what: 'card-inserted' });
      assert.match(l.output, /idle exit after 300 s without a connection, session or job/);
      ev.close();
    } finally {
      await l.stop();
    }
    assert.match(l.output, /exited 1 code=0/, 'SIGTERM stops it cleanly');
  });

  for (const [name, opts, why] of [
    ['on every address', ['--https-addr', '0.0.0.0'], /fd 3 \(https\): a passed socket is not on 127\.0\.0\.1 or ::1/],
    ['a UDP socket', ['--https-udp'], /fd 3 \(https\): a passed socket is not a listening TCP socket/],
    ['unnamed', ['--names', 'a:b'], /fd 3 is named "a"/],
  ]) {
    test(`an inherited listener ${name} is refused: exit 1, no READY`, async () => {
      const l = await launch({ opts: [...opts, '--once'] });
      await touch(l.wss);
      const r = await l.exited;
      assert.equal(r.code, 0, l.output);
      assert.match(l.output, /exited 1 code=1/);
      assert.match(l.output, why);
      assert.doesNotMatch(l.output, /READY=1|ready https=/);
    });
  }

  test("Debian's systemd-socket-activate starts it on the named sockets", { skip: !existsSync('/usr/bin/systemd-socket-activate') && 'no systemd-socket-activate' }, async () => {
    const [hp, wp] = [await freePort(), await freePort()];
    const p = new Proc('/usr/bin/systemd-socket-activate', ['-l', `127.0.0.1:${hp}`, '-l', `127.0.0.1:${wp}`,
      '--fdname=https:wss', ...daemonArgs(['--idle-exit', '0'])]);
    try {
      await p.waitFor(new RegExp(`Listening on 127\\.0\\.0\\.1:${wp}`));
      const health = await curl(`https://127.0.0.1:${hp}/health`);
      assert.equal(health.status, 200);
      assert.equal(health.json.listeners.wss, `127.0.0.1:${wp}`);
      const ev = eventClient({ wss: wp, origin: `https://127.0.0.1:${hp}` });
      await ev.open;
      await ev.waitFor((m) => m.type === 'hello', { what: 'hello' });
      ev.close();
      assert.doesNotMatch(p.output, /idle exit after/, '--idle-exit 0: never');
    } finally {
      await p.stop();
    }
  });
});
