// Small DOM helpers shared by the screens: element builder, toast, dirty-form tracking.
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    // CSSOM, not a style attribute: the Content-Security-Policy (style-src 'self') allows it.
    else if (k === 'style') node.style.cssText = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let toastTimer = null;
export function toast(message) {
  const box = document.getElementById('toast');
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 3500);
}

// A form with typed-but-unsaved input: the update prompt must not reload under it.
const dirtyForms = new Set();
export function trackDirty(form) {
  const mark = () => dirtyForms.add(form);
  form.addEventListener('input', mark);
  form.addEventListener('change', mark);
  return () => dirtyForms.delete(form);
}
export const clean = (form) => dirtyForms.delete(form);
export const anyDirty = () => [...dirtyForms].some((f) => f.isConnected);
