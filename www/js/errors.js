// errors.js — the page's plain-language text for every error of the client module or of a
// job-failed event (PIN, PUK, a PIN change cut short by the card going away), and which errors
// are about the PIN or about the session. The codes are the
// daemon's (docs/api/openapi.yaml, docs/api/events.md) and the client module's own
// ('unreachable', 'disconnected'). A CA's refusal is told in its own terms (issuer_status of
// docs/api/events.md): its PKIFailureInfo bits as plain Swedish, its own text quoted.
import { t } from '../i18n.js';
import { lenText } from './pin-rules.js';

const PIN_ERRORS = new Set(['wrong_pin', 'pin_blocked', 'bad_pin']);
const SESSION_ERRORS = new Set(['login_required', 'session_expired']);
const ISSUER_ERRORS = new Set(['issuer_unavailable', 'issuer_failed', 'issuer_refused', 'cert_invalid']);

// PKIFailureInfo bit names (RFC 9810) → the plain-language reason they share (fi_* texts).
const FAIL_INFO = {
  badRequest: 'request', badCertTemplate: 'request', badDataFormat: 'request', unacceptedPolicy: 'request',
  unacceptedExtension: 'request', badAlg: 'request', notAuthorized: 'authorized', badMessageCheck: 'check',
  wrongIntegrity: 'check', signerNotTrusted: 'check', badPOP: 'pop', duplicateCertReq: 'duplicate',
  transactionIdInUse: 'duplicate', certRevoked: 'revoked', systemUnavail: 'system', systemFailure: 'system',
  badTime: 'time', timeNotAvailable: 'time',
};

/** A wrong, blocked or malformed PIN: the user can act on it in the PIN dialog. */
export function isPinError(e) {
  return Boolean(e) && PIN_ERRORS.has(e.code);
}

/** The card's session is missing or over: log in with PIN1 again. */
export function isSessionError(e) {
  return Boolean(e) && SESSION_ERRORS.has(e.code);
}

// The daemon names the code of the wrong form and its rule (docs/api/openapi.yaml: field,
// min_length, max_length) for a PIN change or unblock; older answers name nothing.
function badPinText(e) {
  const d = (e.body && e.body.error) || {};
  const field = { pin: 'old', new_pin: 'new', puk: 'puk' }[d.field];
  if (!field || !Number.isInteger(d.min_length)) return t('err_bad_pin');
  const min = d.min_length;
  const max = Number.isInteger(d.max_length) ? Math.max(min, d.max_length) : min;
  return t(`pm_invalid_${field}`, { len: lenText({ min, max }) });
}

// A wrong PIN or PUK ('pin' | 'puk'): the tries left, with a warning before the last one.
function wrongCodeText(e, kind) {
  if (e.triesLeft === undefined || e.triesLeft === null) return t(`err_wrong_${kind}_unknown`);
  return e.triesLeft === 1 ? t(`err_wrong_${kind}_1`) : t(`err_wrong_${kind}`, { n: e.triesLeft });
}

// The CA refused: why, from its failure bits, and what it said itself.
function issuerRefusedText(e) {
  const st = (e.body && e.body.issuer_status) || {};
  const bits = Array.isArray(st.fail_info) ? st.fail_info : [];
  const reasons = [...new Set(bits.map((b) => FAIL_INFO[b]).filter(Boolean))].map((r) => t(`fi_${r}`));
  const main = reasons.length ? t('err_issuer_refused', { reason: reasons.join(', ') }) : t('err_issuer_refused_plain');
  return typeof st.text === 'string' && st.text ? `${main} ${t('err_issuer_said', { text: st.text })}` : main;
}

/** Plain-language text for any error from the client module or a job-failed event. */
export function errorText(e) {
  if (!e) return '';
  const c = e.code || '';
  if (c === 'pin_blocked') return t('err_pin_blocked');
  if (c === 'wrong_pin') return wrongCodeText(e, 'pin');
  if (c === 'wrong_puk') return wrongCodeText(e, 'puk');
  if (c === 'puk_blocked') return t('err_puk_blocked');
  if (c === 'change_interrupted') return t('err_change_interrupted');
  if (c === 'pin_not_activated') return t('err_pin_not_activated');
  if (c === 'bad_pin') return badPinText(e);
  if (c === 'card_removed') return t('err_card_removed');
  if (c === 'card_not_found') return t('err_card_not_found');
  if (c === 'job_running') return t('err_job_running');
  if (c === 'unreachable' || c === 'disconnected') return t('err_unreachable');
  if (c === 'issuer_refused') return issuerRefusedText(e);
  if (c === 'issuer_failed') return t('err_issuer_failed');
  if (ISSUER_ERRORS.has(c)) return t('err_issuer');
  if (c === 'card_error') return t('err_card_io');
  if (isSessionError(e)) return t('err_session');
  return t('err_generic', { code: c || e.status || '?' });
}
