import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { setup } from '../lib/bridge-rig.mjs';
import { localhostCerts } from '../lib/harness.mjs';
const t = await setup({ issuer: 'test-issuer', args: ['--ws-max-clients', '1000'] });
const maps = () => { const r = {}; let cur; for (const l of readFileSync(`/proc/${t.bridge.pid}/smaps`, 'utf8').split('\n')) { const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(l); if (m) { cur = m[1] + ' ' + (m[3] || '[anon]'); r[cur] = 0; } const p = /^Pss:\s+(\d+)/.exec(l); if (p) r[cur] = Number(p[1]); } return r; };
const a = maps();
const cs = [];
for (let i = 0; i < 999; i += 50) { const b = Array.from({ length: Math.min(50, 999 - i) }, () => { const ws = new WebSocket(`wss://127.0.0.1:${t.bridge.wss}/v1/events`, { ca: readFileSync(localhostCerts().ca), origin: t.bridge.origin }); return new Promise((res) => ws.once('message', () => res(ws))); }); cs.push(...await Promise.all(b)); }
const b = maps();
for (const k of Object.keys(b)) { const d = b[k] - (a[k] || 0); if (Math.abs(d) > 100) console.log(d, k); }
for (const c of cs) c.close();
await new Promise((r) => setTimeout(r, 500));
await t.close();
