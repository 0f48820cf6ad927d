// dom.js: builds DOM nodes from data. Text always goes in through textContent (never
// innerHTML), so names from the directory or the cloud stay inert whatever they contain.

/** Creates an element: h('p', {class: 'note'}, 'text', child, ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key.startsWith('on')) {
      // Only real listeners: inline handler strings would be markup, and CSP blocks them.
      if (typeof value === 'function') el.addEventListener(key.slice(2), value);
    } else if (key === 'style') {
      // Never: the CSP forbids inline styles; use a class.
    } else if (key === 'value' || key === 'checked' || key === 'disabled') {
      el[key] = value;
    } else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** Appends children; strings become text nodes, arrays are flattened, null is skipped. */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces all children of `parent`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

let idCounter = 0;
/** A unique id for label/input pairs. */
export function uid(prefix = 'f') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** A labelled input row; returns {row, input}. `hint` is linked with aria-describedby. */
export function field(label, attrs = {}, hint = null) {
  const id = attrs.id || uid();
  const tag = attrs.tag || 'input';
  const inputAttrs = { ...attrs, id };
  delete inputAttrs.tag;
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) inputAttrs['aria-describedby'] = hintId;
  const input = h(tag, inputAttrs);
  const row = h('div', { class: 'field' },
    h('label', { for: id }, label),
    input,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
  return { row, input };
}

/** A <select> with options given as [value, label] pairs. */
export function select(label, options, attrs = {}) {
  const { row, input } = field(label, { ...attrs, tag: 'select' });
  for (const [value, text] of options) input.append(h('option', { value }, text));
  return { row, input };
}

/** A group of radio buttons in a fieldset; returns {fieldset, value(), inputs}. */
export function radios(legend, name, options, checked) {
  const fieldset = h('fieldset', { class: 'radios' }, h('legend', {}, legend));
  const inputs = options.map(([value, text, hint]) => {
    const id = uid(name);
    const input = h('input', { type: 'radio', name, id, value, checked: value === checked });
    fieldset.append(h('div', { class: 'radio' }, input, h('label', { for: id }, text),
      hint ? h('p', { class: 'hint' }, hint) : null));
    return input;
  });
  const value = () => (inputs.find((i) => i.checked) || {}).value;
  return { fieldset, inputs, value };
}

/** A status line that screen readers announce (role=status, or role=alert for errors). */
export function statusLine() {
  const el = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  return {
    el,
    info(text) { el.className = 'status info'; el.textContent = text; },
    ok(text) { el.className = 'status ok'; el.textContent = text; },
    error(text) { el.className = 'status error'; el.textContent = text; },
    clear() { el.className = 'status'; el.textContent = ''; },
  };
}

/** A definition list from [term, value] pairs; values may be nodes. */
export function facts(pairs) {
  const dl = h('dl', { class: 'facts' });
  for (const [term, value] of pairs) {
    if (value === undefined) continue;
    dl.append(h('dt', {}, term), h('dd', {}, value === null || value === '' ? '-' : value));
  }
  return dl;
}

/** A badge such as "OK" / "Problem", with the state in text and not only in colour. */
export function badge(text, kind) {
  return h('span', { class: `badge ${kind}` }, text);
}

/** A section of a page with a heading. */
export function section(title, ...children) {
  const id = uid('sec');
  return h('section', { class: 'card', 'aria-labelledby': id },
    h('h2', { id }, title), ...children);
}

/** A page heading that receives focus when the page (or wizard step) changes. */
export function pageHeading(text, level = 'h1') {
  return h(level, { tabindex: '-1', class: 'page-heading' }, text);
}

/** Runs an async action with the button disabled; errors go to the status line. */
export async function busy(button, status, action) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await action();
  } catch (error) {
    if (status) status.error(error.message || String(error));
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/** Asks for confirmation in a modal <dialog>; resolves true when confirmed. */
export function confirmDialog(title, text, confirmLabel, danger = true) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const ok = h('button', { type: 'button', class: danger ? 'danger' : 'primary' }, confirmLabel);
    const cancel = h('button', { type: 'button' }, 'Cancel');
    const dialog = h('dialog', { 'aria-labelledby': titleId, class: 'confirm' },
      h('h2', { id: titleId }, title), h('p', {}, text),
      h('div', { class: 'actions' }, ok, cancel));
    const close = (answer) => { dialog.close(); dialog.remove(); resolve(answer); };
    ok.addEventListener('click', () => close(true));
    cancel.addEventListener('click', () => close(false));
    dialog.addEventListener('cancel', (event) => { event.preventDefault(); close(false); });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** Formats Unix seconds (or milliseconds when `ms`) as a local date and time. */
export function when(value, ms = false) {
  if (value === null || value === undefined || value === 0) return '-';
  const date = new Date(ms ? Number(value) : Number(value) * 1000);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

/** Formats Unix seconds as a local date (for expiry dates, where the hour does not matter). */
export function day(value) {
  if (!value) return '-';
  const date = new Date(Number(value) * 1000);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleDateString();
}

/** Formats a duration in seconds as "3 min", "2 h", "5 days". */
export function duration(secs) {
  if (secs === null || secs === undefined) return '-';
  const s = Math.abs(Number(secs));
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}

/** Days from now until Unix seconds `t` (negative when past). */
export function daysUntil(t) {
  return Math.floor((Number(t) * 1000 - Date.now()) / 86400000);
}

/** Reads a File as bytes. */
export function readBytes(file) {
  return file.arrayBuffer().then((buf) => new Uint8Array(buf));
}

/** Base64 of bytes, in chunks so large files do not overflow the argument limit. */
export function toBase64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
