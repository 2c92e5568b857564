// events.mjs — a WebSocket client for the daemon's wss://…/v1/events that keeps every message
// (stamped with its arrival time in .at) and waits for one matching a predicate, with a deadline.
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { localhostCerts } from './harness.mjs';

export function eventClient(b) {
  const ws = new WebSocket(`wss://127.0.0.1:${b.wss}/v1/events`, {
    ca: readFileSync(localhostCerts().ca), origin: b.origin,
  });
  const c = { ws, msgs: [], waiters: [] };
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    m.at = Date.now();
    c.msgs.push(m);
    c.waiters = c.waiters.filter((w) => !w.check());
  });
  c.open = new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`no WebSocket open from wss port ${b.wss} within 10 s`)), 10000);
    ws.once('open', () => { clearTimeout(t); res(); });
    ws.once('error', (e) => { clearTimeout(t); rej(e); });
  });
  c.mark = () => c.msgs.length;
  c.waitFor = (pred, { from = 0, timeout = 10000, what = 'event' } = {}) => new Promise((res, rej) => {
    const w = {
      check: () => {
        const m = c.msgs.slice(from).find(pred);
        if (m) { clearTimeout(w.t); res(m); return true; }
        return false;
      },
    };
    if (w.check()) return;
    w.t = setTimeout(() => {
      c.waiters = c.waiters.filter((x) => x !== w);
      rej(new Error(`timeout waiting for ${what}; got ${JSON.stringify(c.msgs.slice(from))}`));
    }, timeout);
    c.waiters.push(w);
  });
  c.close = () => ws.close();
  return c;
}
