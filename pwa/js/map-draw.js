// Drawing the phone map on a <canvas>: footprints, roads, cells, labels, markers, position.
// Shapes are Path2D objects built once in metres and drawn under one transform, so a full
// picture costs a few fills and strokes plus the labels; map.js keeps it in a larger offscreen
// canvas, so a pan is one copy (bench/bench_phone_layers.py).
const MAIN = new Set(['motorway', 'trunk', 'primary', 'secondary', 'tertiary']);
const FONT = '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif';
const MAX_LABELS = 250;
export const ZOOM = { mainNames: 0.3, allNames: 0.7, numbers: 1.4, poi: 0.5, casing: 0.3 };
const CLUSTER_PX = 44; // markers closer than this on screen are drawn as one, with the sum

function linePath(lines, closed) {
  const p = new Path2D();
  for (const l of lines) {
    if (l.length < 2) continue;
    p.moveTo(l[0], l[1]);
    for (let i = 2; i < l.length; i += 2) p.lineTo(l[i], l[i + 1]);
    if (closed) p.closePath();
  }
  return p;
}

/** Paths for a set of decoded layers and cells (once per data change, not per redraw). */
export function buildPaths(layers, cells) {
  return {
    buildings: linePath(layers.buildings.flatMap((b) => b.rings), true),
    mainRoads: linePath(layers.roads.filter((r) => MAIN.has(r.cls)).flatMap((r) => r.lines), false),
    minorRoads: linePath(layers.roads.filter((r) => !MAIN.has(r.cls)).flatMap((r) => r.lines), false),
    ...cellPaths(cells),
  };
}

/** The cells as two outlines: the smallest cells (their edges hold every boundary, the
 * parents' included, since children tile their parent) and the outermost ones, drawn
 * heavier. Two strokes instead of one per cell (a street scope has 100+ cells). */
function cellPaths(cells) {
  const codes = new Set(cells.map((c) => c.code));
  const parents = new Set(cells.map((c) => c.parent_code).filter(Boolean));
  return {
    cellLeaves: linePath(cells.filter((c) => !parents.has(c.code)).flatMap((c) => c.rings), true),
    cellTops: linePath(cells.filter((c) => !codes.has(c.parent_code)).flatMap((c) => c.rings), true),
    cellByCode: new Map(cells.map((c) => [c.code, c])),
  };
}

/** Draw everything; returns what was drawn (counts, label texts, milliseconds). */
export function draw(canvas, view, scene) {
  const started = performance.now();
  const dpr = window.devicePixelRatio || 1;
  const ctx = canvas.getContext('2d', { alpha: false });
  const { layers, paths } = scene;
  const s = view.scale;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = '#f3f0e9';
  ctx.fillRect(0, 0, view.width, view.height);
  if (scene.underlay) scene.underlay(ctx, view, dpr); // online tiles (map-tiles.js), if any
  // everything in metres from here to the labels
  ctx.setTransform(s * dpr, 0, 0, -s * dpr, (view.width / 2 - view.cx * s) * dpr, (view.height / 2 + view.cy * s) * dpr);
  ctx.lineJoin = 'round'; ctx.lineCap = 'round';
  ctx.fillStyle = '#d3c6b6';
  ctx.fill(paths.buildings, 'evenodd');
  if (s > 0.6) { ctx.strokeStyle = '#b9ab9a'; ctx.lineWidth = 1 / s; ctx.stroke(paths.buildings); }
  const roadPx = (metres, least) => Math.max(least, Math.min(22, metres * s)) / s;
  if (s < ZOOM.casing) { // far out: one plain stroke per class (half the cost of casings)
    ctx.strokeStyle = '#c9c0b2';
    ctx.lineWidth = 3 / s; ctx.stroke(paths.mainRoads);
    ctx.lineWidth = 1.8 / s; ctx.stroke(paths.minorRoads);
  } else {
    ctx.strokeStyle = '#c4bcae';
    ctx.lineWidth = roadPx(16, 3.5); ctx.stroke(paths.mainRoads);
    ctx.lineWidth = roadPx(10, 2.5); ctx.stroke(paths.minorRoads);
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = roadPx(16, 3.5) - 1.5 / s; ctx.stroke(paths.mainRoads);
    ctx.lineWidth = roadPx(10, 2.5) - 1.5 / s; ctx.stroke(paths.minorRoads);
  }
  if (scene.selected) {
    ctx.fillStyle = 'rgba(30,110,220,0.35)';
    ctx.fill(linePath(scene.selected.rings, true), 'evenodd');
  }
  // cells as outlines over the base layers (a fill would hide them); the one I stand in tinted
  ctx.lineJoin = 'miter';
  ctx.strokeStyle = 'rgba(13,92,99,0.7)'; ctx.lineWidth = 1.5 / s; ctx.stroke(paths.cellLeaves);
  ctx.strokeStyle = '#0d5c63'; ctx.lineWidth = 3 / s; ctx.stroke(paths.cellTops);
  const here = scene.hereCode && paths.cellByCode.get(scene.hereCode);
  if (here) {
    here.path ||= linePath(here.rings, true);
    ctx.fillStyle = 'rgba(255,200,60,0.2)'; ctx.fill(here.path, 'evenodd');
    ctx.strokeStyle = '#a06800'; ctx.lineWidth = 3 / s; ctx.stroke(here.path);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const labels = drawLabels(ctx, view, layers);
  const marks = drawMarkers(ctx, view, scene.markers || {});
  if (scene.fix) drawFix(ctx, view, scene.fix);
  return { ms: performance.now() - started, labels, marks };
}

function placer(view) {
  const taken = [];
  return (x0, y0, x1, y1) => {
    if (x1 < 0 || y1 < 0 || x0 > view.width || y0 > view.height) return false;
    if (taken.length >= MAX_LABELS) return false;
    for (const [a, b, c, d] of taken) if (x0 < c && x1 > a && y0 < d && y1 > b) return false;
    taken.push([x0, y0, x1, y1]);
    return true;
  };
}

function halo(ctx, text, x, y) {
  ctx.strokeText(text, x, y);
  ctx.fillText(text, x, y);
}

function drawLabels(ctx, view, layers) {
  const s = view.scale;
  const fits = placer(view);
  const drawn = [];
  const [bx0, by0, bx1, by1] = view.box();
  const visible = (b) => b[2] >= bx0 && b[0] <= bx1 && b[3] >= by0 && b[1] <= by1;
  ctx.textAlign = 'center'; ctx.textBaseline = 'middle';
  ctx.lineWidth = 3; ctx.strokeStyle = 'rgba(255,255,255,0.9)'; ctx.lineJoin = 'round';
  // places first (few, wanted), house numbers (inside their footprints), then road names along
  // straight stretches where they still fit
  if (s >= ZOOM.poi) {
    ctx.font = `600 12px ${FONT}`; ctx.fillStyle = '#6b3b8a';
    for (const p of layers.poi) {
      if (!p.name) continue;
      const [x, y] = view.toScreen(p.x, p.y);
      const w = ctx.measureText(p.name).width;
      if (!fits(x - w / 2 - 6, y - 16, x + w / 2 + 6, y + 8)) continue;
      ctx.beginPath(); ctx.arc(x, y + 4, 3, 0, 2 * Math.PI); ctx.fill();
      halo(ctx, p.name, x, y - 6);
      drawn.push(p.name);
    }
  }
  if (s >= ZOOM.numbers) {
    ctx.font = `10px ${FONT}`; ctx.fillStyle = '#5a4d40';
    for (const b of layers.buildings) {
      if (!b.label || !visible(b.bbox)) continue;
      const [x, y] = view.toScreen(b.cx, b.cy);
      const w = ctx.measureText(b.label).width;
      if (!fits(x - w / 2 - 2, y - 7, x + w / 2 + 2, y + 7)) continue;
      halo(ctx, b.label, x, y);
      drawn.push(b.label);
    }
  }
  const roads = [...layers.roads].sort((a, b) => Number(MAIN.has(b.cls)) - Number(MAIN.has(a.cls)));
  const seen = new Set();
  ctx.font = `12px ${FONT}`; ctx.fillStyle = '#3b3b3b';
  for (const r of roads) {
    if (!r.name || !visible(r.bbox) || s < (MAIN.has(r.cls) ? ZOOM.mainNames : ZOOM.allNames)) continue;
    const w = ctx.measureText(r.name).width;
    // the same name again only far from where it was written (long roads in pieces)
    const fresh = (p) => !seen.has(`${r.name}@${Math.round(p.x / 300)},${Math.round(p.y / 300)}`);
    const box = (p) => { const half = w / 2 + 2; return [Math.abs(Math.cos(p.angle)) * half + 6, Math.abs(Math.sin(p.angle)) * half + 6]; };
    const spot = stretchesFor(r.lines, view, w + 16).slice(0, 6).find((p) => {
      const [ex, ey] = box(p);
      return fresh(p) && fits(p.x - ex, p.y - ey, p.x + ex, p.y + ey);
    });
    if (!spot) continue;
    seen.add(`${r.name}@${Math.round(spot.x / 300)},${Math.round(spot.y / 300)}`);
    ctx.save(); ctx.translate(spot.x, spot.y); ctx.rotate(spot.angle);
    halo(ctx, r.name, 0, 0);
    ctx.restore();
    drawn.push(r.name);
  }
  return drawn;
}

/** Where a name of width `need` px fits along a road: the nearly straight stretches (a chord
 * at most 12 % shorter than the path it spans), nearest the screen's centre first; each its
 * middle and an upright angle. OSM roads come in short segments, so a single segment rarely holds a name. */
function stretchesFor(lines, view, need) {
  const found = [];
  for (const l of lines) {
    const pts = [];
    for (let i = 0; i < l.length; i += 2) pts.push(view.toScreen(l[i], l[i + 1]));
    for (let i = 0; i < pts.length - 1; i++) {
      let path = 0;
      for (let j = i + 1; j < pts.length; j++) {
        path += Math.hypot(pts[j][0] - pts[j - 1][0], pts[j][1] - pts[j - 1][1]);
        const chord = Math.hypot(pts[j][0] - pts[i][0], pts[j][1] - pts[i][1]);
        if (chord < need) continue;
        if (chord < path * 0.88) break;
        const x = (pts[i][0] + pts[j][0]) / 2; const y = (pts[i][1] + pts[j][1]) / 2;
        if (x < need / 2 || y < 10 || x > view.width - need / 2 || y > view.height - 10) break;
        let angle = Math.atan2(pts[j][1] - pts[i][1], pts[j][0] - pts[i][0]);
        if (angle > Math.PI / 2) angle -= Math.PI; else if (angle < -Math.PI / 2) angle += Math.PI;
        found.push({ x, y, angle, off: Math.hypot(x - view.width / 2, y - view.height / 2) });
        i = j - 1; // the next stretch starts where this one ended
        break;
      }
    }
  }
  return found.sort((a, b) => a.off - b.off);
}

/** Markers merged per CLUSTER_PX square of the screen: [{x, y, count, members}] (pixels). */
function clusters(view, markers, weight) {
  const cells = new Map();
  for (const m of markers) {
    const [x, y] = view.toScreen(m.x, m.y);
    if (x < -20 || y < -30 || x > view.width + 20 || y > view.height + 20) continue;
    const key = `${Math.floor(x / CLUSTER_PX)},${Math.floor(y / CLUSTER_PX)}`;
    const c = cells.get(key);
    if (c) { c.count += weight(m); c.members.push(m); } else cells.set(key, { x, y, count: weight(m), members: [m] });
  }
  return [...cells.values()];
}

/** Due households (orange badge with how many) and open cases (red pin); what was drawn, in
 * screen pixels, for a tap to find. */
function drawMarkers(ctx, view, { households = [], cases = [] }) {
  ctx.textAlign = 'center'; ctx.textBaseline = 'middle';
  ctx.font = `bold 11px ${FONT}`; ctx.strokeStyle = '#fff'; ctx.lineWidth = 2;
  const due = clusters(view, households, (m) => m.count);
  for (const m of due) {
    ctx.fillStyle = '#d9480f';
    ctx.beginPath(); ctx.arc(m.x, m.y, 10, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
    ctx.fillStyle = '#fff'; ctx.fillText(String(m.count), m.x, m.y + 0.5);
  }
  const open = clusters(view, cases, () => 1);
  for (const m of open) {
    const { x, y } = m;
    ctx.fillStyle = '#c92a2a';
    ctx.beginPath();
    ctx.moveTo(x, y); ctx.lineTo(x - 8, y - 13); ctx.arc(x, y - 16, 8.5, Math.PI * 0.8, Math.PI * 0.2); ctx.closePath();
    ctx.fill(); ctx.stroke();
    ctx.fillStyle = '#fff';
    ctx.fillText(m.count > 1 ? String(m.count) : '!', x, y - 16);
  }
  return { households: due, cases: open };
}

/** The position on the map's own canvas (over the cached picture, so a fix costs no re-render). */
export function drawFix(ctx, view, fix) {
  const [x, y] = view.toScreen(fix.x, fix.y);
  const r = Math.max(0, fix.accuracy_m || 0) * view.scale;
  if (r > 8) {
    ctx.fillStyle = 'rgba(30,110,220,0.14)'; ctx.strokeStyle = 'rgba(30,110,220,0.6)'; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
  }
  if (Number.isFinite(fix.heading)) { // a cone towards the heading (degrees from north)
    const a = ((fix.heading - 90) * Math.PI) / 180;
    const g = ctx.createRadialGradient(x, y, 4, x, y, 34);
    g.addColorStop(0, 'rgba(30,110,220,0.55)'); g.addColorStop(1, 'rgba(30,110,220,0)');
    ctx.fillStyle = g;
    ctx.beginPath(); ctx.moveTo(x, y); ctx.arc(x, y, 34, a - 0.45, a + 0.45); ctx.closePath(); ctx.fill();
  }
  ctx.fillStyle = '#1e6edc'; ctx.strokeStyle = '#fff'; ctx.lineWidth = 3;
  ctx.beginPath(); ctx.arc(x, y, 7, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
}
