// playwright-style.mjs — the subset of Playwright's Page/Locator/Response API our browser tests use,
// on top of a puppeteer Page (Firefox over WebDriver BiDi), so one test source drives Chromium
// (playwright-core itself) and Firefox. Locators are lazy selector chains resolved in the page at
// each use, strict (an action on a locator that matches several elements fails, as in Playwright),
// and every wait polls its condition up to a deadline: nothing sleeps for a fixed time.
//
// What a test may call is listed in PAGE/LOCATOR below; anything else fails loudly naming this file,
// so a Playwright-style test that needs more gets it added here rather than silently diverging.

const DEFAULT_TIMEOUT = 30000;   // Playwright's default for actions and waits
const POLL_MS = 20;

// ---------- in the page: resolving a selector chain and describing what it found ----------

// Runs in the page. steps: [{css}|{nth}|{hasText}|{hasTextRe:[src,flags]}|{hasNotText}]; op: what
// to report. Kept self-contained: puppeteer serialises it into the page.
function inPage(steps, op, arg) {
  const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
  let set = [document];
  for (const s of steps) {
    if (s.css !== undefined) {
      const out = new Set();
      for (const root of set) for (const el of root.querySelectorAll(s.css)) out.add(el);
      set = [...out].sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
    } else if (s.nth !== undefined) {
      const i = s.nth < 0 ? set.length + s.nth : s.nth;
      set = set[i] ? [set[i]] : [];
    } else if (s.hasText !== undefined) {
      // Playwright: a string matches as a case-insensitive substring of the normalised text.
      const want = norm(s.hasText).toLowerCase();
      set = set.filter((el) => norm(el.textContent).toLowerCase().includes(want));
    } else if (s.hasTextRe !== undefined) {
      const re = new RegExp(s.hasTextRe[0], s.hasTextRe[1]);
      set = set.filter((el) => re.test(norm(el.textContent)));
    } else if (s.hasNotText !== undefined) {
      const want = norm(s.hasNotText).toLowerCase();
      set = set.filter((el) => !norm(el.textContent).toLowerCase().includes(want));
    }
  }
  // Playwright's notion of visible: a non-empty box and not visibility:hidden.
  const visible = (el) => {
    if (!el.isConnected) return false;
    const st = getComputedStyle(el);
    if (st.visibility !== 'visible') return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const disabled = (el) => ['BUTTON', 'INPUT', 'SELECT', 'TEXTAREA', 'OPTION', 'OPTGROUP', 'FIELDSET'].includes(el.tagName) &&
    (el.disabled || !!el.closest('fieldset[disabled]'));
  if (op === 'all-inner-texts') return set.map((el) => el.innerText);
  const one = set.length === 1 ? set[0] : null;
  if (op === 'element') return one;
  const info = { count: set.length, visible: !!one && visible(one) };
  if (!one) return info;
  switch (op) {
    case 'probe': break;
    case 'text-content': info.value = one.textContent; break;
    case 'inner-text': info.value = one.innerText; break;
    case 'inner-html': info.value = one.innerHTML; break;
    case 'input-value': info.value = one.value; break;
    case 'attribute': info.value = one.getAttribute(arg); break;
    case 'disabled': info.value = disabled(one); break;
    case 'checked': info.value = !!one.checked; break;
    case 'box': { const r = one.getBoundingClientRect(); info.value = { x: r.x, y: r.y, width: r.width, height: r.height }; break; }
    case 'focus': one.focus(); break;
    case 'actionable': {
      // What a click needs: visible, enabled, in view, and the element itself (or a descendant)
      // is what a pointer at its centre hits — not an overlay or a modal dialog's backdrop.
      info.enabled = !disabled(one);
      if (!info.visible || !info.enabled) break;
      const r0 = one.getBoundingClientRect();
      if (r0.top < 0 || r0.left < 0 || r0.bottom > innerHeight || r0.right > innerWidth) one.scrollIntoView({ block: 'center', inline: 'center' });
      const r = one.getBoundingClientRect();
      const x = r.left + r.width / 2, y = r.top + r.height / 2;
      const hit = document.elementFromPoint(x, y);
      info.point = { x, y };
      info.hits = !!hit && (one === hit || one.contains(hit));
      info.hitWhat = hit ? `${hit.tagName.toLowerCase()}${hit.id ? `#${hit.id}` : ''}` : 'nothing';
      break;
    }
    case 'fill': {
      if (disabled(one) || one.readOnly) { info.refused = 'not editable'; break; }
      one.focus();
      if (typeof one.select === 'function') one.select();
      else { const rg = document.createRange(); rg.selectNodeContents(one); getSelection().removeAllRanges(); getSelection().addRange(rg); }
      // As a user's typing would: input events from the editor (what Playwright's fill does).
      if (!(arg === '' ? document.execCommand('delete') : document.execCommand('insertText', false, arg))) {
        one.value = arg;
        one.dispatchEvent(new Event('input', { bubbles: true }));
      }
      one.dispatchEvent(new Event('change', { bubbles: true }));
      break;
    }
    default: throw new Error(`unknown op ${op}`);
  }
  return info;
}

// ---------- in node ----------

const describe = (steps) => steps.map((s) => (s.css !== undefined ? `locator(${JSON.stringify(s.css)})`
  : s.nth !== undefined ? `nth(${s.nth})` : `filter(${JSON.stringify(s.hasText ?? s.hasTextRe ?? s.hasNotText)})`)).join('.');

function unsupported(what) {
  return () => { throw new Error(`${what} is not in the Firefox layer (tests/lib/playwright-style.mjs): add it there`); };
}

// Every public method of an adapter object, anything else a loud error (not `undefined is not a
// function` far from the cause).
function strictObject(obj, what) {
  return new Proxy(obj, {
    get(t, k, r) {
      if (k in t || typeof k === 'symbol' || k === 'then' || k === 'toJSON') return Reflect.get(t, k, r);
      return unsupported(`${what}.${String(k)}`);
    },
  });
}

async function poll(check, timeout, what) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    const r = await check();
    if (r.done) return r.value;
    last = r.why;
    if (Date.now() > end) throw new Error(`${what}: timeout ${timeout}ms exceeded${last ? ` (${last})` : ''}`);
    await new Promise((res) => setTimeout(res, POLL_MS));
  }
}

class Locator {
  constructor(page, steps) { this._page = page; this._steps = steps; }

  _run(op, arg) { return this._page._pp.evaluate(inPage, this._steps, op, arg ?? null); }
  _chain(...more) { return strictObject(new Locator(this._page, [...this._steps, ...more]), 'locator'); }
  toString() { return describe(this._steps); }

  // Waits until exactly one element matches (more is a strictness error at once), then `op`.
  async _one(op, arg, { timeout = DEFAULT_TIMEOUT } = {}, ready = () => true) {
    return poll(async () => {
      const info = await this._run(op, arg);
      if (info.count > 1) throw new Error(`strict mode violation: ${this} resolved to ${info.count} elements`);
      if (info.count === 0) return { done: false, why: 'no element matches' };
      const why = ready(info);
      return why === true ? { done: true, value: info } : { done: false, why };
    }, timeout, `${this}.${op}`);
  }

  locator(css) { return this._chain({ css }); }
  nth(n) { return this._chain({ nth: n }); }
  first() { return this.nth(0); }
  last() { return this.nth(-1); }
  filter({ hasText, hasNotText, ...rest } = {}) {
    if (Object.keys(rest).length) unsupported(`filter(${Object.keys(rest)})`)();
    const steps = [];
    if (hasText instanceof RegExp) steps.push({ hasTextRe: [hasText.source, hasText.flags] });
    else if (hasText !== undefined) steps.push({ hasText });
    if (hasNotText !== undefined) steps.push({ hasNotText });
    return this._chain(...steps);
  }

  async waitFor({ state = 'visible', timeout = DEFAULT_TIMEOUT } = {}) {
    const met = {
      attached: (i) => i.count === 1, detached: (i) => i.count === 0,
      visible: (i) => i.count === 1 && i.visible, hidden: (i) => i.count === 0 || (i.count === 1 && !i.visible),
    }[state];
    if (!met) throw new Error(`waitFor: unknown state ${state}`);
    await poll(async () => {
      const info = await this._run('probe');
      if (info.count > 1) throw new Error(`strict mode violation: ${this} resolved to ${info.count} elements`);
      return { done: met(info), why: `${info.count} element(s), ${info.visible ? 'visible' : 'not visible'}` };
    }, timeout, `${this}.waitFor(${state})`);
  }

  async count() { return (await this._run('probe')).count; }
  async allInnerTexts() { return this._run('all-inner-texts'); }
  async isVisible() {
    const i = await this._run('probe');
    if (i.count > 1) throw new Error(`strict mode violation: ${this} resolved to ${i.count} elements`);
    return i.visible;
  }
  async isHidden() { return !(await this.isVisible()); }
  async textContent(o) { return (await this._one('text-content', null, o)).value; }
  async innerText(o) { return (await this._one('inner-text', null, o)).value; }
  async innerHTML(o) { return (await this._one('inner-html', null, o)).value; }
  async inputValue(o) { return (await this._one('input-value', null, o)).value; }
  async getAttribute(name, o) { return (await this._one('attribute', name, o)).value; }
  async isDisabled(o) { return (await this._one('disabled', null, o)).value; }
  async isEnabled(o) { return !(await this.isDisabled(o)); }
  async isChecked(o) { return (await this._one('checked', null, o)).value; }
  async boundingBox(o) { return (await this._one('box', null, o)).value; }
  async focus(o) { await this._one('focus', null, o); }

  // The element as a puppeteer handle, for evaluate(fn, arg) with the element as fn's first argument.
  async evaluate(fn, arg, o) {
    await this._one('probe', null, o);
    const h = await this._page._pp.evaluateHandle(inPage, this._steps, 'element', null);
    try {
      const el = h.asElement();
      if (!el) throw new Error(`${this}: element went away`);
      return await el.evaluate(fn, arg);
    } finally { await h.dispose(); }
  }

  // A real pointer click (puppeteer's mouse) at the element's centre once it is actionable.
  // Stable first, as Playwright's click: the same point on two probes one poll apart, so a layout
  // that still moves (a notice shown or hidden above, the panel re-rendered) does not take the
  // pointer to where the element was.
  async click({ timeout = DEFAULT_TIMEOUT } = {}) {
    let seen = null;
    const info = await this._one('actionable', null, { timeout }, (i) => {
      if (!i.visible) return 'not visible';
      if (!i.enabled) return 'disabled';
      if (!i.hits) return `${i.hitWhat} would receive the click`;
      const at = `${i.point.x},${i.point.y}`;
      if (at !== seen) { seen = at; return 'not stable yet'; }
      return true;
    });
    await this._page._pp.mouse.click(info.point.x, info.point.y);
  }

  async fill(value, { timeout = DEFAULT_TIMEOUT } = {}) {
    await this._one('probe', null, { timeout }, (i) => (i.visible ? true : 'not visible'));
    const r = await this._run('fill', String(value));
    if (r.refused) throw new Error(`${this}.fill: ${r.refused}`);
  }

  async press(key, o) { await this.focus(o); await this._page.keyboard.press(key); }
  async pressSequentially(text, o) { await this.focus(o); await this._page.keyboard.type(text); }
}

class Keyboard {
  constructor(pp) { this._kb = pp.keyboard; }
  // Playwright's "Shift+Tab": modifiers held down around the last key.
  async press(combo) {
    const keys = combo === '+' ? ['+'] : combo.split('+').map((k) => k || '+');
    const key = keys.pop();
    for (const m of keys) await this._kb.down(m);
    await this._kb.press(key);
    for (const m of keys.reverse()) await this._kb.up(m);
  }
  async type(text) { await this._kb.type(text); }
  async insertText(text) { await this._kb.sendCharacter(text); }
  async down(k) { await this._kb.down(k); }
  async up(k) { await this._kb.up(k); }
}

class Response {
  constructor(r) { this._r = r; }
  status() { return this._r.status(); }
  ok() { return this._r.ok(); }
  url() { return this._r.url(); }
  headers() { return this._r.headers(); }
  async allHeaders() { return this._r.headers(); }
  async headerValue(name) { return this._r.headers()[name.toLowerCase()] ?? null; }
  // WebDriver BiDi reports no TLS details (puppeteer: UnsupportedOperation in Firefox): null, as
  // Playwright gives for a response without them. That the load succeeded at all is the proof the
  // certificate was verified: the browser runs with acceptInsecureCerts off.
  async securityDetails() {
    try { const s = this._r.securityDetails(); return s ? { protocol: s.protocol(), issuer: s.issuer(), subjectName: s.subjectName() } : null; } catch { return null; }
  }
}

class Page {
  constructor(pp, context) {
    this._pp = pp;
    this._context = context;
    this.keyboard = new Keyboard(pp);
    this.mouse = pp.mouse;
  }
  locator(css) { return strictObject(new Locator(this, [{ css }]), 'locator'); }
  context() { return this._context; }
  url() { return this._pp.url(); }
  title() { return this._pp.title(); }
  async goto(url, { waitUntil = 'load', timeout = DEFAULT_TIMEOUT } = {}) {
    await this._pp.bringToFront();
    const r = await this._pp.goto(url, { waitUntil: waitUntil === 'domcontentloaded' ? 'domcontentloaded' : 'load', timeout });
    return r ? new Response(r) : null;
  }
  async reload({ timeout = DEFAULT_TIMEOUT } = {}) {
    const r = await this._pp.reload({ waitUntil: 'load', timeout });
    return r ? new Response(r) : null;
  }
  evaluate(fn, arg) { return this._pp.evaluate(fn, arg); }
  // Playwright: (fn, arg, {timeout, polling}); puppeteer: (fn, {timeout, polling}, ...args).
  async waitForFunction(fn, arg, { timeout = DEFAULT_TIMEOUT, polling = POLL_MS } = {}) {
    return this._pp.waitForFunction(fn, { timeout, polling }, arg);
  }
  async screenshot({ path, fullPage = false } = {}) { return this._pp.screenshot({ path, fullPage }); }
  async setViewportSize({ width, height }) { await this._pp.setViewport({ width, height }); }
  viewportSize() { const v = this._pp.viewport(); return v && { width: v.width, height: v.height }; }
  async bringToFront() { await this._pp.bringToFront(); }
  async close() { this._context._forget(this); await this._pp.close(); }
  isClosed() { return this._pp.isClosed(); }
  on(event, fn) { this._pp.on(event, fn); return this; }

  // Playwright's selector shortcuts on the page.
  getAttribute(sel, name, o) { return this.locator(sel).getAttribute(name, o); }
  textContent(sel, o) { return this.locator(sel).textContent(o); }
  innerText(sel, o) { return this.locator(sel).innerText(o); }
  inputValue(sel, o) { return this.locator(sel).inputValue(o); }
  isVisible(sel) { return this.locator(sel).isVisible(); }
  isHidden(sel) { return this.locator(sel).isHidden(); }
  click(sel, o) { return this.locator(sel).click(o); }
  fill(sel, v, o) { return this.locator(sel).fill(v, o); }
  focus(sel, o) { return this.locator(sel).focus(o); }
  press(sel, key, o) { return this.locator(sel).press(key, o); }
  waitForSelector(sel, { state = 'visible', timeout } = {}) { return this.locator(sel).waitFor({ state, timeout }); }
}

/**
 * A Playwright-style BrowserContext over a puppeteer Browser: newPage(), pages(), addInitScript(),
 * close(). `watch(pp)` is called with every new puppeteer page (to collect its problems).
 */
export class Context {
  constructor(browser, { watch = () => {} } = {}) {
    this._browser = browser;
    this._watch = watch;
    this._pages = [];
    this._init = [];
  }
  async _adopt(pp) {
    this._watch(pp);
    for (const [fn, arg] of this._init) await pp.evaluateOnNewDocument(fn, arg);
    const page = strictObject(new Page(pp, this), 'page');
    this._pages.push(page);
    return page;
  }
  _forget(page) { this._pages = this._pages.filter((p) => p !== page); }
  static async create(browser, opts) {
    const ctx = new Context(browser, opts);
    for (const pp of await browser.pages()) await ctx._adopt(pp);
    return strictObject(ctx, 'context');
  }
  async newPage() { const page = await this._adopt(await this._browser.newPage()); await page.bringToFront(); return page; }
  pages() { return [...this._pages]; }
  async addInitScript(fn, arg) {
    this._init.push([fn, arg]);
    for (const p of this._pages) await p._pp.evaluateOnNewDocument(fn, arg);
  }
  async close() { await this._browser.close(); }
}
