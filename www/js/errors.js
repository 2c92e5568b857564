// errors.js — the page's plain-language text for every error of the client module or of a
// job-failed event, and which errors are about the PIN or about the session. Besides the daemon's
// codes (docs/api/openapi.yaml) it also accepts alias codes the daemon does not send
// (pin_incorrect, blocked, bad_pin, …).
import { t } from '../i18n.js';

const PIN_ERRORS = new Set(['wrong_pin', 'pin_incorrect', 'pin_blocked', 'blocked', 'bad_pin', 'invalid_pin']);
const SESSION_ERRORS = ['login_required', 'session_missing', 'session_expired', 'missing', 'expired', 'unauthorized'];

/** A wrong, blocked or malformed PIN: the user can act on it in the PIN dialog. */
export function isPinError(e) {
  return Boolean(e) && (PIN_ERRORS.has(e.code) || e.triesLeft !== undefined || e.status === 423);
}

/** The card's session is missing or over: log in with PIN1 again. */
export function isSessionError(e) {
  return Boolean(e) && ((e.status === 401 && e.triesLeft === undefined && !PIN_ERRORS.has(e.code)) ||
    SESSION_ERRORS.includes(e.code));
}

/** Plain-language text for any error from the client module or a job-failed event. */
export function errorText(e) {
  if (!e) return '';
  const c = e.code || '';
  if (c === 'pin_blocked' || c === 'blocked' || e.status === 423 || e.triesLeft === 0) return t('err_pin_blocked');
  if (c === 'wrong_pin' || c === 'pin_incorrect' || e.triesLeft !== undefined) {
    if (e.triesLeft === undefined || e.triesLeft === null) return t('err_wrong_pin_unknown');
    return e.triesLeft === 1 ? t('err_wrong_pin_1') : t('err_wrong_pin', { n: e.triesLeft });
  }
  if (c === 'bad_pin' || c === 'invalid_pin') return t('err_bad_pin');
  if (c === 'card_removed') return t('err_card_removed');
  if (c === 'card_not_found' || e.status === 404) return t('err_card_not_found');
  if (c === 'job_running' || c === 'busy' || e.status === 409) return t('err_job_running');
  if (c === 'unreachable' || c === 'disconnected') return t('err_unreachable');
  if (c.startsWith('issuer') || c.startsWith('cert_') || c === 'validation_failed') return t('err_issuer');
  if (c.startsWith('card_') || c === 'apdu' || c === 'transmit') return t('err_card_io');
  if (isSessionError(e)) return t('err_session');
  return t('err_generic', { code: c || e.status || '?' });
}
