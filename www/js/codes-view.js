// codes-view.js — the "Dina koder" section of a card panel: PIN1, PIN2 and the PUK with their
// state from the card model (tries left, blocked, not yet activated) and the buttons that open
// the change and unblock dialogs (js/pin-manage.js). No login is needed for either.
import { t } from '../i18n.js';
import { $, cardPanel } from './dom.js';
import { pinInfo, triesText } from './pin-rules.js';

/** Wires a new panel's code buttons: open(cardId, which, 'change' | 'unblock', button). */
export function initCodes(panel, cardId, open) {
  for (const row of panel.querySelectorAll('.code-row')) {
    const which = row.dataset.pin;
    const name = $('.code-name', row);
    const state = $('.code-state', row);
    name.id = `card-${cardId}-${which}-name`;
    state.id = `card-${cardId}-${which}-state`;
    for (const [sel, action] of [['.pin-change', 'change'], ['.pin-unblock', 'unblock']]) {
      const b = $(sel, row);
      if (!b) continue;
      // Two "Lås upp med PUK" buttons read the same: the description says which code.
      if (action === 'unblock') b.setAttribute('aria-describedby', `${name.id} ${state.id}`);
      b.addEventListener('click', (e) => open(cardId, which, action, e.currentTarget));
    }
  }
}

function stateText(info, which) {
  if (info.blocked) return t(which === 'puk' ? 'code_puk_blocked' : 'code_blocked');
  if (!info.activated) return t('code_not_activated');
  return triesText(info.tries, which === 'puk' ? 'puk' : 'pin');
}

/** Shows the card's codes; `busy`: a flow runs on the card, its buttons wait. */
export function fillCodes(panel, card, { busy }) {
  const section = $('.codes', panel);
  section.hidden = card.status === 'error' || !card.pins;
  if (section.hidden) return;
  const puk = pinInfo(card, 'puk');
  for (const row of section.querySelectorAll('.code-row')) {
    const which = row.dataset.pin;
    const info = pinInfo(card, which);
    row.hidden = !info.present;
    row.dataset.state = info.blocked ? 'blocked' : info.activated ? 'ok' : 'not-activated';
    $('.code-state', row).textContent = stateText(info, which);
    const change = $('.pin-change', row);
    const unblock = $('.pin-unblock', row);
    // A blocked code is unblocked, not changed; a reserve card's signature code not yet
    // activated is activated by the download (the user guide's steps 6 and 8).
    if (change) { change.hidden = info.blocked || !info.activated; change.disabled = busy; }
    if (unblock) { unblock.hidden = !info.blocked || !puk.present || puk.blocked; unblock.disabled = busy; }
  }
}

/** The button of a code's row to return focus to after its dialog: the one shown now. */
export function codeButton(cardId, which) {
  const panel = cardPanel(cardId);
  const row = panel && panel.querySelector(`.code-row[data-pin="${which}"]`);
  return (row && row.querySelector('button:not([hidden])')) || null;
}
