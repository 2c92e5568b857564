// bench.mjs — the project's performance figures, measured side by side in one run against the
// real stack (pcscd + vpcd + virtual card + daemon over TLS): APDUs per operation against their
// minimum, enrollment wall time against the card's own time, card insert to `card-inserted`,
// /health over TLS keep-alive against nginx, memory idle and per WebSocket client. It prints
// figures and never judges a time; it fails only on a real error (a crash, a wrong answer, a
// sanitizer report). Usage: tests/bench/run.sh [--quick] (docs/benchmarks.md).
import { parseArgs } from 'node:util';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import { Proc, freePort, localhostCerts, tmp, until } from '../lib/harness.mjs';
import { setup, insert, pull, loginOk, runJob } from '../lib/bridge-rig.mjs';

const { values: opt } = parseArgs({ options: {
  quick: { type: 'boolean', default: false }, only: { type: 'string' },
} });
const SECTIONS = ['apdus', 'enrollment', 'insert', 'health', 'memory'];
const only = opt.only ? opt.only.split(',') : SECTIONS;
if (only.some((s) => !SECTIONS.includes(s))) {
  console.error(`usage: bench.mjs [--quick] [--only ${SECTIONS.join(',')}]`);
  process.exit(2);
}
const Q = opt.quick;
// How much of each figure a run takes: quick is CI's (it only has to keep the bench working).
const N = {
  inserts: Q ? 2 : 10, enrollments: Q ? 1 : 3, healthRequests: Q ? 200 : 2000, healthPairs: Q ? 2 : 7,
  wsClients: Q ? 100 : 999, // with the rig's own event client: 1,000, the daemon's ws-max-clients maximum
};

// A wrong answer ends the run (exit 1): a benchmark of a broken daemon is no figure.
const check = (ok, what) => { if (!ok) throw new Error(`wrong answer: ${what}`); };
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const f1 = (x) => x.toFixed(1), f2 = (x) => x.toFixed(2);
const nowUs = () => Number(process.hrtime.bigint() / 1000n); // CLOCK_MONOTONIC, as the card's trace
const out = (s = '') => console.log(s);

// ---- the card's side: siths-cardsim --trace (one JSON line per control code and APDU) ----
function traceOf(file) {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}
const apdus = (lines) => lines.filter((l) => l.kind);

// A card with its trace; the trace line of an APDU is written before the card answers it, so once
// the daemon has told of an operation's end every APDU of it is in the file.
async function traced(t, { slot = 0, delay = 'fast', state, args = [] } = {}) {
  const trace = join(tmp('trace-'), 'trace.jsonl');
  const card = await insert(t, { slot, state, args: ['--trace', trace, '--delay', delay, ...args] });
  card.trace = trace;
  card.lines = () => traceOf(trace);
  return card;
}

// ---- minimum APDUs, from the card's own content (its state file) and its APDU size ----
// The DER content of an EF: TLVs up to the end or the first 00/FF padding byte.
function derLength(buf) {
  let pos = 0;
  while (pos < buf.length && buf[pos] !== 0x00 && buf[pos] !== 0xff) {
    let p = pos + 1, len = buf[p++];
    if (len & 0x80) { const k = len & 0x7f; len = 0; for (let i = 0; i < k; i++) len = len * 256 + buf[p++]; }
    pos = p + len;
  }
  return Math.min(pos, buf.length);
}
function cardFiles(state) {
  const files = JSON.parse(readFileSync(state, 'utf8')).files;
  return (fid) => derLength(Buffer.from(files[fid], 'hex'));
}
// APDU sizes: a short READ BINARY returns up to 256 bytes, a short UPDATE BINARY carries 255, a
// short answer of more than 256 bytes needs a GET RESPONSE; extended length (when the card
// announces it) moves up to 65535/65536 bytes in one APDU.
const SHORT = { ne: 256, nc: 255 };
const EXTENDED = { ne: 65536, nc: 65535 };
const reads = (n, sz) => Math.ceil(n / sz.ne);
const writes = (n, sz) => Math.ceil(n / sz.nc);
// The files the card model is built from (card/siths.c): EF.DIR, ODF, TokenInfo, AODF, PrKDF,
// CDF, the authentication certificate; with a signature certificate also the PuKDF, the signing
// public key and that certificate.
const MODEL_FILES = ['2F00', '5031', '5032', '4401', '4402', '4404', '4301'];
const SIGN_FILES = ['4403', '4502', '4302'];
// Card read on insert: one SELECT (by path) and full-size READ BINARYs of each file's DER content,
// and the three PIN counters (an empty VERIFY each).
function minRead(len, sz, withSign) {
  const files = [...MODEL_FILES, ...(withSign ? SIGN_FILES : [])];
  return files.reduce((n, fid) => n + 1 + reads(len(fid), sz), 0) + 3;
}
// Login: SELECT the application DF, VERIFY PIN1, MSE, INTERNAL AUTHENTICATE. Nothing need be read
// again: the VERIFY's 9000 says PIN1's counter is full. How full, ISO 7816-4 lets no command
// tell: the first login on an inserted card pays one SELECT and one empty VERIFY after the
// card's reset to learn it (card_pin.tries_max), which the minimum for that first login counts.
const minLogin = (first) => (first ? 6 : 4);
// Download (docs/virtual-card.md, write protocol): SELECT DF, VERIFY PIN2, GENERATE (+ GET
// RESPONSE when the 270-byte public key exceeds Ne), MSE + PSO: CDS (the request's signature),
// SELECT + read the CDF (where the new entry goes), SELECT EF 4302 + write the certificate + read
// it back, SELECT the CDF + write the entry (one APDU). The daemon knows what it wrote: no re-read.
function minDownload(before, after, sz) {
  const cert = after('4302');
  return 1 + 1 + 1 + (272 > sz.ne ? 1 : 0) + 2 + (1 + reads(before('4404'), sz))
    + (1 + writes(cert, sz) + reads(cert, sz)) + 2;
}
const ratio = (n, min) => `${String(n).padStart(3)} APDUs, minimum ${String(min).padStart(3)}: ${f2(n / min)}×`;

// Waits for an event after mark `from`; returns it with its arrival time (µs, monotonic).
function arrivals(t) {
  const at = new Map();
  t.events.ws.on('message', () => at.set(t.events.msgs.length, nowUs())); // registered after the rig's own
  return (m) => at.get(t.events.msgs.indexOf(m) + 1);
}

// One card's read, logins and download, its APDUs counted. args: the virtual card's options.
async function apduRows(t, args) {
  const card = await traced(t, { args });
  const n0 = apdus(card.lines()).length;
  const before = cardFiles(card.state);
  const mark = t.events.mark();
  const session = await loginOk(t, card.id);
  await t.events.waitFor((m) => m.type === 'card-updated' && m.card.id === card.id, { from: mark, what: 'card-updated after the login' });
  const n1 = apdus(card.lines()).length;
  const mark2 = t.events.mark();
  await loginOk(t, card.id);
  await t.events.waitFor((m) => m.type === 'card-updated' && m.card.id === card.id, { from: mark2, what: 'card-updated after the second login' });
  const n1b = apdus(card.lines()).length;
  const job = await runJob(t, card.id, session);
  check(job.end && job.end.type === 'job-done', `download ended ${JSON.stringify(job.end || job.start.body)}`);
  const n2 = apdus(card.lines()).length;
  await pull(t, card); // the state file now holds the certificate written
  const after = cardFiles(card.state);
  check(after('4302') > 0, 'the card holds no signature certificate after job-done');
  // The read of a card with a signature certificate, on its next insertion.
  const again = await traced(t, { state: card.state, args });
  check(again.model.signature_certificate.present, 'the re-inserted card shows no signature certificate');
  const n3 = apdus(again.lines()).length;
  await pull(t, again);
  const sz = args.includes('--extended-length') ? EXTENDED : SHORT;
  return { before, after, rows: [
    ['card read on insert (no signature certificate)', n0, minRead(before, sz, false)],
    ['card read on insert (with signature certificate)', n3, minRead(after, sz, true)],
    ['first login (including the daemon\'s re-read)', n1 - n0, minLogin(true)],
    ['later login (including the daemon\'s re-read)', n1b - n1, minLogin(false)],
    ['download (including the daemon\'s re-read)', n2 - n1b, minDownload(before, after, sz)],
  ] };
}

async function benchApdus(t) {
  out('== APDUs per operation (counted by the virtual card, siths-cardsim --trace)');
  let files;
  for (const [what, args] of [['short APDUs only (the default card)', []],
    ['a card that announces extended length (siths-cardsim --extended-length)', ['--extended-length']]]) {
    out(`  ${what}:`);
    const r = await apduRows(t, args);
    for (const [name, n, min] of r.rows) out(`    ${name.padEnd(50)} ${ratio(n, min)}`);
    files = r;
  }
  out('  minimum: per file one SELECT and ceil(DER content / Ne) READ BINARY (Ne 256 short, 65536 extended),');
  out('  ceil(bytes / Nc) UPDATE BINARY (Nc 255 / 65535), plus the commands the operation cannot do without;');
  out('  no re-read of what the daemon already knows (docs/benchmarks.md)');
  out(`  certificate written: ${files.after('4302')} bytes; CDF content before: ${files.before('4404')} bytes`);
}

// Where the host's share of an operation goes: before the first APDU, between an answer and the
// next command (the three longest named by the APDU after them), after the last answer.
function gaps(ops, t0, t1) {
  const between = ops.slice(1).map((l, i) => ({ us: l.t_us - ops[i].done_us, after: ops[i].kind, next: l.kind }));
  const sum = between.reduce((s, g) => s + g.us, 0);
  const top = [...between].sort((a, b) => b.us - a.us).slice(0, 3).map((g) => `${f1(g.us / 1000)} ms ${g.after}→${g.next}`);
  out(`    host's share: before the first APDU ${f1((ops[0].t_us - t0) / 1000)} ms, between APDUs ${f1(sum / 1000)} ms (longest ${top.join(', ')}), after the last ${f1((t1 - ops.at(-1).done_us) / 1000)} ms`);
}

async function benchEnrollment(t) {
  out('== Enrollment wall time against the card\'s own time (siths-cardsim --delay t1)');
  const card = await traced(t, { slot: 1, delay: 't1' });
  const read = apdus(card.lines());
  const readCard = read.reduce((s, l) => s + l.card_us, 0);
  out(`  card read on insert: ${read.length} APDUs, card's own time ${f1(readCard / 1000)} ms (timing model)`);
  const session = await loginOk(t, card.id);
  const rows = [];
  for (let i = 0; i < N.enrollments; i++) {
    const n0 = apdus(card.lines()).length;
    const t0 = nowUs();
    const job = await runJob(t, card.id, session);
    const wall = nowUs() - t0;
    check(job.end && job.end.type === 'job-done', `enrollment ${i + 1} ended ${JSON.stringify(job.end || job.start.body)}`);
    const ops = apdus(card.lines()).slice(n0);
    // The card's time: from each command received to its answer; the model's charge (card_us) and
    // the simulator's own computing (a real RSA key generation, signatures) both belong to it.
    const own = ops.reduce((s, l) => s + l.done_us - l.t_us, 0), model = ops.reduce((s, l) => s + l.card_us, 0);
    rows.push({ wall, own, n: ops.length });
    out(`  enrollment ${i + 1}: wall ${f1(wall / 1000)} ms, card ${f1(own / 1000)} ms (${ops.length} APDUs; timing model ${f1(model / 1000)} ms, the simulator's computing ${f1((own - model) / 1000)} ms), bridge overhead ${f1((wall - own) / 1000)} ms = ${f2(100 * (wall - own) / own)} %`);
    gaps(ops, t0, t0 + wall);
  }
  const w = median(rows.map((r) => r.wall)), o = median(rows.map((r) => r.own));
  out(`  median: wall ${f1(w / 1000)} ms, card ${f1(o / 1000)} ms, bridge overhead ${f2(100 * (w - o) / o)} % (target ≤ 2 %)`);
  out('  (wall: POST …/signature-certificate to job-done on the WebSocket; the overhead holds pcscd, vpcd,');
  out('  the daemon and the test issuer)');
  await pull(t, card);
}

async function benchInsert(t) {
  out('== Card insert → card-inserted on the WebSocket, minus the card read itself');
  const arrival = arrivals(t);
  const rows = [];
  for (let i = 0; i < N.inserts; i++) {
    const mark = t.events.mark();
    const card = await traced(t);
    const ev = t.events.msgs.slice(mark).find((m) => m.type === 'card-inserted');
    const lines = card.lines(), a = apdus(lines);
    const conn = lines.find((l) => l.event === 'connected').t_us;
    const atr = lines.find((l) => l.control === 4).t_us;
    const r = { detect: atr - conn, toFirst: a[0].t_us - atr, read: a.at(-1).done_us - a[0].t_us, toEvent: arrival(ev) - a.at(-1).done_us };
    r.total = arrival(ev) - conn;
    rows.push(r);
    await pull(t, card);
  }
  const m = (k) => f1(median(rows.map((r) => r[k])) / 1000);
  out(`  medians of ${rows.length}: total ${m('total')} ms = pcscd/vpcd noticing the card ${m('detect')} ms`);
  out(`    + ATR to the first APDU ${m('toFirst')} ms + card read ${m('read')} ms + last answer to the event ${m('toEvent')} ms`);
  const own = rows.map((r) => r.toFirst + r.toEvent);
  out(`  the daemon's own share (ATR → first APDU + last answer → event): ${f1(median(own) / 1000)} ms (target ≤ 5 ms)`);
  out(`  without the card read, pcscd's polling included: ${f1(median(rows.map((r) => r.total - r.read)) / 1000)} ms`);
}

// ---- /health against nginx: same JSON, same certificate, same TLS versions and ciphers ----
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
function nginxConf(dir, port, body) {
  const c = localhostCerts();
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${c.cert};
    ssl_certificate_key ${c.key};
    # server/net/http.c TLS_PRIORITIES: TLS 1.3 and 1.2, ECDHE, CHACHA20-POLY1305 then AES-256-GCM then
    # AES-128-GCM, the server's order.
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256;
    ssl_conf_command Ciphersuites TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256;
    ssl_prefer_server_ciphers on;
    location = /health { default_type application/json; return 200 '${body}'; }
  }
}
`;
}
// One curl, n requests over one kept-alive TLS connection: the seconds of requests 2..n as curl
// itself times each transfer (the first holds the TLS handshake, the process start none of them).
// Every answer's status is checked, so a refused request is a wrong answer, not a fast one.
function curlKeepAlive(url, n) {
  const args = ['-sS', '--cacert', localhostCerts().ca, '-w', '%{http_code} %{time_total} %{num_connects}\\n', '--max-time', '120'];
  for (let i = 0; i < n; i++) args.push('-o', '/dev/null', url);
  const r = spawnSync('curl', args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const rows = r.stdout.split('\n').filter(Boolean).map((l) => l.split(' '));
  check(r.status === 0 && rows.length === n && rows.every((c) => c[0] === '200'), `${url}: curl ${r.status}, ${rows.length} answers (${[...new Set(rows.map((c) => c[0]))].join(',')}) ${r.stderr.slice(0, 300)}`);
  check(rows.slice(1).every((c) => c[2] === '0'), `${url}: the connection was not kept alive`);
  return rows.slice(1).reduce((sum, c) => sum + Number(c[1]), 0) * 1e6;
}

async function benchHealth(t) {
  out('== /health over TLS keep-alive, the daemon against nginx (same JSON, certificate and TLS settings)');
  if (!NGINX) { out('  nginx not installed: packaging/deps.sh --test installs it (tests/bench/run.sh does); figure not taken'); return; }
  const h = await t.api('/health');
  check(h.status === 200 && h.json && h.json.status, `/health: ${h.status} ${h.body}`);
  const body = h.body.replace(/'/g, "\\'");
  const dir = tmp('nginx-'), port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), nginxConf(dir, port, body));
  const ng = new Proc(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')]);
  try {
    const get = () => spawnSync('curl', ['-s', '--cacert', localhostCerts().ca, `https://127.0.0.1:${port}/health`], { encoding: 'utf8' });
    await until(() => get().status === 0, { what: `nginx listening (${ng.output})`, timeout: 10000 });
    const same = get().stdout;
    check(same === h.body, `nginx serves another body: ${same}`);
    const bridge = t.bridge.url('/health'), nginx = `https://127.0.0.1:${port}/health`;
    curlKeepAlive(bridge, 20); curlKeepAlive(nginx, 20); // warm-up
    const pairs = [];
    for (let i = 0; i < N.healthPairs; i++) {
      const a = curlKeepAlive(bridge, N.healthRequests), b = curlKeepAlive(nginx, N.healthRequests);
      pairs.push({ a, b, r: b / a });
    }
    const rate = (us) => ((N.healthRequests - 1) * 1e6) / us;
    out(`  ${N.healthRequests} requests on one connection, ${pairs.length} pairs run in turn (daemon, nginx, daemon, …):`);
    out(`  daemon ${Math.round(rate(median(pairs.map((p) => p.a))))} req/s, nginx ${Math.round(rate(median(pairs.map((p) => p.b))))} req/s (medians)`);
    out(`  daemon/nginx throughput: median ${f2(median(pairs.map((p) => p.r)))}× (pairs ${pairs.map((p) => f2(p.r)).join(' ')}; target ≥ 0.8×)`);
    out('  (curl -w time_total of requests 2..n: neither the handshake nor curl\'s start is in the figure)');
  } finally {
    await ng.stop('SIGTERM');
  }
}

// ---- memory: PSS of the daemon idle and with many WebSocket clients ----
function pssKb(pid) {
  const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  check(m, `no Pss in /proc/${pid}/smaps_rollup`);
  return Number(m[1]);
}
function wsClient(t) {
  const ws = new WebSocket(`wss://127.0.0.1:${t.bridge.wss}/v1/events`, { ca: readFileSync(localhostCerts().ca), origin: t.bridge.origin });
  const hello = new Promise((res, rej) => {
    ws.once('message', (d) => res(JSON.parse(d.toString())));
    ws.once('error', rej);
    ws.once('close', (code) => rej(new Error(`WebSocket closed (${code}) before its hello`)));
  });
  return { ws, hello };
}
async function benchMemory(t) {
  out('== Memory of the daemon (PSS, /proc/PID/smaps_rollup)');
  const pid = t.bridge.pid;
  const idle = pssKb(pid);
  out(`  idle (one event client): ${f1(idle / 1024)} MB`);
  const clients = [];
  for (let i = 0; i < N.wsClients; i += 50) { // 50 handshakes at a time
    const batch = Array.from({ length: Math.min(50, N.wsClients - i) }, () => wsClient(t));
    const hellos = await Promise.all(batch.map((c) => c.hello));
    check(hellos.every((m) => m.type === 'hello'), 'a WebSocket client got something else than hello first');
    clients.push(...batch);
  }
  const h = await t.api('/health');
  check(h.json.listeners.wss_clients === N.wsClients + 1, `/health counts ${h.json.listeners.wss_clients} WebSocket clients, ${N.wsClients + 1} are open`);
  const busy = pssKb(pid);
  out(`  with ${N.wsClients + 1} WebSocket clients: ${f1(busy / 1024)} MB (+${f1((busy - idle) / 1024)} MB, ${f1((busy - idle) / N.wsClients)} KB per client; target ≤ 10 KB)`);
  await Promise.all(clients.map((c) => new Promise((res) => { c.ws.once('close', res); c.ws.close(); })));
  await until(async () => (await t.api('/health')).json.listeners.wss_clients === 1, { what: 'the daemon seeing the clients gone', timeout: 30000 });
  out(`  after they closed: ${f1(pssKb(pid) / 1024)} MB`);
}

const started = Date.now();
out(`siths-bridge benchmarks (${Q ? 'quick' : 'full'} mode), ${new Date().toISOString()}`);
const t = await setup({ issuer: 'test-issuer', args: ['--ws-max-clients', '1000'] });
try {
  if (only.includes('apdus')) await benchApdus(t);
  if (only.includes('enrollment')) await benchEnrollment(t);
  if (only.includes('insert')) await benchInsert(t);
  if (only.includes('health')) await benchHealth(t);
  if (only.includes('memory')) await benchMemory(t);
} finally {
  await t.close(); // throws on a daemon exit other than 0 or a sanitizer report
}
out(`done in ${f1((Date.now() - started) / 1000)} s`);
