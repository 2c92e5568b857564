// opensc-checks.mjs — what OpenSC (not written here) says about a card's codes through a private
// pcscd: pkcs11-tool logs in with a PIN and signs (openssl verifies with the public key the card
// exported), and the card's own answer to an empty VERIFY in a fresh card session.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmp, opensc, sendApdus } from './harness.mjs';

export const PKCS11 = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';

// pkcs11-tool --login --pin PIN --sign with the key of PIN1 (slot 0) or PIN2 (slot 1); openssl
// verifies the signature with exportDir's auth-pub.pem / sign-pub.pem. The tool's result and ok.
export async function signs(pc, conf, exportDir, which, pin) {
  const dir = tmp('sig-');
  const msg = join(dir, 'msg'), sig = join(dir, 'sig');
  writeFileSync(msg, `signerat med ${which} ${Date.now()}`);
  const r = await opensc(pc, 'pkcs11-tool', ['--module', PKCS11, '--slot-index', which === 'pin1' ? '0' : '1',
    '--login', '--pin', pin, '--sign', '--mechanism', 'SHA256-RSA-PKCS', '--id', which === 'pin1' ? '01' : '02',
    '--input-file', msg, '--output-file', sig], { conf });
  if (r.code !== 0) return { ...r, ok: false };
  const pub = join(exportDir, which === 'pin1' ? 'auth-pub.pem' : 'sign-pub.pem');
  const v = execFileSync('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', sig, msg]).toString();
  return { ...r, ok: /Verified OK/.test(v) };
}

// The status word of an empty VERIFY of reference ref (63Cx tries, 6983 blocked, 6984 not
// activated) after a warm reset: OpenSC leaves the card as it is when it disconnects, so a PIN it
// presented would still read as verified (9000) without the reset.
export async function pinStatus(pc, conf, ref) {
  await opensc(pc, 'opensc-tool', ['-r', '0', '--reset', 'warm'], { conf });
  const r = await sendApdus(pc, 0, ['00 A4 08 0C 02 50 15', `00 20 00 0${ref}`], { conf });
  return r[1].sw;
}

// A PIN status word of the card (63Cx, 6983) as the API's counter: { tries_left, blocked }.
export const triesOf = (sw) => (sw === '6983' ? { tries_left: 0, blocked: true }
  : /^63C[0-9A-F]$/.test(sw) ? { tries_left: parseInt(sw[3], 16), blocked: false } : { sw });

// What OpenSC reads of a card in reader 0, independently of the daemon: the signature
// certificate (PEM, or null when pkcs15-tool finds none), the public key the PuKDF lists for the
// signing key (PEM), and PIN1, PIN2 and the PUK's status words after one warm reset (see
// pinStatus). Throws when OpenSC cannot read the card at all.
export async function openscCardView(pc, conf) {
  const cert = await opensc(pc, 'pkcs15-tool', ['--read-certificate', '02'], { conf });
  if (cert.code !== 0 && !/Certificate with ID '02' not found/.test(cert.stdout + cert.stderr))
    throw new Error(`pkcs15-tool --read-certificate 02: ${cert.code} ${cert.stdout}${cert.stderr}`);
  const pub = await opensc(pc, 'pkcs15-tool', ['--read-public-key', '02'], { conf });
  if (pub.code !== 0) throw new Error(`pkcs15-tool --read-public-key 02: ${pub.code} ${pub.stdout}${pub.stderr}`);
  await opensc(pc, 'opensc-tool', ['-r', '0', '--reset', 'warm'], { conf });
  const sw = await sendApdus(pc, 0, ['00 A4 08 0C 02 50 15', '00 20 00 01', '00 20 00 02', '00 20 00 03'], { conf });
  if (sw.length !== 4) throw new Error(`opensc-tool PIN status: ${sw.code} ${sw.stdout}${sw.stderr}`);
  const pem = (text, label) => (text.match(new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`)) || [null])[0];
  return { cert: cert.code === 0 ? pem(cert.stdout, 'CERTIFICATE') : null, pub: pem(pub.stdout, '(?:RSA )?PUBLIC KEY'),
    pins: { pin1: sw[1].sw, pin2: sw[2].sw, puk: sw[3].sw } };
}
