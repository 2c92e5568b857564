// harness.mjs — starts the real parts for integration and browser tests: a private pcscd (own
// mount namespace, vpcd readers on free ports), the virtual card process, and the daemon over
// TLS on ephemeral ports. Every process is stopped by its pid, never by name. Readiness is
// awaited on the log line each program prints, never with a fixed sleep.
import { spawn, execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, readFileSync, readdirSync, rmSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

export const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BUILD = resolve(process.env.SITHS_BUILD_DIR || join(SRC, 'build'));
export const bin = (name) => {
  for (const p of [join(BUILD, 'server', name), join(BUILD, 'card', 'sim', name), join(BUILD, name)])
    if (existsSync(p)) return p;
  throw new Error(`binary ${name} not found under ${BUILD}`);
};

const children = new Set();
function killAll() { for (const c of children) { try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ } } }
process.on('exit', killAll);

export function tmp(prefix = 'siths-') {
  const base = join(BUILD, 'tmp');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, prefix));
}

// A spawned process whose combined output is kept, with waitFor(regex) on it.
export class Proc {
  constructor(cmd, args, opts = {}) {
    this.cmd = cmd;
    this.output = '';
    this.waiters = [];
    this.child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.pid = this.child.pid;
    children.add(this.child);
    const feed = (d) => {
      this.output += d.toString();
      if (process.env.SITHS_TEST_VERBOSE) process.stderr.write(`[${cmd.split('/').pop()}] ${d}`);
      this.waiters = this.waiters.filter((w) => !w.check());
    };
    this.child.stdout.on('data', feed);
    this.child.stderr.on('data', feed);
    // Resolves once the process exited and its output was read to the end ('exit' may come first).
    this.closed = new Promise((res) => this.child.on('close', res));
    this.exited = new Promise((res) => this.child.on('exit', (code, sig) => {
      children.delete(this.child);
      this.exitCode = code; this.exitSignal = sig;
      for (const w of this.waiters) w.fail(new Error(`${cmd} exited (${code ?? sig}) while waiting for ${w.re}\n${this.output}`));
      this.waiters = [];
      res({ code, signal: sig });
    }));
  }
  // Resolves with the match once `re` appears in the output at or after byte `from`. `re` may
  // also be a function of that output, returning a truthy value (the result) once satisfied.
  waitFor(re, { from = 0, timeout = 15000 } = {}) {
    return new Promise((res, rej) => {
      const w = {
        re,
        check: () => {
          const text = this.output.slice(from);
          const m = typeof re === 'function' ? re(text) : text.match(re);
          if (m) { clearTimeout(w.t); res(m); return true; }
          return false;
        },
        fail: (e) => { clearTimeout(w.t); rej(e); },
      };
      if (w.check()) return;
      if (this.exitCode !== undefined || this.exitSignal) return rej(new Error(`${this.cmd} already exited`));
      w.t = setTimeout(() => { this.waiters = this.waiters.filter((x) => x !== w); rej(new Error(`timeout waiting for ${re} from ${this.cmd}\n${this.output}`)); }, timeout);
      this.waiters.push(w);
    });
  }
  mark() { return this.output.length; }
  // Sends `signal` and resolves with the exit once the process is gone. A process that has not
  // exited after `timeout` ms is a bug (a shutdown deadlock): its threads' stacks are taken,
  // it is killed and the stop fails with that evidence instead of hanging the test run.
  async stop(signal = 'SIGTERM', { timeout = 30000 } = {}) {
    if (this.exitCode === undefined && !this.exitSignal) {
      try { process.kill(this.pid, signal); } catch { /* gone */ }
    }
    let timer;
    const late = new Promise((res) => { timer = setTimeout(res, timeout, 'late'); });
    const r = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (r !== 'late') return r;
    const stacks = stackDump(this.pid);
    try { process.kill(this.pid, 'SIGKILL'); } catch { /* gone */ }
    await this.exited;
    throw new Error(`${this.cmd} (pid ${this.pid}) did not exit within ${timeout} ms of ${signal}\n` +
      `${stacks}\n--- its output (tail) ---\n${this.output.slice(-6000)}`);
  }
}

// Every thread's stack of a live process, for a failure message: gdb's backtraces where gdb is
// installed, else the kernel's view (wchan and state of each thread).
export function stackDump(pid) {
  try {
    return execFileSync('gdb', ['-batch', '-nx', '-p', String(pid), '-ex', 'thread apply all bt'],
      { encoding: 'utf8', timeout: 60000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const lines = [`gdb: ${e.message.split('\n')[0]}`];
    try {
      for (const t of readdirSync(`/proc/${pid}/task`)) {
        const rd = (f) => { try { return readFileSync(`/proc/${pid}/task/${t}/${f}`, 'utf8').trim(); } catch { return '?'; } };
        lines.push(`thread ${t} ${rd('comm')}: wchan=${rd('wchan')} ${rd('stat').split(' ')[2]}`);
      }
    } catch { lines.push('no /proc entry'); }
    return lines.join('\n');
  }
}

export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

function portIsFree(port) {
  return new Promise((res) => {
    const s = net.createServer();
    s.once('error', () => res(false));
    s.listen(port, '0.0.0.0', () => s.close(() => res(true)));
  });
}

// Two consecutive free ports: vpcd opens one reader on PORT and one on PORT+1.
async function freePortPair() {
  for (let i = 0; i < 50; i++) {
    const p = await freePort();
    if (p < 65534 && await portIsFree(p) && await portIsFree(p + 1)) return p;
  }
  throw new Error('no free port pair');
}

// Waits until `test()` is true, re-checking on a short interval, failing after `timeout` ms.
export async function until(test, { timeout = 10000, what = 'condition', interval = 25 } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await test();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

// A private pcscd with one vpcd driver entry, i.e. two readers on ports `port` and `port+1`.
export async function startPcscd() {
  const dir = tmp('pcscd-');
  const run = join(dir, 'run');
  const conf = join(dir, 'reader.conf.d');
  mkdirSync(run); mkdirSync(conf);
  const port = await freePortPair();
  writeFileSync(join(conf, 'vpcd'), [
    'FRIENDLYNAME "Virtual PCD"',
    `DEVICENAME   /dev/null:0x${port.toString(16).toUpperCase()}`,
    'LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so',
    `CHANNELID    0x${port.toString(16).toUpperCase()}`, ''].join('\n'));
  mkdirSync('/run/pcscd', { recursive: true });
  const sock = join(run, 'pcscd.comm');
  const pc = {
    dir, sock, ports: [port, port + 1], proc: null,
    env: { PCSCLITE_CSOCK_NAME: sock },
    async start() {
      rmSync(sock, { force: true });
      this.proc = new Proc('unshare', ['--mount', '--propagation', 'private', 'sh', '-c',
        `mount --bind '${run}' /run/pcscd && exec pcscd -f -i -c '${conf}'`]);
      await until(() => existsSync(sock), { what: 'pcscd socket' });
      // vpcd listens once pcscd has loaded the driver for both slots.
      await until(async () => !(await portIsFree(port)) && !(await portIsFree(port + 1)),
        { what: 'vpcd reader ports' });
    },
    async stop() { if (this.proc) await this.proc.stop(); this.proc = null; },
    async kill() { if (this.proc) await this.proc.stop('SIGKILL'); this.proc = null; },
  };
  await pc.start();
  return pc;
}

let pkiDir = null;
// The test SITHS hierarchy, generated once per build tree.
// The card's own view (independent of the daemon): its certificates and public keys exported
// from a virtual card's state file by siths-cardsim itself.
export function exportCerts(state) {
  const dir = tmp('export-');
  execFileSync(bin('siths-cardsim'), ['--state', state, '--pki', testPki(), '--export-certs', dir]);
  return dir;
}

export function testPki() {
  if (pkiDir) return pkiDir;
  const d = join(BUILD, 'test-pki');
  // Re-run when a file the script has learnt to make is missing: it keeps what exists.
  if (!existsSync(join(d, '.done')) || !existsSync(join(d, 'cmp-server.pem'))) {
    execFileSync(join(SRC, 'certs', 'test-siths-pki.sh'), [d]);
    writeFileSync(join(d, '.done'), '');
  }
  return (pkiDir = d);
}

let certDir = null;
// The local loopback CA and server certificate, generated once per build tree.
export function localhostCerts() {
  if (certDir) return certDir;
  const d = join(BUILD, 'test-certs');
  if (!existsSync(join(d, 'server.pem'))) execFileSync(join(SRC, 'certs', 'localhost-ca.sh'), [d]);
  return (certDir = { dir: d, ca: join(d, 'ca.pem'), cert: join(d, 'server.pem'), key: join(d, 'server.key') });
}

// The virtual card, inserted into vpcd reader `port`. `opts.args` are extra siths-cardsim options.
export async function startCard({ port, state, card, args = [], env = {} } = {}) {
  const st = state || join(tmp('card-'), 'state.bin');
  const a = ['--port', String(port), '--pki', testPki(), '--state', st];
  if (card) a.push('--card', card);
  const p = new Proc(bin('siths-cardsim'), [...a, ...args], { env: { ...process.env, ...env } });
  p.state = st;
  // Resolves once every command the card answered so far is in p.output: SIGUSR1 makes the card
  // log a mark between two commands (docs/virtual-card.md), so all it answered before is above.
  p.settled = async () => {
    const from = p.output.length;
    process.kill(p.pid, 'SIGUSR1');
    await p.waitFor(/^siths-cardsim: mark$/m, { from });
  };
  await p.waitFor(/connected/);
  return p;
}

// siths-test-ca (the CMP test CA) on an ephemeral port over its own copy of the test PKI (it writes
// cmp-revoked.txt there). .url is its CMP endpoint, .pki the copy. tls: HTTPS with the loopback
// server certificate (localhostCerts(); its ca.pem is the TLS trust).
export async function startTestCa({ args = [], tls = false } = {}) {
  const pki = tmp('testca-');
  cpSync(testPki(), pki, { recursive: true });
  const c = tls ? localhostCerts() : null;
  const p = new Proc(bin('siths-test-ca'), ['--listen', '127.0.0.1:0', '--pki', pki,
    ...(c ? ['--tls-cert', c.cert, '--tls-key', c.key] : []), ...args]);
  const m = await p.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
  p.port = Number(m[1]);
  p.pki = pki;
  p.url = `${tls ? 'https' : 'http'}://127.0.0.1:${p.port}/pkix/`;
  return p;
}

// The daemon's arguments for the CMP test CA ca (startTestCa with --mac REFERENCE:SECRET) as its
// issuer, the order given as a standing MAC file (mode 0600), so a download needs none.
export function cmpIssuerArgs(ca, mac) {
  const f = join(tmp('mac-'), 'order');
  writeFileSync(f, `${mac}\n`, { mode: 0o600 });
  return ['--issuer-cmp', ca.url, '--issuer-cmp-ca', join(testPki(), 'root-ca.pem'), '--issuer-cmp-mac-file', f,
    ...(ca.url.startsWith('https:') ? ['--issuer-cmp-tls-trusted', localhostCerts().ca] : [])];
}

// The daemon on ephemeral ports. Resolves once it logged its ready line; .https/.wss are ports.
export async function startBridge({ args = [], env = {}, pcscd } = {}) {
  const c = localhostCerts();
  const a = ['--https', '127.0.0.1:0', '--wss', '127.0.0.1:0', '--cert', c.cert, '--key', c.key,
    '--www', join(SRC, 'www'), '--log-level', 'debug', ...args];
  const p = new Proc(bin('siths-bridge'), a, { env: { ...process.env, ...(pcscd ? pcscd.env : {}), ...env } });
  const m = await p.waitFor(/ready https=\S+:(\d+) wss=\S+:(\d+)/);
  p.https = Number(m[1]);
  p.wss = Number(m[2]);
  p.origin = `https://127.0.0.1:${p.https}`;
  p.url = (path) => `https://127.0.0.1:${p.https}${path}`;
  return p;
}

// The daemon socket-activated: tests/integration/socket_launcher holds two loopback listeners and
// starts the daemon with them (as systemd's socket units do) on the first connection, and again
// on the next one after it exited. Resolves once the listeners exist (nothing runs yet);
// .https/.wss are their ports, .daemonPid(n) the pid of the n-th start. `opts` are the launcher's.
export async function startActivated({ args = [], env = {}, pcscd, opts = [] } = {}) {
  const c = localhostCerts();
  const notify = join(tmp('notify-'), 'notify.sock');
  const a = [bin('siths-bridge'), '--cert', c.cert, '--key', c.key, '--www', join(SRC, 'www'),
    '--log-level', 'debug', ...args];
  const p = new Proc(join(BUILD, 'tests', 'integration', 'socket_launcher'),
    ['--notify', notify, ...opts, '--', ...a],
    { env: { ...process.env, ...(pcscd ? pcscd.env : {}), ...env } });
  const m = await p.waitFor(/listening https=(\d+) wss=(\d+)/);
  p.https = Number(m[1]);
  p.wss = Number(m[2]);
  p.origin = `https://127.0.0.1:${p.https}`;
  p.url = (path) => `https://127.0.0.1:${p.https}${path}`;
  p.daemonPid = async (n, opt) => Number((await p.waitFor(new RegExp(`started ${n} pid=(\\d+)`), opt))[1]);
  return p;
}

// curl over real TLS against the local CA. Returns { status, headers, body, json }.
export function curl(url, { method = 'GET', headers = {}, data, args = [] } = {}) {
  const c = localhostCerts();
  const a = ['-sS', '--cacert', c.ca, '-X', method, '-D', '-', '-o', '-', '--max-time', '20'];
  for (const [k, v] of Object.entries(headers)) a.push('-H', `${k}: ${v}`);
  if (data !== undefined) a.push('--data-binary', typeof data === 'string' ? data : JSON.stringify(data));
  a.push(...args, url);
  return new Promise((res, rej) => {
    execFile('curl', a, { encoding: 'buffer', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err && !stdout.length) return rej(new Error(`curl failed: ${stderr}`));
      const text = stdout.toString('latin1');
      let i = 0, status = 0, headers = {};
      // Skip 1xx/continue blocks; the last header block is the response.
      for (;;) {
        const end = text.indexOf('\r\n\r\n', i);
        if (end < 0) break;
        const block = text.slice(i, end).split('\r\n');
        const m = block[0].match(/^HTTP\/\S+ (\d+)/);
        if (!m) break;
        status = Number(m[1]); headers = {};
        for (const l of block.slice(1)) { const k = l.indexOf(':'); if (k > 0) headers[l.slice(0, k).trim().toLowerCase()] = l.slice(k + 1).trim(); }
        i = end + 4;
        if (status >= 200) break;
      }
      const body = stdout.subarray(i).toString('utf8');
      let json; try { json = JSON.parse(body); } catch { json = undefined; }
      res({ status, headers, body, json, stderr: stderr.toString(), exitCode: err ? err.code : 0 });
    });
  });
}

export { readFileSync };

// ---- virtual card helpers (docs/virtual-card.md) ----

// The virtual card's ATR and an OPENSC_CONF that maps it to a generic ISO driver of OpenSC:
// "MaskTech" (signs; its PIN change is VERIFY + CHANGE REFERENCE DATA P1 01 and its unblock
// uses its own references) or "default" (plain ISO 7816-4 PIN commands: CHANGE REFERENCE DATA
// P1 00 old‖new, RESET RETRY COUNTER P1 00 PUK‖new; cannot sign).
export const CARDSIM_ATR = '3b:89:80:01:53:49:54:48:53:2d:53:49:4d:27';
// With --extended-length (card capabilities in the historical bytes, docs/virtual-card.md "ATR").
export const CARDSIM_ATR_EXTENDED = '3b:8f:80:01:80:73:00:00:40:59:53:49:54:48:53:2d:53:49:4d:cb';
export function openscConf({ mapAtr = true, driver = 'MaskTech' } = {}) {
  const f = join(tmp('opensc-'), 'opensc.conf');
  writeFileSync(f, ['app default {',
    driver === 'default' ? '  enable_default_driver = true;' : '',
    ...(mapAtr ? [CARDSIM_ATR, CARDSIM_ATR_EXTENDED] : []).map((atr) => `  card_atr ${atr} { driver = "${driver}"; name = "SITHS virtual card"; }`),
    '  framework pkcs15 { use_file_caching = no; }', '}', ''].join('\n'));
  return f;
}

// Runs an OpenSC tool (opensc-tool, pkcs15-tool, pkcs11-tool) against the private pcscd.
export function opensc(pc, cmd, args, { conf, timeout = 60000 } = {}) {
  return new Promise((res) => {
    execFile(cmd, args, { env: { ...process.env, ...pc.env, ...(conf ? { OPENSC_CONF: conf } : {}) }, timeout, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => res({ code: err ? (err.code ?? 1) : 0, stdout: stdout.toString(), stderr: stderr.toString() }));
  });
}

// Waits until reader `index` of the private pcscd shows a card (present=true) or none.
export async function waitCard(pc, index, { present = true, conf, timeout = 10000 } = {}) {
  await until(async () => {
    const r = await opensc(pc, 'opensc-tool', ['-l'], { conf });
    const line = r.stdout.split('\n').find((l) => l.startsWith(`${index} `));
    return line && /^\d+\s+(Yes|No)/.test(line) && (/^\d+\s+Yes/.test(line) === present);
  }, { timeout, what: `card ${present ? 'in' : 'out of'} reader ${index}`, interval: 50 });
}

// A pulled card is out until it is put back: resolves once pcscd (which polls vpcd's presence)
// reports reader `index` empty. A test that puts the same card back waits for it first: started
// again before that, the new card process is taken for the old card pcscd failed to reset after
// the pull, and is never powered up nor reported.
export const pulledOut = (pc, index = 0) => waitCard(pc, index, { present: false, conf: openscConf(), timeout: 15000 });

// Sends raw APDUs (hex strings) in one card connection via `opensc-tool -r index -s ...`.
// Resolves with [{ sw: 'XXXX', data: Buffer }] for the answered ones, plus .code and .stderr.
export async function sendApdus(pc, index, apdus, { conf } = {}) {
  const args = ['-r', String(index)];
  for (const a of apdus) args.push('-s', a);
  const r = await opensc(pc, 'opensc-tool', args, { conf });
  const out = [];
  let cur = null;
  for (const line of r.stdout.split('\n')) {
    const m = line.match(/^Received \(SW1=0x([0-9A-Fa-f]{2}), SW2=0x([0-9A-Fa-f]{2})\)/);
    if (m) { cur = { sw: (m[1] + m[2]).toUpperCase(), data: [] }; out.push(cur); continue; }
    if (line.startsWith('Sending:')) { cur = null; continue; }
    const d = cur && line.match(/^((?:[0-9A-F]{2} ){1,16})/); // hex dump: 16 bytes, then ASCII
    if (d) cur.data.push(...d[1].trim().split(' ').map((h) => parseInt(h, 16)));
  }
  const res = out.map((o) => ({ sw: o.sw, data: Buffer.from(o.data) }));
  res.code = r.code; res.stderr = r.stderr; res.stdout = r.stdout;
  return res;
}
