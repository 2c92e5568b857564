// bridge-rig.mjs — the rig of the login, signature-certificate and PIN management tests:
// a private pcscd + the daemon with the test CA over CMP (siths-test-ca, as in the demo and as a
// production CA is reached) + an event client; cards inserted and found
// by id; login / download / PIN change and unblock / job following through the real API over TLS;
// every daemon and card log written to BUILD/tmp/logs so pin_logs.test.mjs can grep the whole
// suite's output.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD, cmpIssuerArgs, curl, exportCerts, startBridge, startCard, startPcscd, startTestCa, testPki, tmp, until } from './harness.mjs';
import { eventClient } from './events.mjs';

export const PIN1 = '123456';
export const PIN2 = '654321';
export const PUK = '12345678';
// Wrong PINs used by the tests: distinctive, so the log grep finds them if they leak.
export const WRONG1 = '975318';
export const WRONG2 = '864297';
// New codes set through the PIN management API, and a wrong PUK: distinctive likewise.
export const NEW1 = '50712384';
export const NEW2 = '61823495';
export const WRONG_PUK = '90817263';

const LOGS = join(BUILD, 'tmp', 'logs');

// Keeps a process's output for the PIN grep once it has exited.
export function keepLog(proc, name) {
  mkdirSync(LOGS, { recursive: true });
  const file = join(LOGS, `${name}-${process.pid}-${proc.pid}.log`);
  proc.exited.then(() => writeFileSync(file, proc.output));
  return proc;
}

// The standing MAC order between the rig's daemon and its test CA.
const RIG_MAC = 'rig-order:rig-standing-secret';

// pcscd + daemon + events. The issuer: siths-test-ca over CMP started by the test (issuer true;
// ca: its extra arguments, e.g. ['--fault', 'other-key']), the daemon's own `--test-issuer`
// (issuer 'test-issuer': the daemon starts siths-test-ca as its child), or none (false).
export async function setup({ issuer = true, ca: caArgs = [], env = {}, args: extra = [] } = {}) {
  const pki = testPki();
  const pc = await startPcscd();
  let bridge, events, ca;
  try {
    if (issuer === true) ca = keepLog(await startTestCa({ args: ['--mac', RIG_MAC, ...caArgs] }), 'testca');
    const issuerArgs = ca ? cmpIssuerArgs(ca, RIG_MAC) : issuer === 'test-issuer' ? ['--test-issuer', pki] : [];
    bridge = keepLog(await startBridge({ pcscd: pc, args: [...issuerArgs, ...extra], env }), 'bridge');
    events = eventClient(bridge);
    await events.open;
  } catch (e) { // a failed start must not leave pcscd (or the daemon) holding the test file open
    if (events) events.close();
    if (bridge) await bridge.stop('SIGKILL');
    if (ca) await ca.stop();
    await pc.stop();
    throw e;
  }
  const t = { pc, bridge, events, pki, ca };
  t.api = (path, opts = {}) => curl(bridge.url(path), {
    ...opts, headers: { Origin: bridge.origin, ...(opts.data !== undefined ? { 'Content-Type': 'application/json' } : {}), ...(opts.headers || {}) },
  });
  // A clean stop: exit 0 and, under ASan/UBSan, no report (leaks included).
  t.close = async () => {
    events.close();
    const { code } = await bridge.stop();
    await pc.stop();
    const caEnd = ca ? await ca.stop() : null;
    if (code !== 0 || /Sanitizer|runtime error/.test(bridge.output)) throw new Error(`daemon exit ${code}\n${bridge.output.slice(-4000)}`);
    if (caEnd && (caEnd.code !== 0 || /Sanitizer|runtime error/.test(ca.output))) throw new Error(`siths-test-ca exit ${caEnd.code}\n${ca.output.slice(-4000)}`);
  };
  return t;
}

// The rig's clean stop (t.close, when t), then other servers of the test (a CA, a mock), each
// without a sanitizer report.
export async function closeAll(t, ...procs) {
  if (t) await t.close();
  for (const p of procs) {
    if (!p) continue;
    await p.stop();
    if (/Sanitizer|runtime error/.test(p.output)) throw new Error(`sanitizer report\n${p.output.slice(-4000)}`);
  }
}

// Inserts a card into reader slot (0/1), with its own (or the given) state; resolves when the
// daemon reports it, with .id (card id) and .model.
export async function insert(t, { slot = 0, state, profile, args = [] } = {}) {
  let cardFile;
  const dir = tmp('card-');
  if (profile) { cardFile = join(dir, 'card.json'); writeFileSync(cardFile, JSON.stringify(profile)); }
  const from = t.events.mark();
  const card = keepLog(await startCard({ port: t.pc.ports[slot], state: state || join(dir, 'state.json'), card: cardFile, args: ['--verbose', ...args] }), 'cardsim');
  const ev = await t.events.waitFor((m) => m.type === 'card-inserted', { from, what: 'card-inserted', timeout: 15000 });
  card.id = ev.card.id;
  card.model = ev.card;
  return card;
}

// Pulls the card (SIGTERM: state flushed) and waits for the daemon's card-removed.
export async function pull(t, card) {
  const from = t.events.mark();
  await card.stop();
  await t.events.waitFor((m) => m.type === 'card-removed' && m.card_id === card.id, { from, what: 'card-removed' });
}

export const login = (t, id, pin = PIN1, headers = {}) =>
  t.api(`/v1/cards/${id}/login`, { method: 'POST', data: { pin }, headers });

export const download = (t, id, session, pin = PIN2, headers = {}) =>
  t.api(`/v1/cards/${id}/signature-certificate`, {
    method: 'POST', data: { pin }, headers: session ? { Authorization: `Bearer ${session}`, ...headers } : headers,
  });

// POST …/pins/{which}/change {pin, new_pin} and …/unblock {puk, new_pin}.
export const changePin = (t, id, which, pin, newPin) =>
  t.api(`/v1/cards/${id}/pins/${which}/change`, { method: 'POST', data: { pin, new_pin: newPin } });
export const unblockPin = (t, id, which, puk, newPin) =>
  t.api(`/v1/cards/${id}/pins/${which}/unblock`, { method: 'POST', data: { puk, new_pin: newPin } });

export async function loginOk(t, id) {
  const r = await login(t, id);
  if (r.status !== 200) throw new Error(`login: ${r.status} ${r.body}`);
  return r.json.session;
}

// The terminal event of a job (job-done or job-failed), and every progress event before it.
export async function jobEnd(t, job, from = 0, timeout = 60000) {
  const end = await t.events.waitFor((m) => (m.type === 'job-done' || m.type === 'job-failed') && m.job === job,
    { from, timeout, what: `end of job ${job}` });
  const progress = t.events.msgs.slice(from).filter((m) => m.type === 'job-progress' && m.job === job);
  return { end, progress };
}

// Starts a download and waits for its end; asserts nothing.
export async function runJob(t, id, session, pin = PIN2) {
  const from = t.events.mark();
  const r = await download(t, id, session, pin);
  if (r.status !== 202) return { start: r };
  return { start: r, ...(await jobEnd(t, r.json.job, from)) };
}

export async function cardModel(t, id) {
  const r = await t.api(`/v1/cards/${id}`);
  return r.status === 200 ? r.json : null;
}

// Waits until the daemon's model of the card satisfies pred.
export const modelUntil = (t, id, pred, what) => until(async () => {
  const m = await cardModel(t, id);
  return m && pred(m) ? m : null;
}, { what, timeout: 15000 });

export { exportCerts };

// How many commands of kind (cardsim --verbose names: verify, generate-key, pso-cds, …) the card
// answered in output[0..upto).
export function countKind(output, kind, upto = output.length) {
  return (output.slice(0, upto).match(new RegExp(`^siths-cardsim: ${kind} `, 'gm')) || []).length;
}

// The card's log (stderr) reaches us later than the daemon's HTTP answer or event: after either,
// `await card.settled()` (harness.mjs: the card's SIGUSR1 mark) before counting its commands.
