// i18n.js — the page's texts in Swedish (default; strings of the user guide kept verbatim) and
// English. t(key, params) fills {name} placeholders; apply(root) sets the text of every element
// with data-i18n="key" and the attributes listed in data-i18n-attr="attr:key;attr:key".

const sv = {
  doc_title: 'Mina sidor – SITHS eID',
  skip: 'Hoppa till innehållet',
  brand: 'SITHS eID',
  brand_sub: 'Mina sidor',
  lang_switch: 'English',
  lang_switch_label: 'Visa sidan på engelska',
  title: 'Hämta underskriftscertifikat',
  lead: 'Om ditt kort saknar underskriftscertifikat kan du ladda ned detta via Mina sidor',
  cards_heading: 'Dina SITHS-kort',
  steps_heading: 'Så här gör du',
  step1: 'Sätt kortet i kortläsaren.',
  step2: 'Logga in med din legitimeringskod (PIN1).',
  step3: 'Klicka på Hämta underskriftscertifikat och ange din underskriftskod (PIN2).',
  step4: 'Låt kortet sitta kvar i kortläsaren tills nedladdningen är klar.',
  footer: 'SITHS eID används av medarbetare inom vård och omsorg. Sidan visas av programmet siths-bridge på din dator.',

  conn_connecting: 'Ansluter till SITHS-tjänsten på din dator …',
  conn_lost: 'Anslutningen till SITHS-tjänsten bröts. Försöker igen om {s} s.',
  retry_now: 'Försök nu',
  unreachable_title: 'SITHS-tjänsten svarar inte',
  unreachable_text: 'Sidan når inte programmet siths-bridge på den här datorn. Så här gör du:',
  unreachable_do1: 'Kontrollera att siths-bridge är startat. Starta det med kommandot `systemctl start siths-bridge`, eller starta om datorn.',
  unreachable_do2: 'Är programmet startat men webbläsaren varnar för certifikatet? Installera siths-bridge-certifikatet med `certs/trust-localhost-ca.sh install` och ladda om sidan.',
  unreachable_do3: 'Kontakta IT-supporten om felet kvarstår.',
  pcsc_down: 'Kortläsartjänsten (pcscd) svarar inte. Starta om den med `systemctl restart pcscd`, eller starta om datorn. Korten visas här igen när tjänsten är igång.',
  no_reader_title: 'Ingen kortläsare hittades',
  no_reader_text: 'Anslut en kortläsare till datorn. Kortet visas här så snart läsaren och kortet är på plats.',
  no_card_title: 'Sätt kortet i kortläsaren',
  no_card_text: 'Inget kort hittades i kortläsaren. Kortet visas här automatiskt när du sätter i det.',
  loading: 'Hämtar dina kort …',

  card_kind: 'SITHS-kort',
  ordinary: 'Ordinarie kort',
  reserve: 'Reservkort',
  f_org: 'Organisation',
  f_valid_from: 'Giltig från',
  f_valid_to: 'Giltig till',
  f_serial: 'Serienummer',
  f_trust: 'Tillitsnivå',
  f_reader: 'Kortläsare',
  f_holder: 'Kortinnehavare',
  eid_heading: 'SITHS EID',
  th_hsa: 'Tjänste-id',
  hsa_prefix: 'HSA-id:',
  th_upn: 'UPN',
  th_email: 'Email',
  th_sign: 'Underskriftscertifikat',
  action_get: 'Hämta underskriftscertifikat',
  sign_present: 'Finns',
  sign_blocked: 'Underskriftskoden är spärrad. Lås upp den med PUK-koden i kodbrevet, eller kontakta din SITHS-administratör.',
  login_hint: 'Logga in med din legitimeringskod (PIN1) för att hämta underskriftscertifikat.',
  login_btn: 'Logga in',
  logged_in: 'Inloggad som {name}',
  logout: 'Logga ut',
  card_error: 'Kortet kunde inte läsas. Ta ut kortet, sätt i det igen och vänta några sekunder. Om felet kvarstår kan kortet vara skadat: kontakta din SITHS-administratör.',

  dlg_title: 'SITHS eID',
  pin2_desc: 'Vänligen ange underskriftskoden (PIN2) för att skapa en ny certifikatsbegäran',
  pin2_sub: 'Ange pinkod för SITHS-kort (Underskrift)',
  pin2_label: 'Ange underskriftskod (PIN2)',
  pin1_desc: 'Vänligen ange legitimeringskoden (PIN1) för att logga in på Mina sidor',
  pin1_sub: 'Ange pinkod för SITHS-kort (Legitimering)',
  pin1_label: 'Ange legitimeringskod (PIN1)',
  btn_ok: 'Legitimera',
  btn_cancel: 'Avbryt',
  test_marker: 'Test',
  test_title: 'Testmiljö: certifikatet utfärdas av en testutfärdare och gäller inte i skarp drift.',
  tries: '{n} försök kvar',
  tries_1: '1 försök kvar. Nästa felaktiga kod spärrar koden.',
  pin_len: '{min}–{max} siffror',
  pin_len_fixed: '{min} siffror',
  reserve_note_title: 'OBS!',
  reserve_note: 'Om du behöver aktivera underskriftskoden till ett reservkort är det olika beroende på hur det brev med koder som följer med reservkortet ser ut. Om du har tre koder i brevet varav en är underskriftskod anger du den. Om brevet bara har två koder anger du den kod som kallas säkerhetskod alltså samma kod du har som inloggningskod.',
  pin_invalid: 'Koden ska vara {len} (bara siffror).',
  checking: 'Kontrollerar koden …',

  job_title: 'Hämta underskriftscertifikat',
  job_started: 'Hämtning startad',
  job_warning: 'Hämtning av underskriftscertifikat pågår. Ta inte ut kortet ur läsaren under tiden.',
  job_progress_label: 'SITHS eID laddas ner till kortet',
  stage_queued: 'Förbereder',
  stage_verify_pin: 'Kontrollerar underskriftskoden',
  stage_generate_key: 'Skapar en ny nyckel på kortet',
  stage_build_csr: 'Skapar certifikatsbegäran',
  stage_submit: 'Skickar begäran till utfärdaren',
  stage_validate: 'Kontrollerar det nya certifikatet',
  stage_write: 'Sparar certifikatet på kortet',
  stage_verify: 'Kontrollerar det sparade certifikatet',
  stage_done: 'Klart',
  job_done_title: 'Underskriftscertifikatet finns nu på kortet',
  job_done_text: 'Den kod du angav är nu aktiverad som underskriftskod. Du kan ta ut kortet ur läsaren.',
  job_failed_title: 'Hämtningen misslyckades',
  btn_close: 'Stäng',
  btn_try_again: 'Försök igen',
  wait_card: 'Knappen Försök igen går att använda när kortet är på plats igen.',

  ann_card_in: 'Ett SITHS-kort sattes i: {name}.',
  ann_card_out: 'SITHS-kortet togs ut ur kortläsaren.',
  ann_progress: '{stage}: {p} procent.',
  ann_logged_in: 'Du är inloggad.',
  ann_logged_out: 'Du är utloggad.',

  err_wrong_pin: 'Fel kod. Du har {n} försök kvar. Kontrollera koden och försök igen.',
  err_wrong_pin_1: 'Fel kod. Du har 1 försök kvar. Om nästa kod också är fel spärras koden och måste låsas upp med din PUK-kod.',
  err_wrong_pin_unknown: 'Fel kod. Kontrollera koden och försök igen.',
  err_pin_blocked: 'Koden är spärrad efter för många felaktiga försök. Lås upp den med PUK-koden i brevet som kom med kortet (till exempel i SITHS eID-appen), eller kontakta din SITHS-administratör. Försök sedan igen.',
  err_card_removed: 'Kortet togs ut ur läsaren innan hämtningen var klar. Sätt tillbaka kortet i kortläsaren, logga in igen och klicka på Försök igen.',
  err_card_not_found: 'Kortet finns inte längre i kortläsaren. Sätt i kortet och försök igen.',
  err_session: 'Din inloggning har gått ut. Logga in igen med din legitimeringskod (PIN1).',
  err_job_running: 'En hämtning pågår redan för det här kortet. Vänta tills den är klar.',
  err_bad_pin: 'Koden har fel format. Ange bara siffror, så många som kortet kräver.',
  err_issuer: 'Certifikatutfärdaren kunde inte utfärda något certifikat. Ingenting har sparats på kortet. Försök igen om en stund eller kontakta din SITHS-administratör.',
  err_unreachable: 'SITHS-tjänsten på din dator svarar inte. Kontrollera att siths-bridge är startat och försök igen.',
  err_card_io: 'Kortet svarade inte som väntat. Ta ut kortet, sätt i det igen och försök igen.',
  err_generic: 'Något gick fel ({code}). Försök igen. Kontakta IT-supporten om felet kvarstår.',
  err_api: 'SITHS-tjänsten på din dator svarade med ett fel ({code}), så korten kan inte visas. Ladda om sidan. Kontakta IT-supporten om felet kvarstår.',
};

const en = {
  doc_title: 'My pages – SITHS eID',
  skip: 'Skip to content',
  brand: 'SITHS eID',
  brand_sub: 'My pages',
  lang_switch: 'Svenska',
  lang_switch_label: 'Visa sidan på svenska (show the page in Swedish)',
  title: 'Download signature certificate',
  lead: 'If your card has no signature certificate, you can download one here on My pages.',
  cards_heading: 'Your SITHS cards',
  steps_heading: 'How it works',
  step1: 'Put the card in the card reader.',
  step2: 'Log in with your authentication code (PIN1).',
  step3: 'Click Download signature certificate and enter your signature code (PIN2).',
  step4: 'Leave the card in the reader until the download has finished.',
  footer: 'SITHS eID is used by staff in Swedish health and social care. This page is served by the siths-bridge program on your computer.',

  conn_connecting: 'Connecting to the SITHS service on your computer …',
  conn_lost: 'The connection to the SITHS service was lost. Retrying in {s} s.',
  retry_now: 'Retry now',
  unreachable_title: 'The SITHS service does not answer',
  unreachable_text: 'The page cannot reach the siths-bridge program on this computer. What to do:',
  unreachable_do1: 'Check that siths-bridge is running. Start it with the command `systemctl start siths-bridge`, or restart the computer.',
  unreachable_do2: 'Is it running but the browser warns about the certificate? Install the siths-bridge certificate with `certs/trust-localhost-ca.sh install` and reload the page.',
  unreachable_do3: 'Contact IT support if the problem persists.',
  pcsc_down: 'The smart card service (pcscd) does not answer. Restart it with `systemctl restart pcscd`, or restart the computer. Your cards appear here again once it runs.',
  no_reader_title: 'No card reader found',
  no_reader_text: 'Connect a card reader to the computer. Your card appears here as soon as the reader and the card are in place.',
  no_card_title: 'Put the card in the card reader',
  no_card_text: 'No card was found in the card reader. The card appears here by itself when you insert it.',
  loading: 'Loading your cards …',

  card_kind: 'SITHS card',
  ordinary: 'Ordinary card',
  reserve: 'Reserve card',
  f_org: 'Organisation',
  f_valid_from: 'Valid from',
  f_valid_to: 'Valid to',
  f_serial: 'Serial number',
  f_trust: 'Trust level',
  f_reader: 'Card reader',
  f_holder: 'Card holder',
  eid_heading: 'SITHS EID',
  th_hsa: 'Service id',
  hsa_prefix: 'HSA-id:',
  th_upn: 'UPN',
  th_email: 'Email',
  th_sign: 'Signature certificate',
  action_get: 'Download signature certificate',
  sign_present: 'Present',
  sign_blocked: 'The signature code is blocked. Unblock it with the PUK from your code letter, or contact your SITHS administrator.',
  login_hint: 'Log in with your authentication code (PIN1) to download a signature certificate.',
  login_btn: 'Log in',
  logged_in: 'Logged in as {name}',
  logout: 'Log out',
  card_error: 'The card could not be read. Remove the card, insert it again and wait a few seconds. If this keeps happening the card may be damaged: contact your SITHS administrator.',

  dlg_title: 'SITHS eID',
  pin2_desc: 'Please enter the signature code (PIN2) to create a new certificate request',
  pin2_sub: 'Enter the PIN of the SITHS card (Signature)',
  pin2_label: 'Enter signature code (PIN2)',
  pin1_desc: 'Please enter the authentication code (PIN1) to log in to My pages',
  pin1_sub: 'Enter the PIN of the SITHS card (Authentication)',
  pin1_label: 'Enter authentication code (PIN1)',
  btn_ok: 'Authenticate',
  btn_cancel: 'Cancel',
  test_marker: 'Test',
  test_title: 'Test environment: the certificate is issued by a test issuer and is not valid in production.',
  tries: '{n} tries left',
  tries_1: '1 try left. The next wrong code blocks the code.',
  pin_len: '{min}–{max} digits',
  pin_len_fixed: '{min} digits',
  reserve_note_title: 'Note:',
  reserve_note: 'Reserve cards: it depends on the letter with codes that came with the card. If the letter has three codes, one of them the signature code, enter that one. If it has only two, enter the one called security code (säkerhetskod), which is the same as your login code.',
  pin_invalid: 'The code must be {len} (digits only).',
  checking: 'Checking the code …',

  job_title: 'Download signature certificate',
  job_started: 'Download started',
  job_warning: 'The signature certificate is being downloaded. Do not remove the card from the reader meanwhile.',
  job_progress_label: 'SITHS eID is being downloaded to the card',
  stage_queued: 'Preparing',
  stage_verify_pin: 'Checking the signature code',
  stage_generate_key: 'Creating a new key on the card',
  stage_build_csr: 'Creating the certificate request',
  stage_submit: 'Sending the request to the issuer',
  stage_validate: 'Checking the new certificate',
  stage_write: 'Saving the certificate on the card',
  stage_verify: 'Checking the saved certificate',
  stage_done: 'Done',
  job_done_title: 'The signature certificate is now on the card',
  job_done_text: 'The code you entered is now active as your signature code. You may remove the card.',
  job_failed_title: 'The download failed',
  btn_close: 'Close',
  btn_try_again: 'Try again',
  wait_card: 'The Try again button works once the card is back in place.',

  ann_card_in: 'A SITHS card was inserted: {name}.',
  ann_card_out: 'The SITHS card was removed from the reader.',
  ann_progress: '{stage}: {p} percent.',
  ann_logged_in: 'You are logged in.',
  ann_logged_out: 'You are logged out.',

  err_wrong_pin: 'Wrong code. You have {n} tries left. Check the code and try again.',
  err_wrong_pin_1: 'Wrong code. You have 1 try left. If the next code is wrong too, the code is blocked and must be unblocked with your PUK.',
  err_wrong_pin_unknown: 'Wrong code. Check the code and try again.',
  err_pin_blocked: 'The code is blocked after too many wrong tries. Unblock it with the PUK from the letter that came with the card (for example in the SITHS eID app), or contact your SITHS administrator. Then try again.',
  err_card_removed: 'The card was removed before the download finished. Put the card back in the reader, log in again and click Try again.',
  err_card_not_found: 'The card is no longer in the reader. Insert the card and try again.',
  err_session: 'Your login has expired. Log in again with your authentication code (PIN1).',
  err_job_running: 'A download is already running for this card. Wait until it has finished.',
  err_bad_pin: 'The code has the wrong format. Enter digits only, as many as the card requires.',
  err_issuer: 'The certificate issuer could not issue a certificate. Nothing was saved on the card. Try again later or contact your SITHS administrator.',
  err_unreachable: 'The SITHS service on your computer does not answer. Check that siths-bridge is running and try again.',
  err_card_io: 'The card did not answer as expected. Remove the card, insert it again and try again.',
  err_generic: 'Something went wrong ({code}). Try again. Contact IT support if the problem persists.',
  err_api: 'The SITHS service on your computer answered with an error ({code}), so your cards cannot be shown. Reload the page. Contact IT support if the problem persists.',
};

export const DICTS = { sv, en };
export const LANGS = Object.keys(DICTS);
let lang = 'sv';

export function getLang() { return lang; }

/** Sets the language ('sv' or 'en'; anything else is ignored) and <html lang>. */
export function setLang(l) {
  if (!DICTS[l]) return lang;
  lang = l;
  if (typeof document !== 'undefined') document.documentElement.lang = l;
  return lang;
}

/** The text for key in the current language, {name} replaced from params. Unknown key → key. */
export function t(key, params = {}) {
  const s = DICTS[lang][key] ?? DICTS.sv[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

export function has(key) { return key in DICTS[lang]; }

/** Sets el's text; `backticked` parts become <code> (built as nodes, never parsed as HTML). */
export function setText(el, text) {
  if (!text.includes('`')) { el.textContent = text; return; }
  el.replaceChildren(...text.split('`').map((part, i) => {
    if (i % 2 === 0) return document.createTextNode(part);
    const c = document.createElement('code');
    c.textContent = part;
    return c;
  }));
}

/** Fills data-i18n texts and data-i18n-attr attributes under root. */
export function apply(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) setText(el, t(el.dataset.i18n));
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      if (attr && key) el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}
