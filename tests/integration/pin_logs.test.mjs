// pin_logs.test.mjs — PINs and PUKs never appear in any log at any level: greps every log the
// suite's daemons and virtual cards wrote (tests/lib/bridge-rig.mjs keeps them in BUILD/tmp/logs;
// the daemon runs at --log-level debug, the cards with --verbose) for the test codes — PINs, new
// PINs set through the PIN management API, PUKs, wrong ones. Runs its own round of every code path
// first (login, download, change, unblock, each right and wrong), so it never passes on an empty
// set of logs. And no log call in the C sources is handed a code: their arguments are read, so a
// function that merely has "log" in its name (login_pin_request(…pin…)) is no log call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD, SRC } from '../lib/harness.mjs';
import {
  setup, insert, pull, login, loginOk, runJob, changePin, unblockPin,
  PIN1, PIN2, PUK, WRONG1, WRONG2, NEW1, NEW2, WRONG_PUK,
} from '../lib/bridge-rig.mjs';

const LOGS = join(BUILD, 'tmp', 'logs');
const SECRETS = [PIN1, PIN2, PUK, WRONG1, WRONG2, NEW1, NEW2, WRONG_PUK];

test('a round with every PIN path, then no PIN or PUK in any log of the suite', async () => {
  const t = await setup();
  let card;
  try {
    card = await insert(t);
    assert.equal((await login(t, card.id, WRONG1)).status, 401);
    const session = await loginOk(t, card.id);
    assert.equal((await runJob(t, card.id, session, WRONG2)).end.code, 'wrong_pin');
    assert.equal((await runJob(t, card.id, session, PIN2)).end.type, 'job-done');
    assert.equal((await changePin(t, card.id, 'pin2', WRONG2, NEW2)).status, 401);
    assert.equal((await changePin(t, card.id, 'pin2', PIN2, NEW2)).status, 200);
    assert.equal((await unblockPin(t, card.id, 'pin1', WRONG_PUK, NEW1)).status, 401);
    assert.equal((await unblockPin(t, card.id, 'pin1', PUK, NEW1)).status, 200);
  } finally {
    if (card) await pull(t, card);
    await t.close();
  }
  const files = readdirSync(LOGS).filter((f) => f.endsWith('.log')).map((f) => join(LOGS, f));
  assert.ok(files.some((f) => f.includes('bridge-')) && files.some((f) => f.includes('cardsim-')));
  let bytes = 0;
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    bytes += statSync(f).size;
    for (const pin of SECRETS) assert.ok(!text.includes(pin), `${pin} found in ${f}`);
  }
  assert.ok(bytes > 1000, 'the logs are not empty');
});

// ---- the sources ----

// A call that writes a log line: the daemon's log_* (server/base/log.h) and the stdio family the
// virtual card and the tools use.
const LOG_CALL = /\b(log_(?:debug|info|warn|error|msg)|v?fprintf|v?printf|dprintf|v?syslog)\s*\(/g;
// A value whose name says it holds a code: a lower-case name containing pin or puk (pin, new_pin,
// jb->pin, puk_code, pin.value of a struct login_code …) that is not a function called, nor a
// struct whose other member is taken (m->pin2.tries_left, pin_status(…) are no codes).
// Upper-case names are constants.
const CODE_VALUE = /\b[a-z0-9_]*(?:pin|puk)[a-z0-9_]*\b(?!\s*(?:\(|(?:\.|->)(?!\s*value\b)))/g;

// The arguments of the call whose "(" ends at i, without comments and string literals (a format
// may say "PIN"), up to its closing parenthesis.
function callArgs(text, i) {
  let depth = 1, out = '';
  for (; i < text.length && depth; i++) {
    const ch = text[i];
    if (ch === '"' || ch === "'") {
      for (i++; i < text.length && text[i] !== ch; i++) if (text[i] === '\\') i++;
      out += ' ';
      continue;
    }
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    out += ch;
  }
  return out.slice(0, -1);
}

// Every log call in text handed a code: [{ line, call, names }].
function codesLogged(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (m) => m.replace(/[^\n]/g, ' '));
  const found = [];
  for (const m of code.matchAll(LOG_CALL)) {
    const names = callArgs(code, m.index + m[0].length).match(CODE_VALUE);
    if (names) found.push({ line: code.slice(0, m.index).split('\n').length, call: m[1], names });
  }
  return found;
}

function* cFiles(dir) {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) yield* cFiles(p);
    else if (/\.[ch]$/.test(f)) yield p;
  }
}

test('the source check finds a code handed to a log call, and only that', () => {
  const hits = codesLogged([
    'log_info("pins", "card %s: %s", id, new_pin);',
    'log_warn("job", "%s",\n   jb->pin);',
    'fprintf(stderr, "%s %d\\n", c->puk_code, n);',
    'log_debug("x", "%s", pin.value);',
    'log_info("login", "card %s: %s", id, e == CARD_E_PIN_WRONG ? "wrong PIN1" : "PIN1 blocked");',
    'log_info("pins", "tries %d of %s", m->pin2.tries_left, card_pin_name(which));',
    'if ((st = login_pin_request(ctx->core, req, &m, pin, 1, out))) return proof_login(core, id, pin, &o);',
    '/* log_info("x", "%s", pin); */ printf("PIN %s\\n", "(pin)");',
  ].join('\n'));
  assert.deepEqual(hits, [
    { line: 1, call: 'log_info', names: ['new_pin'] },
    { line: 2, call: 'log_warn', names: ['pin'] },
    { line: 4, call: 'fprintf', names: ['puk_code'] },
    { line: 5, call: 'log_debug', names: ['pin'] },
  ]);
});

test('no log call in server/ or card/ is handed a PIN, PUK or new PIN', () => {
  let calls = 0;
  const bad = [];
  for (const dir of ['server', 'card'])
    for (const f of cFiles(join(SRC, dir))) {
      const text = readFileSync(f, 'utf8');
      calls += [...text.matchAll(LOG_CALL)].length;
      for (const h of codesLogged(text)) bad.push(`${f.slice(SRC.length + 1)}:${h.line}: ${h.call}(… ${h.names.join(', ')} …)`);
    }
  assert.ok(calls > 50, `the sources have log calls (${calls})`);
  assert.deepEqual(bad, []);
});
