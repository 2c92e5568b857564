// pin_logs.test.mjs — PINs never appear in any log at any level: greps every log the suite's
// daemons and virtual cards wrote (tests/lib/bridge-rig.mjs keeps them in BUILD/tmp/logs; the
// daemon runs at --log-level debug, the cards with --verbose) for the test PINs and PUK. Runs
// its own login / wrong-PIN / download round first, so it never passes on an empty set of logs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD } from '../lib/harness.mjs';
import { setup, insert, pull, login, loginOk, runJob, PIN1, PIN2, PUK, WRONG1, WRONG2 } from '../lib/bridge-rig.mjs';

const LOGS = join(BUILD, 'tmp', 'logs');
const SECRETS = [PIN1, PIN2, PUK, WRONG1, WRONG2];

test('a round with every PIN path, then no PIN in any log of the suite', async () => {
  const t = await setup();
  let card;
  try {
    card = await insert(t);
    assert.equal((await login(t, card.id, WRONG1)).status, 401);
    const session = await loginOk(t, card.id);
    assert.equal((await runJob(t, card.id, session, WRONG2)).end.code, 'wrong_pin');
    assert.equal((await runJob(t, card.id, session, PIN2)).end.type, 'job-done');
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
