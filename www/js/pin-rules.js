// pin-rules.js — a card's codes (PIN1, PIN2, PUK) as its model states them: length rules, tries
// left, blocked, activated; and the texts for them. The page checks a code's form here before
// sending it, so a malformed code never costs a try.
import { t } from '../i18n.js';

// The defaults when the model does not state a rule (min_length 0, max_length null:
// docs/api/openapi.yaml): 6–8 digits for a PIN; the PUK of a SITHS card has 8.
const DEFAULT_MIN = { pin1: 6, pin2: 6, puk: 8 };

/**
 * Length limits, tries left and state of a card's 'pin1', 'pin2' or 'puk'. `present` is false
 * when the card has no such code (its entry is null or missing).
 */
export function pinInfo(card, which) {
  const entry = card.pins ? card.pins[which] : null;
  const p = entry || {};
  const min = p.min_length || DEFAULT_MIN[which] || 6;
  const max = Math.max(min, p.max_length ?? 8);
  const tries = p.tries_left ?? null;
  return {
    present: Boolean(entry), min, max, tries,
    blocked: p.blocked === true || tries === 0,
    // Unknown (an older daemon) counts as activated; only an explicit false is the reserve-card case.
    activated: p.activated !== false,
    lastChange: p.last_change ?? null,
  };
}

/** True when `code` is digits only and within info's lengths. */
export function codeFits(code, info) {
  return /^[0-9]+$/.test(code) && code.length >= info.min && code.length <= info.max;
}

/** "6–8 siffror" / "8 siffror". */
export function lenText({ min, max }) {
  return min === max ? t('pin_len_fixed', { min }) : t('pin_len', { min, max });
}

/** "3 försök kvar" (the PUK's last try has its own warning); '' when unknown. */
export function triesText(n, which = 'pin') {
  if (n === null || n === undefined) return '';
  if (n === 1) return which === 'puk' ? t('puk_tries_1') : t('tries_1');
  return t('tries', { n });
}
