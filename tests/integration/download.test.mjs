// download.test.mjs — login and signature-certificate download end to end on real parts: login with PIN1, download of the signature
// certificate with PIN2 as a job (events with increasing percent, job-done, card-updated, GET
// /v1/jobs/{id}), the model shows the certificate, and independent checks: OpenSC lists it,
// pkcs11-tool signs with PIN2 and openssl verifies with it, openssl verify against the test
// SITHS hierarchy. Also /health's issuer, a second download on a card that has one, two cards
// in parallel, and 409 for a second job on one card.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { curl, tmp, openscConf, opensc } from '../lib/harness.mjs';
import { setup, insert, pull, loginOk, download, jobEnd, runJob, modelUntil, exportCerts, countKind, PIN2 } from '../lib/bridge-rig.mjs';

const PKCS11 = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
let t;

before(async () => { t = await setup(); });
after(async () => { if (t) await t.close(); });

test('/health shows the test CA over CMP as a test issuer', async () => {
  const h = await curl(t.bridge.url('/health'));
  assert.equal(h.status, 200);
  assert.deepEqual(h.json.issuer, { configured: true, name: 'cmp', test: true, protection: 'mac' });
  assert.match(t.ca.output, /TEST CA \(development certificates only\), MAC protection/);
});

test('login → download → progress → job-done → Finns; OpenSC signs with it; openssl verifies it', async () => {
  const card = await insert(t);
  try {
    assert.equal(card.model.signature_certificate.present, false);
    const session = await loginOk(t, card.id);
    assert.match(session, /^[A-Za-z0-9_-]{43,}$/);

    const from = t.events.mark();
    const r = await download(t, card.id, session);
    assert.equal(r.status, 202, r.body);
    assert.match(r.json.job, /^j[0-9a-f]{32}$/);
    const { end, progress } = await jobEnd(t, r.json.job, from);
    assert.equal(end.type, 'job-done', JSON.stringify(end));
    assert.equal(end.card, card.id);
    // The one shape of job events (docs/api/events.md): card_id is the id; card, the same id, is
    // the deprecated alias.
    assert.equal(end.card_id, card.id);
    assert.equal(end.stage, 'done');

    // Progress: every stage in order, percent never decreasing, ending at 100.
    const stages = [...new Set(progress.map((p) => p.stage))];
    assert.deepEqual(stages, ['verify_pin', 'generate_key', 'build_csr', 'submit', 'validate', 'write', 'verify']);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i].percent >= progress[i - 1].percent, 'percent never decreases');
    assert.ok(progress.filter((p) => p.stage === 'write').length >= 3, 'per-chunk write progress');
    assert.ok(progress.every((p) => p.card === card.id && typeof p.message === 'string' && p.message));
    assert.ok(progress.every((p) => p.card_id === card.id));
    assert.ok(progress.at(-1).percent < 100 && end.percent === 100);

    // card-updated with the certificate, before job-done.
    const upd = t.events.msgs.slice(from).findIndex((m) => m.type === 'card-updated' && m.card.id === card.id && m.card.signature_certificate.present);
    const done = t.events.msgs.slice(from).findIndex((m) => m.type === 'job-done');
    assert.ok(upd >= 0 && upd < done, 'card-updated (present) comes before job-done');

    const st = await t.api(`/v1/jobs/${r.json.job}`);
    assert.equal(st.status, 200);
    assert.equal(st.json.state, 'done');
    assert.equal(st.json.percent, 100);
    assert.equal(st.json.card, card.id);
    assert.equal(st.json.card_id, card.id);

    const m = await modelUntil(t, card.id, (x) => x.signature_certificate.present, 'Finns');
    assert.equal(m.signature_certificate.present, true);
    const list = await t.api('/v1/cards');
    assert.equal(list.json.cards.find((c) => c.id === card.id).signature_certificate.present, true);

    // The card's own export: the new certificate, for the new key, chaining to the test hierarchy.
    const exp = exportCerts(card.state);
    assert.ok(existsSync(join(exp, 'sign-cert.pem')));
    execFileSync('openssl', ['verify', '-CAfile', join(t.pki, 'root-ca.pem'), '-untrusted', join(t.pki, 'person-3-ca.pem'), join(exp, 'sign-cert.pem')]);
    const certPub = execFileSync('openssl', ['x509', '-in', join(exp, 'sign-cert.pem'), '-pubkey', '-noout']).toString();
    assert.equal(certPub.trim(), readFileSync(join(exp, 'sign-pub.pem'), 'utf8').trim());
    const text = execFileSync('openssl', ['x509', '-in', join(exp, 'sign-cert.pem'), '-noout', '-text']).toString();
    assert.match(text, /Non Repudiation/);
    assert.match(text, /TSTNMT2321000156-10XK/);

    // OpenSC (independent reader) lists it and signs with PIN2; openssl verifies.
    await pull(t, card);
    const conf = openscConf();
    const again = await insert(t, { state: card.state });
    const d = await opensc(t.pc, 'pkcs15-tool', ['-D'], { conf });
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /X\.509 Certificate \[Underskrift\]/);
    const dir = tmp('sig-');
    const msg = join(dir, 'msg'), sig = join(dir, 'sig'), pub = join(dir, 'pub.pem');
    writeFileSync(msg, 'Jag intygar detta. ' + Date.now());
    const s = await opensc(t.pc, 'pkcs11-tool', ['--module', PKCS11, '--slot-index', '1', '--login', '--pin', PIN2,
      '--sign', '--mechanism', 'SHA256-RSA-PKCS', '--id', '02', '--input-file', msg, '--output-file', sig], { conf });
    assert.equal(s.code, 0, s.stderr);
    writeFileSync(pub, certPub);
    assert.match(execFileSync('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', sig, msg]).toString(), /Verified OK/);
    await pull(t, again);
  } finally { await card.stop(); }
});

// The card's commands of kind with the length of each (cardsim --verbose: "KIND HEADER len N").
const lengths = (card, kind) => [...card.output.matchAll(new RegExp(`^siths-cardsim: ${kind} [0-9A-F]{8} len (\\d+)`, 'gm'))].map((m) => Number(m[1]));

test('a card that announces extended length: files read and the certificate written in one APDU each; the same model', async () => {
  // The same card (state) first as a short-only one, then announcing extended length.
  const state = join(tmp('card-'), 'state.json');
  const plain = await insert(t, { state });
  const model = plain.model;
  await pull(t, plain);
  const card = await insert(t, { state, args: ['--extended-length'] });
  try {
    assert.match(card.model.atr, /^3b:8f:80:01:80:73:00:00:40:/);
    assert.deepEqual({ ...card.model, atr: model.atr }, model, 'the model over extended APDUs');
    // Each file in one READ BINARY from offset 0 (none asks for a second page); those over 256
    // bytes with an extended Le (7 bytes), the rest short (5).
    await card.settled();
    const reads = lengths(card, 'read-binary');
    assert.ok(reads.includes(7) && reads.every((n) => n === 7 || n === 5), `READ BINARY lengths ${reads}`);
    assert.deepEqual([...new Set(card.output.match(/^siths-cardsim: read-binary 00B0[0-9A-F]{4}/gm))],
      ['siths-cardsim: read-binary 00B00000'], 'every file read from its start, in one command');
    const { end } = await runJob(t, card.id, await loginOk(t, card.id));
    assert.equal(end.type, 'job-done', JSON.stringify(end));
    await card.settled();
    const exp = exportCerts(card.state);
    const der = execFileSync('openssl', ['x509', '-in', join(exp, 'sign-cert.pem'), '-outform', 'DER']);
    // The certificate in one UPDATE BINARY (7 header bytes with the extended Lc, then all of it).
    assert.ok(lengths(card, 'update-binary').includes(7 + der.length), `UPDATE BINARY lengths ${lengths(card, 'update-binary')}`);
    assert.equal(countKind(card.output, 'get-response'), 0, 'the public key came in the GENERATE answer');
    execFileSync('openssl', ['verify', '-CAfile', join(t.pki, 'root-ca.pem'), '-untrusted', join(t.pki, 'person-3-ca.pem'), join(exp, 'sign-cert.pem')]);
    await modelUntil(t, card.id, (x) => x.signature_certificate.present, 'Finns');
    // OpenSC, which also reads the card capabilities, lists what the daemon wrote.
    const d = await opensc(t.pc, 'pkcs15-tool', ['-D'], { conf: openscConf() });
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /X\.509 Certificate \[Underskrift\]/);
  } finally { await pull(t, card); }
});

test('a second download on a card that has a certificate replaces it (old entry withdrawn first)', async () => {
  const card = await insert(t, { profile: { with_signature_certificate: true } });
  try {
    const before = exportCerts(card.state);
    const oldCert = readFileSync(join(before, 'sign-cert.der'));
    const session = await loginOk(t, card.id);
    const { start, end } = await runJob(t, card.id, session);
    assert.equal(start.status, 202, start.body);
    assert.equal(end.type, 'job-done', JSON.stringify(end));
    const exp = exportCerts(card.state);
    const newCert = readFileSync(join(exp, 'sign-cert.der'));
    assert.notDeepEqual(newCert, oldCert);
    assert.equal(execFileSync('openssl', ['x509', '-in', join(exp, 'sign-cert.pem'), '-pubkey', '-noout']).toString().trim(),
      readFileSync(join(exp, 'sign-pub.pem'), 'utf8').trim());
    const m = await modelUntil(t, card.id, (x) => x.signature_certificate.present, 'Finns');
    assert.equal(m.signature_certificate.present, true);
  } finally { await pull(t, card); }
});

test('two jobs on one card: 409; two cards at once: both succeed', async () => {
  const a = await insert(t, { slot: 0 });
  const b = await insert(t, { slot: 1, profile: { card_number: '9752269885715690001', hsa_id: 'TSTNMT2321000156-20AB', holder: 'Åsa Ödmark', trust_level: 2 }, args: ['--delay', 'realistic'] });
  try {
    const sa = await loginOk(t, a.id), sb = await loginOk(t, b.id);
    const from = t.events.mark();
    const [ra, rb] = await Promise.all([download(t, a.id, sa), download(t, b.id, sb)]);
    assert.equal(ra.status, 202, ra.body);
    assert.equal(rb.status, 202, rb.body);
    // b generates its key for ~4 s (realistic timing): a second job on b now is refused.
    const busy = await download(t, b.id, sb);
    assert.equal(busy.status, 409, busy.body);
    assert.equal(busy.json.error.code, 'job_running');
    const [ea, eb] = await Promise.all([jobEnd(t, ra.json.job, from), jobEnd(t, rb.json.job, from)]);
    assert.equal(ea.end.type, 'job-done', JSON.stringify(ea.end));
    assert.equal(eb.end.type, 'job-done', JSON.stringify(eb.end));
    // They ran in parallel: a finished while b was still running.
    assert.ok(ea.end.at < eb.end.at, 'the fast card finished first');
    const firstB = eb.progress[0].at;
    assert.ok(firstB < ea.end.at, 'b started before a ended');
    for (const c of [a, b]) {
      const exp = exportCerts(c.state);
      const ca = c === a ? 'person-3-ca.pem' : 'person-2-ca.pem';
      execFileSync('openssl', ['verify', '-CAfile', join(t.pki, 'root-ca.pem'), '-untrusted', join(t.pki, ca), join(exp, 'sign-cert.pem')]);
    }
    // And the PIN2 tries were not touched by the refused request.
    const mb = await modelUntil(t, b.id, (x) => x.signature_certificate.present, 'b Finns');
    assert.equal(mb.pins.pin2.tries_left, 3);
  } finally { await pull(t, a); await pull(t, b); }
});
