// portal.mjs — a test portal on a public-looking origin of its own: https://minasidor.test:PORT,
// an HTTPS server on 127.0.0.2 with its own test CA (trusted in the browser profile's NSS db next
// to the loopback CA), which the browser resolves to 127.0.0.2 and treats as a PUBLIC address, so
// Local Network Access applies to its calls to the bridge on 127.0.0.1 as in production. It serves
// the Mina sidor page (www/, a hosted copy) or any page a test gives, and says how each browser
// is told about the name, the address space and the LNA decision (docs/portal.md).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join, extname, normalize } from 'node:path';
import https from 'node:https';
import { BUILD, SRC, bin, tmp } from './harness.mjs';

export const PORTAL_HOST = 'minasidor.test';
export const PORTAL_ADDR = '127.0.0.2';
// A second public origin on the same server, for pages embedded by the portal (an iframe).
export const FRAME_HOST = `kort.${PORTAL_HOST}`;

// The portal's CA and server certificate (minasidor.test and kort.minasidor.test), made once per build tree; made in
// a scratch folder and renamed into place, so two test files starting at once never see half.
export function portalCerts() {
  const d = join(BUILD, 'portal-certs');
  if (!existsSync(join(d, 'server.pem'))) {
    const w = tmp('portal-certs-');
    const ssl = (...a) => execFileSync('openssl', a, { cwd: w, stdio: ['ignore', 'ignore', 'pipe'] });
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '3650',
      '-subj', '/CN=siths-bridge test portal CA', '-keyout', 'ca.key', '-out', 'ca.pem',
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${PORTAL_HOST}`,
      '-keyout', 'server.key', '-out', 'server.csr');
    writeFileSync(join(w, 'ext.cnf'), `subjectAltName=DNS:${PORTAL_HOST},DNS:${FRAME_HOST}\nextendedKeyUsage=serverAuth\n` +
      'keyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n');
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '3650',
      '-extfile', 'ext.cnf', '-out', 'server.pem');
    try { renameSync(w, d); } catch { rmSync(w, { recursive: true, force: true }); /* another test made it */ }
  }
  return { dir: d, ca: join(d, 'ca.pem'), cert: join(d, 'server.pem'), key: join(d, 'server.key') };
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

/**
 * Starts the portal: GET /mina-sidor/… serves a hosted copy of www/ (the whole page from the
 * portal's own origin, its index.html told the bridge's origin by <meta name="siths-bridge">),
 * and `pages` maps further paths to {type, body} (a string, or a function of the request's URL).
 * Returns {origin, frameOrigin, bridgeOrigin (settable), port, ca, url(path), stop()}; origin is https://minasidor.test:PORT,
 * frameOrigin the same server as https://kort.minasidor.test:PORT.
 */
export async function startPortal({ bridgeOrigin = null, pages = {} } = {}) {
  const c = portalCerts();
  const self = { bridgeOrigin };
  const server = https.createServer({ cert: readFileSync(c.cert), key: readFileSync(c.key) }, (req, res) => {
    const url = new URL(req.url, `https://${PORTAL_HOST}`);
    const page = pages[url.pathname];
    if (page) {
      res.writeHead(200, { 'Content-Type': page.type || TYPES['.html'], 'Cache-Control': 'no-store' });
      return res.end(typeof page.body === 'function' ? page.body(url) : page.body);
    }
    const m = /^\/mina-sidor(\/.*)$/.exec(url.pathname);
    const rel = m && normalize(m[1] === '/' ? '/index.html' : m[1]);
    if (!rel || rel.includes('..') || !TYPES[extname(rel)] || !existsSync(join(SRC, 'www', rel))) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      return res.end('not found');
    }
    let body = readFileSync(join(SRC, 'www', rel));
    if (rel === '/index.html' && self.bridgeOrigin) {
      body = String(body).replace('<meta charset="utf-8">', `<meta charset="utf-8">\n  <meta name="siths-bridge" content="${self.bridgeOrigin}">`);
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(rel)], 'Cache-Control': 'no-store' });
    return res.end(body);
  });
  await new Promise((r) => server.listen(0, PORTAL_ADDR, r));
  const port = server.address().port;
  const origin = `https://${PORTAL_HOST}:${port}`;
  return Object.assign(self, {
    origin, port, ca: c.ca, frameOrigin: `https://${FRAME_HOST}:${port}`,
    url: (p) => `${origin}${p}`,
    stop: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  });
}

/**
 * What launchBrowser() needs so the browser reaches the portal by name, trusts its CA and treats
 * it as a public address (so LNA applies to its calls to 127.0.0.1):
 *  - chromium: --host-resolver-rules maps the name; --ip-address-space-overrides makes
 *    127.0.0.2:PORT public.
 *  - firefox: network.dns.forceResolve maps every looked-up name to 127.0.0.2 (IP literals such as
 *    the bridge's 127.0.0.1 are not looked up); network.lna.address_space.public.override makes
 *    127.0.0.2:PORT public; LNA on and asking (network.lna.enabled, .websocket.enabled, .blocking).
 * The LNA decision itself is a managed policy (managedPolicies(): chromiumPolicy() for chromium,
 * launchBrowser's firefoxPolicies for firefox), or for a refusal in Firefox, which has no refusing
 * policy, the user's answer (br.setPermission).
 * trustBridge false: the browser does not trust the bridge's CA (only the portal's).
 */
export function portalBrowserOptions(portal, { bridgeCa, trustBridge = true }) {
  const addr = `${PORTAL_ADDR}:${portal.port}`;
  return {
    ca: trustBridge ? [bridgeCa, portal.ca] : [portal.ca],
    chromiumArgs: [`--host-resolver-rules=MAP ${PORTAL_HOST} ${PORTAL_ADDR}, MAP ${FRAME_HOST} ${PORTAL_ADDR}`,
      `--ip-address-space-overrides=${addr}=public`],
    firefoxPrefs: {
      'network.dns.forceResolve': PORTAL_ADDR,
      'network.lna.address_space.public.override': addr,
      'network.lna.enabled': true,
      'network.lna.websocket.enabled': true,
      'network.lna.blocking': true,
    },
  };
}

/**
 * The browser policies for origins as the daemon itself writes them: `siths-bridge policies
 * --write` with a configuration naming them, under a scratch --root. Returns {chromium: the JSON
 * of its Chromium file, firefox: the path of its Firefox policies.json}. Firefox's
 * LocalNetworkAccess policy (SkipDomains) only sets default prefs (network.lna.skip-domains), so a
 * test must not set that pref in the profile: the policy file alone decides.
 */
export function managedPolicies(origins) {
  const root = tmp('policies-root-');
  const conf = join(root, 'siths-bridge.conf');
  writeFileSync(conf, origins.map((o) => `allow-origin = ${o}\n`).join(''));
  execFileSync(bin('siths-bridge'), ['policies', '--write', '--config', conf, '--root', root], { stdio: ['ignore', 'ignore', 'pipe'] });
  return {
    chromium: JSON.parse(readFileSync(join(root, 'etc/chromium/policies/managed/siths-bridge.json'), 'utf8')),
    firefox: join(root, 'etc/firefox/policies/policies.json'),
  };
}

// Chromium reads managed policies only from /etc/chromium/policies/managed/*.json (no per-profile
// or command-line way in a release build). A test writes one file naming only its own portal
// origin (a random port), so no other browser on the machine is affected, and removes it after.
// The folders it had to make are removed again when they are left empty (the package's purge
// removes the same folders; a test must leave none behind).
export function chromiumPolicy(name, policy) {
  const dir = '/etc/chromium/policies/managed';
  const made = mkdirSync(dir, { recursive: true });   // the first folder it made, or undefined
  const file = join(dir, `siths-test-${name}-${process.pid}.json`);
  writeFileSync(file, JSON.stringify(policy));
  const remove = () => {
    rmSync(file, { force: true });
    for (let d = dir; made && d.length >= made.length; d = dirname(d)) {
      try { rmdirSync(d); } catch { break; /* not empty: another test's file, or not ours */ }
    }
  };
  return { file, remove };
}
