// Which footprint holds which household, the markers that follow, and what a tap hits.
// A household belongs to the footprint with its address (street + lane + number, as the
// import keeps them: docs/base-layers.md), else to the footprint its point falls in.
const OPEN = (c) => !['closed', 'cancelled', 'evaluated'].includes(c.status);
const bare = (text) => String(text ?? '').replace(/\s+/g, '').replace(/号$/, '');

/** `road|329弄12` for a household, `street|329弄12` for a footprint: the same when they match. */
export const householdKey = (h) => `${bare(h.road)}|${h.lane ? `${bare(h.lane).replace(/弄$/, '')}弄` : ''}${bare(h.building)}`;
export const buildingKey = (b) => `${bare(b.street)}|${bare(b.number || b.label)}`;

function inRings(rings, x, y) {
  let inside = false;
  for (const r of rings) {
    for (let i = 0, j = r.length - 2; i < r.length; j = i, i += 2) {
      const xi = r[i]; const yi = r[i + 1]; const xj = r[j]; const yj = r[j + 1];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

/** The footprint containing (x, y) metres, or null. */
export function buildingAt(buildings, x, y) {
  return buildings.find((b) => x >= b.bbox[0] && x <= b.bbox[2] && y >= b.bbox[1] && y <= b.bbox[3]
    && inRings(b.rings, x, y)) || null;
}

/**
 * Households by footprint: Map(building → [household]), plus the households no footprint
 * holds (drawn at their own point when they have one). `households` come from data.js.
 */
export function linkHouseholds(buildings, households, frame) {
  const byKey = new Map();
  for (const b of buildings) if (b.street && (b.number || b.label)) byKey.set(buildingKey(b), b);
  const held = new Map();
  const loose = [];
  for (const h of households) {
    let b = byKey.get(householdKey(h)) || null;
    if (!b && Number.isFinite(h.lon) && Number.isFinite(h.lat)) b = buildingAt(buildings, ...frame.toXY(h.lon, h.lat));
    if (b) {
      if (!held.has(b)) held.set(b, []);
      held.get(b).push(h);
    } else loose.push(h);
  }
  return { held, loose };
}

/** Markers: due households counted per footprint (or at their point), open cases. */
export function markersOf(link, cases, frame) {
  const households = [];
  for (const [b, hs] of link.held) {
    const due = hs.filter((h) => h.overdue);
    // at the footprint's north-east corner, clear of its number
    if (due.length) households.push({ x: b.bbox[2], y: b.bbox[3], count: due.length, building: b });
  }
  for (const h of link.loose) {
    if (h.overdue && Number.isFinite(h.lon) && Number.isFinite(h.lat)) {
      const [x, y] = frame.toXY(h.lon, h.lat);
      households.push({ x, y, count: 1, household: h });
    }
  }
  const open = cases.filter((c) => OPEN(c) && Number.isFinite(c.lon) && Number.isFinite(c.lat)).map((c) => {
    const [x, y] = frame.toXY(c.lon, c.lat);
    return { x, y, case: c };
  });
  return { households, cases: open };
}

/**
 * What a tap at screen point (sx, sy) hits, given the markers as drawn (`marks`, screen
 * pixels, merged when close): a case pin, a due badge, a group of either (`zoom`: the caller
 * zooms in), a footprint, or null.
 */
export function pick(view, marks, buildings, sx, sy) {
  const near = (m, dy, r) => Math.hypot(m.x - sx, m.y - dy - sy) <= r;
  const c = marks.cases.find((m) => near(m, 16, 16));
  if (c) return c.members.length > 1 ? { zoom: true } : { case: c.members[0].case };
  const badge = marks.households.find((m) => near(m, 0, 14));
  if (badge && badge.members.length > 1) return { zoom: true };
  if (badge) return badge.members[0].building ? { building: badge.members[0].building } : { household: badge.members[0].household };
  const [x, y] = view.toMetres(sx, sy);
  const b = buildingAt(buildings, x, y);
  return b ? { building: b } : null;
}

/** Open cases whose point is inside a footprint. */
export function casesIn(building, cases, frame) {
  return cases.filter((c) => OPEN(c) && Number.isFinite(c.lon) && Number.isFinite(c.lat)
    && inRings(building.rings, ...frame.toXY(c.lon, c.lat)));
}
