// opensc-rig.mjs — the setup of the tests that drive the virtual card without the daemon (raw
// APDUs and OpenSC tools through pcscd): one private pcscd and an OpenSC configuration per test
// file (node:test before/after hooks), cards inserted into its readers and pulled cleanly.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { startPcscd, startCard, tmp, testPki, openscConf, waitCard } from './harness.mjs';

// Call at the top level of a test file; rig.pc and rig.conf are set once its before hook ran,
// and then ready(rig) is called.
export function openscRig(ready = () => {}) {
  const rig = { pc: null, conf: null };
  before(async () => {
    testPki();
    rig.pc = await startPcscd();
    rig.conf = openscConf();
    ready(rig);
  });
  after(async () => { if (rig.pc) await rig.pc.stop(); });

  // A card in reader `reader` (its own state unless opts.state; opts.profile: card file
  // overrides), resolved once OpenSC sees it. Other opts go to startCard.
  rig.insert = async ({ profile, ...opts } = {}, reader = 0) => {
    const dir = tmp('card-');
    let card = opts.card;
    if (profile) { card = join(dir, 'card.json'); writeFileSync(card, JSON.stringify(profile)); }
    const c = await startCard({ port: rig.pc.ports[reader], state: join(dir, 'state.json'), ...opts, card });
    await waitCard(rig.pc, reader, { conf: rig.conf });
    return c;
  };
  rig.pull = async (c, reader = 0) => {
    const { code } = await c.stop();
    // SIGTERM: state flushed, exit 0 (under ASan/UBSan also: no leak, no UB report).
    assert.equal(code, 0, c.output);
    await waitCard(rig.pc, reader, { present: false, conf: rig.conf });
  };
  return rig;
}
