/**
 * DOM building without HTML parsing: every value becomes a text node or an attribute value, so data
 * from the APIs can never turn into markup or script (no innerHTML anywhere in the console).
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(element, attrs, children) {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** An HTML element: `h('td', { class: 'num' }, value)`; attributes named on… take listeners. */
export const h = (tag, attrs, ...children) => build(document.createElement(tag), attrs, children);

/** An SVG element, built the same way. */
export const svg = (tag, attrs, ...children) => build(document.createElementNS(SVG_NS, tag), attrs, children);

/** Replaces what a container shows. */
export const show = (container, ...children) => {
  container.replaceChildren();
  build(container, {}, children);
};

/** An error message in place of a panel's content. */
export const showError = (container, error) =>
  show(container, h('p', { class: 'error' }, String(error.message ?? error)));

const fractionDigits = (currency) =>
  new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;

/** Minor units (integer) as an amount in its currency. */
export function money(minor, currency) {
  if (minor === null || minor === undefined) return '–';
  const format = new Intl.NumberFormat('en', { style: 'currency', currency });
  return format.format(minor / 10 ** fractionDigits(currency));
}

export const dateTime = (value) => (value ? new Date(value).toISOString().replace('T', ' ').slice(0, 19) : '–');

/** Seconds as the largest sensible unit: 42 s, 3.5 min, 2.1 h, 1.5 d. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 60) return `${Math.round(seconds * 10) / 10} s`;
  if (seconds < 3600) return `${Math.round(seconds / 6) / 10} min`;
  if (seconds < 86400) return `${Math.round(seconds / 360) / 10} h`;
  return `${Math.round(seconds / 8640) / 10} d`;
}

export const percent = (ratio) => (ratio === null || ratio === undefined ? '–' : `${Math.round(ratio * 1000) / 10} %`);
