// The phone map's view: centre (metres in the map's frame) and scale (CSS pixels per metre),
// moved by one-finger drag, two-finger pinch, the mouse wheel and the +/− buttons. A tap
// (a press that did not move) is reported to `onTap` with its point in metres.
export const MIN_SCALE = 0.02; // ~5 km across a phone
export const MAX_SCALE = 12;   // a room's width fills the screen

/** A still view: centre (metres), scale (px per metre), size (CSS px) and the conversions. */
export function still(cx, cy, scale, width, height) {
  const view = { cx, cy, scale, width, height };
  view.toScreen = (x, y) => [view.width / 2 + (x - view.cx) * view.scale, view.height / 2 - (y - view.cy) * view.scale];
  view.toMetres = (sx, sy) => [view.cx + (sx - view.width / 2) / view.scale, view.cy - (sy - view.height / 2) / view.scale];
  /** The visible box in metres [x0, y0, x1, y1]. */
  view.box = () => {
    const [x0, y1] = view.toMetres(0, 0);
    const [x1, y0] = view.toMetres(view.width, view.height);
    return [x0, y0, x1, y1];
  };
  return view;
}

export function createView(canvas, { onChange, onTap }) {
  const view = still(0, 0, 1, 1, 1);
  view.fit = ([x0, y0, x1, y1], padding = 0.08) => {
    view.cx = (x0 + x1) / 2; view.cy = (y0 + y1) / 2;
    const w = Math.max(x1 - x0, 20); const hgt = Math.max(y1 - y0, 20);
    view.scale = clamp(Math.min(view.width / w, view.height / hgt) * (1 - 2 * padding));
    onChange();
  };
  view.zoomBy = (factor, sx = view.width / 2, sy = view.height / 2) => {
    const [mx, my] = view.toMetres(sx, sy);
    view.scale = clamp(view.scale * factor);
    // keep the point under the finger where it was
    view.cx = mx - (sx - view.width / 2) / view.scale;
    view.cy = my + (sy - view.height / 2) / view.scale;
    onChange();
  };
  view.panBy = (dx, dy) => { view.cx -= dx / view.scale; view.cy += dy / view.scale; onChange(); };
  view.centreOn = (x, y) => { view.cx = x; view.cy = y; onChange(); };

  const pointers = new Map();
  let moved = 0;
  let pinch = null;
  const local = (e) => { const r = canvas.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
  canvas.addEventListener('pointerdown', (e) => {
    canvas.setPointerCapture?.(e.pointerId);
    pointers.set(e.pointerId, local(e));
    if (pointers.size === 1) moved = 0;
    if (pointers.size === 2) pinch = spread([...pointers.values()]);
  });
  canvas.addEventListener('pointermove', (e) => {
    const before = pointers.get(e.pointerId);
    if (!before) return;
    const now = local(e);
    pointers.set(e.pointerId, now);
    if (pointers.size === 1) {
      moved += Math.abs(now[0] - before[0]) + Math.abs(now[1] - before[1]);
      if (moved > 6) view.panBy(now[0] - before[0], now[1] - before[1]);
    } else if (pointers.size === 2 && pinch) {
      moved = Infinity;
      const next = spread([...pointers.values()]);
      view.panBy(next.mx - pinch.mx, next.my - pinch.my);
      if (pinch.d > 0) view.zoomBy(next.d / pinch.d, next.mx, next.my);
      pinch = next;
    }
  });
  const end = (e) => {
    if (!pointers.has(e.pointerId)) return;
    const at = pointers.get(e.pointerId);
    pointers.delete(e.pointerId);
    if (pointers.size < 2) pinch = null;
    if (e.type === 'pointerup' && pointers.size === 0 && moved <= 6) onTap(view.toMetres(...at), at);
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    view.zoomBy(Math.exp(-e.deltaY / 300), ...local(e));
  }, { passive: false });
  return view;
}

function spread([a, b]) {
  return { mx: (a[0] + b[0]) / 2, my: (a[1] + b[1]) / 2, d: Math.hypot(a[0] - b[0], a[1] - b[1]) };
}

const clamp = (s) => Math.min(MAX_SCALE, Math.max(MIN_SCALE, s));
