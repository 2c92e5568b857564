// campaign.mjs — fault campaigns against the real stack (pcscd + vpcd + virtual card + daemon
// over TLS): the card pulled at every APDU position of a download and of a login, pcscd killed
// (SIGKILL) while idle, during the card read at insertion and at every APDU position of a
// download. After each fault the same card (same state file) goes back in, the daemon's model
// must agree with OpenSC and with the card's own key, and the operation must succeed on a retry.
// Prints its figures; exits 1 on any inconsistency. Usage: tests/campaigns/run.sh (README.md).
import { parseArgs } from 'node:util';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate, createPublicKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { bin, openscConf, pulledOut, startCard, testPki, tmp } from '../lib/harness.mjs';
import { setup, insert, pull, login, loginOk, download, cardModel, modelUntil, exportCerts, keepLog } from '../lib/bridge-rig.mjs';
import { openscCardView, triesOf } from '../lib/opensc-checks.mjs';

const KINDS = ['download', 'login', 'pcscd'];
const { values: opt } = parseArgs({ options: {
  kind: { type: 'string', default: 'all' }, every: { type: 'string', default: '1' }, verbose: { type: 'boolean', default: false },
  only: { type: 'string' },
} });
const every = Number(opt.every);
const kinds = opt.kind === 'all' ? KINDS : opt.kind.split(',');
if (!(every >= 1) || !Number.isInteger(every) || kinds.some((k) => !KINDS.includes(k))) {
  console.error(`usage: campaign.mjs [--kind ${KINDS.join("|")}|all] [--every K] [--only N,M] [--verbose]`);
  process.exit(2);
}

// An inconsistency found at a position (as opposed to a broken rig, which aborts the campaign).
class Inconsistent extends Error {}
const check = (ok, what) => { if (!ok) throw new Inconsistent(what); };

// ---- the card's log (siths-cardsim --verbose: one line per answered APDU) ----
const APDU = /^siths-cardsim: (\S+) [0-9A-F]{8} len \S+ -> [0-9A-F]{4}$/gm;
const apduKinds = (text) => [...text.matchAll(APDU)].map((m) => m[1]);
// Resolves once the card has answered n APDUs since it connected (kills synchronise on this).
const answered = (card, n) => card.waitFor((text) => apduKinds(text).length >= n || null, { timeout: 30000 });
// The line of a --drop-at any:K pull: which kind of command it met.
const pulledAt = async (card, k) => (await card.waitFor(new RegExp(`card pulled \\(--drop-at any:${k}\\) at (\\S+)`), { timeout: 30000 }))[1];

// Positions 1..n tried: every K-th from the first, and always the last; or only those of --only
// (a list such as 8,25: to repeat a finding).
const only = opt.only ? opt.only.split(',').map(Number) : null;
const positions = (n) => [...Array(n).keys()].map((i) => i + 1)
  .filter((p) => (only ? only.includes(p) : (p - 1) % every === 0 || p === n));

// ---- one rig per campaign kind: pcscd, the daemon, its events, a pristine card state ----
async function rig() {
  const t = await setup();
  t.conf = openscConf();
  t.pristine = join(tmp('pristine-'), 'state.json');
  execFileSync(bin('siths-cardsim'), ['--state', t.pristine, '--pki', testPki(), '--export-certs', join(t.pristine, '..', 'export')]);
  // Each position starts from a fresh copy of the same card (its keys made once).
  t.freshState = () => { const s = join(tmp('card-'), 'state.json'); copyFileSync(t.pristine, s); return s; };
  return t;
}

const spki = (key) => (key.type === 'public' ? key : createPublicKey(key)).export({ type: 'spki', format: 'der' });

// The daemon's model of the card against OpenSC's reading of it and the card's own key (its
// state file exported by siths-cardsim): certificate present in both or neither, a present one
// certifying the key the PuKDF lists and the card signs with, PIN counters equal and at 3 (the
// campaigns only present right codes, so a pull may never cost a try). Returns the certificate
// (PEM) or null.
async function agreement(t, card) {
  const m = await cardModel(t, card.id);
  check(m, 'the daemon lists the card back');
  const v = await openscCardView(t.pc, t.conf);
  check(m.signature_certificate.present === (v.cert !== null),
    `certificate: daemon present=${m.signature_certificate.present}, OpenSC ${v.cert ? 'reads one' : 'finds none'}`);
  if (v.cert) {
    const own = readFileSync(join(exportCerts(card.state), 'sign-pub.pem'));
    const certKey = spki(new X509Certificate(v.cert).publicKey);
    check(certKey.equals(spki(v.pub)), 'the certificate OpenSC reads certifies another key than the PuKDF lists');
    check(certKey.equals(spki(own)), "the certificate OpenSC reads does not certify the card's signing key");
  }
  for (const [which, sw] of Object.entries(v.pins)) {
    const c = triesOf(sw), d = m.pins[which];
    check(d.tries_left === c.tries_left && d.blocked === c.blocked,
      `${which}: daemon ${JSON.stringify(d)}, card (OpenSC) ${sw}`);
    check(c.tries_left === 3, `${which} at ${sw}: a pull cost a try`);
  }
  return v.cert;
}

const JOB_END = new Set(['job-done', 'job-failed', 'job-interrupted']);
const jobEvent = (t, job, from, types = JOB_END) =>
  t.events.waitFor((m) => types.has(m.type) && m.job === job, { from, timeout: 60000, what: `end of job ${job}` });
const endName = (e) => (e.type === 'job-done' ? 'job-done' : `${e.type} ${e.code}`);

// Login then download on the card back; the download must end job-done with a certificate
// OpenSC reads and that certifies the card's key.
async function retry(t, card, { downloadToo = true } = {}) {
  const session = await loginOk(t, card.id);
  if (!downloadToo) return;
  const from = t.events.mark();
  const r = await download(t, card.id, session);
  check(r.status === 202, `retry download: ${r.status} ${r.body}`);
  const end = await jobEvent(t, r.json.job, from, new Set(['job-done', 'job-failed']));
  check(end.type === 'job-done', `retry download: ${JSON.stringify(end)}`);
  await modelUntil(t, card.id, (m) => m.signature_certificate.present, 'certificate in the model after the retry');
  check(await agreement(t, card) !== null, 'after the retry: certificate on the card');
}

// The card back (same state), the job's last word if it was interrupted, the model checked.
// Returns { end (the job's final event or null), cert }.
async function back(t, state, job, from, end) {
  await pulledOut(t.pc);
  const card = await insert(t, { state });
  try {
    let final = end;
    if (end && end.type === 'job-interrupted') {
      final = await jobEvent(t, job, from, new Set(['job-done', 'job-failed']));
      check(final.type === 'job-done' || final.code === 'card_removed', `interrupted job ended ${JSON.stringify(final)}`);
    }
    const cert = await agreement(t, card);
    return { card, final, cert };
  } catch (e) { await pull(t, card); throw e; }
}

// The job's first word fits where the fault hit: done only with the commit carried out,
// interrupted only once the commit was sent, failed (before the commit) only as card_removed.
function jobEndFits(end, { committed, sent }, where) {
  const ok = end.type === 'job-done' ? committed : end.type === 'job-interrupted' ? sent : end.code === 'card_removed';
  check(ok, `job ended ${JSON.stringify(end)} (${where})`);
}
// The card back: certificate on it iff the commit was carried out; a job that ends done has it,
// an interrupted job that ends failed has not.
function cardFits(b, end, committed, where) {
  check((b.cert !== null) === committed, `certificate ${b.cert ? 'on' : 'not on'} the card (${where})`);
  check(b.final.type !== 'job-done' || b.cert !== null, 'the job says done, the card holds no certificate');
  check(end.type !== 'job-interrupted' || b.final.type === 'job-done' || b.cert === null,
    'an interrupted job ended failed, yet its certificate is on the card');
}

// ---- reference runs: where each operation's APDUs are, counted from the card's connection ----
async function reference(t) {
  const card = await insert(t, { state: t.freshState() });
  try {
    await card.settled();
    const loginFrom = apduKinds(card.output).length;
    const session = await loginOk(t, card.id);
    await card.settled();
    const dlFrom = apduKinds(card.output).length;
    const r = await download(t, card.id, session);
    const end = await jobEvent(t, r.json.job, 0);
    if (end.type !== 'job-done') throw new Error(`reference download: ${JSON.stringify(end)}`);
    await card.settled();
    const all = apduKinds(card.output);
    const readEnd = all.indexOf('verify') + 3; // the insertion read ends with three status VERIFYs
    return {
      kinds: all, read: readEnd, loginFrom, login: dlFrom - loginFrom, dlFrom, download: all.length - dlFrom,
      proof: all.lastIndexOf('internal-auth', dlFrom) + 1, commit: all.lastIndexOf('update-binary') + 1,
    };
  } finally { await pull(t, card); }
}

// ---- the campaigns: each position returns its outcome class or throws ----

// The card pulled (--drop-at any:K, before the card acts on it) at the n-th APDU of a download.
async function downloadPull(t, ref, n) {
  const k = ref.dlFrom + n;
  const state = t.freshState();
  const card = await insert(t, { state, args: ['--drop-at', `any:${k}`] });
  const session = await loginOk(t, card.id);
  await card.settled();
  const from = t.events.mark();
  const r = await download(t, card.id, session);
  check(r.status === 202, `download: ${r.status} ${r.body}`);
  const kind = await pulledAt(card, k);
  check(kind === ref.kinds[k - 1], `pulled at a ${kind}, the reference run's APDU ${k} is a ${ref.kinds[k - 1]}`);
  const end = await jobEvent(t, r.json.job, from);
  await t.events.waitFor((m) => m.type === 'card-removed' && m.card_id === card.id, { from, what: 'card-removed' });
  await card.closed;
  // Pulled before the card acted on APDU k: the CDF entry's UPDATE BINARY (the commit point) was
  // carried out iff it came before k; the daemon had sent it iff it was k or before.
  const committed = k > ref.commit, sent = k >= ref.commit;
  jobEndFits(end, { committed, sent }, `pulled at APDU ${k}, commit at ${ref.commit}`);
  const b = await back(t, state, r.json.job, from, end);
  try {
    cardFits(b, end, committed, `pulled at APDU ${k}, commit at ${ref.commit}`);
    // Done for good when the certificate is there; otherwise log in and download again.
    await retry(t, b.card, { downloadToo: b.cert === null });
    const interrupted = end.type === 'job-interrupted' ? `${endName(end)} → ` : '';
    return `${interrupted}${endName(b.final)}${b.cert ? ', certificate on the card' : ''}`;
  } finally { await pull(t, b.card); }
}

// The card pulled at the n-th APDU of a login (and the model read after it).
async function loginPull(t, ref, n) {
  const k = ref.loginFrom + n;
  const state = t.freshState();
  const card = await insert(t, { state, args: ['--drop-at', `any:${k}`] });
  await card.settled();
  const from = t.events.mark();
  const r = await login(t, card.id);
  const kind = await pulledAt(card, k);
  check(kind === ref.kinds[k - 1], `pulled at a ${kind}, the reference run's APDU ${k} is a ${ref.kinds[k - 1]}`);
  await t.events.waitFor((m) => m.type === 'card-removed' && m.card_id === card.id, { from, what: 'card-removed' });
  await card.closed;
  // The proof of possession answered, the login is complete: the pull hit the counter read after it.
  const proved = k > ref.proof;
  if (proved) check(r.status === 200 && r.json.session, `login after the proof: ${r.status} ${r.body}`);
  else check(r.status === 404 && r.json?.error?.code === 'card_not_found' && !r.json?.session, `login: ${r.status} ${r.body}`);
  const b = await back(t, state, null, from, null);
  try {
    check(b.cert === null, 'a login left a signature certificate');
    if (proved) { // the session ended with the card
      const old = await download(t, b.card.id, r.json.session);
      check(old.status === 401, `old session after the pull: ${old.status} ${old.body}`);
    }
    await retry(t, b.card, { downloadToo: false });
    return proved ? '200 (pulled in the counter read after it), session ended' : `${r.status} ${r.json.error.code}`;
  } finally { await pull(t, b.card); }
}

// pcscd killed: the card and its readers go, pcscd comes back, the readers with it.
async function killPcscd(t, from) {
  await t.pc.kill();
  await t.events.waitFor((m) => m.type === 'reader-removed', { from, what: 'reader-removed' });
}
async function restartPcscd(t) {
  const from = t.events.mark();
  await t.pc.start();
  await t.events.waitFor((m) => m.type === 'reader-added', { from, timeout: 15000, what: 'reader-added' });
}

// where: 'idle', or { read: n } (n-th APDU of the insertion read), or { download: n }.
async function pcscdKill(t, ref, where) {
  const state = t.freshState();
  const from = t.events.mark();
  let card, job = null, at = 0;
  if (where === 'idle' || where.download) {
    card = await insert(t, { state });
    await card.settled();
  }
  if (where === 'idle') {
    at = apduKinds(card.output).length;
  } else if (where.read) {
    card = keepLog(await startCard({ port: t.pc.ports[0], state, args: ['--verbose'] }), 'cardsim');
    at = where.read;
    await answered(card, at);
  } else {
    const session = await loginOk(t, card.id);
    await card.settled();
    const r = await download(t, card.id, session);
    check(r.status === 202, `download: ${r.status} ${r.body}`);
    job = r.json.job;
    at = ref.dlFrom + where.download;
    await answered(card, at);
  }
  await killPcscd(t, from);
  await card.closed;
  // The APDUs the card carried out before it went (it logs each one before answering); the
  // daemon may have sent one more that never reached the card.
  const done = apduKinds(card.output).length;
  const end = job && await jobEvent(t, job, from);
  const committed = done >= ref.commit;
  const spot = `pcscd killed after APDU ${at}, the card carried out ${done}, commit at ${ref.commit}`;
  if (job) jobEndFits(end, { committed, sent: done >= ref.commit - 1 }, spot);
  await restartPcscd(t);
  const b = await back(t, state, job, from, end);
  try {
    if (job) cardFits(b, end, committed, spot);
    else check(b.cert === null, 'a certificate appeared without a download');
    await retry(t, b.card, { downloadToo: b.cert === null && (where === 'idle' || !!where.download) });
    if (!job) return where === 'idle' ? 'idle: card back, login and download' : 'card read: card back, login';
    const interrupted = end.type === 'job-interrupted' ? `${endName(end)} → ` : '';
    return `download: ${interrupted}${endName(b.final)}${b.cert ? ', certificate on the card' : ''}`;
  } finally { await pull(t, b.card); }
}

// ---- driver ----
async function campaign(kind) {
  const t0 = Date.now();
  const t = await rig();
  const fig = { kind, tried: 0, of: 0, outcomes: {}, inconsistencies: [] };
  try {
    const ref = await reference(t);
    const plan = kind === 'download' ? positions(ref.download).map((n) => [`APDU ${n}/${ref.download} (${ref.kinds[ref.dlFrom + n - 1]})`, () => downloadPull(t, ref, n)])
      : kind === 'login' ? positions(ref.login).map((n) => [`APDU ${n}/${ref.login} (${ref.kinds[ref.loginFrom + n - 1]})`, () => loginPull(t, ref, n)])
      : [['idle', () => pcscdKill(t, ref, 'idle')],
        ...positions(ref.read).map((n) => [`card read, after APDU ${n}/${ref.read}`, () => pcscdKill(t, ref, { read: n })]),
        ...positions(ref.download).map((n) => [`download, after APDU ${n}/${ref.download}`, () => pcscdKill(t, ref, { download: n })])];
    fig.of = kind === 'download' ? ref.download : kind === 'login' ? ref.login : 1 + ref.read + ref.download;
    fig.ref = ref;
    if (opt.verbose) console.log(`  reference: read ${ref.kinds.slice(0, ref.read).join(" ")} | login ${ref.kinds.slice(ref.loginFrom, ref.dlFrom).join(" ")} | download ${ref.kinds.slice(ref.dlFrom).join(" ")}`);
    for (const [what, run] of plan) {
      const p0 = Date.now();
      let outcome;
      try {
        outcome = await run();
      } catch (e) {
        if (!(e instanceof Inconsistent)) throw new Error(`${kind} ${what}: ${e.stack}`);
        fig.inconsistencies.push(`${what}: ${e.message}`);
        outcome = 'INCONSISTENT';
      }
      fig.tried++;
      fig.outcomes[outcome] = (fig.outcomes[outcome] || 0) + 1;
      if (opt.verbose || outcome === 'INCONSISTENT')
        console.log(`  ${kind} ${what}: ${outcome} (${Date.now() - p0} ms)`);
    }
    if (t.bridge.exitCode !== undefined) fig.inconsistencies.push('the daemon exited');
  } finally {
    await t.close(); // exit 0, no sanitizer report
  }
  fig.ms = Date.now() - t0;
  return fig;
}

let bad = 0;
const all0 = Date.now();
for (const kind of kinds) {
  const f = await campaign(kind);
  const r = f.ref;
  console.log(`campaign ${kind}: ${f.tried} of ${f.of} positions (every ${every}), ${(f.ms / 1000).toFixed(1)} s` +
    ` (${(f.ms / Math.max(f.tried, 1) / 1000).toFixed(2)} s per position); reference: read ${r.read}, login ${r.login},` +
    ` download ${r.download} APDUs (commit = APDU ${r.commit - r.dlFrom} of the download)`);
  for (const [o, c] of Object.entries(f.outcomes).sort((a, b) => b[1] - a[1])) console.log(`  ${String(c).padStart(4)}  ${o}`);
  for (const i of f.inconsistencies) console.log(`  INCONSISTENT ${i}`);
  bad += f.inconsistencies.length;
}
console.log(`campaigns: ${bad} inconsistencies, ${((Date.now() - all0) / 1000).toFixed(1)} s in all`);
process.exit(bad ? 1 : 0);
