// dom.js — the small DOM helpers the page's parts share: a query shorthand, a card's panel, the
// screen-reader announcer, and where focus goes back to when a dialog or flow ends.

export const $ = (sel, root = document) => root.querySelector(sel);

/** The panel of card `id` in #card-list, or null. */
export function cardPanel(id) {
  return [...document.querySelectorAll('#card-list .card-panel')].find((p) => p.dataset.cardId === id) || null;
}

export function announce(text) {
  const el = $('#announcer');
  el.textContent = '';
  // A fresh text node after a tick is announced even when the text repeats.
  setTimeout(() => { el.textContent = text; }, 30);
}

/** Focus back to `opener`, or to a button of its card panel after a re-render, or to main. */
export function restoreFocus(opener) {
  if (opener && opener.isConnected && !opener.hidden && !opener.disabled) { opener.focus(); return; }
  const panel = opener && opener.closest && opener.closest('.card-panel');
  const fallback = panel && panel.isConnected && panel.querySelector('button:not([hidden]):not([disabled])');
  (fallback || $('#main')).focus();
}
