// Cells by name: the path a bare name needs (新华一村 › 第二块区 › 1号楼组), and where a point
// lies in the whole grid, with whose cell it is (the first pull's `reference.grid`).
import * as geo from './geo.js';

const SEP = ' › ';

/** An index over the worker's cells and the grid reference: code → {code, name, level, parent_code, workers, geometry}. */
export function placeIndex(cells, grid = []) {
  const byCode = new Map();
  for (const g of grid || []) byCode.set(g.code, { ...g });
  for (const c of cells || []) byCode.set(c.code, { ...(byCode.get(c.code) || {}), ...c, own: true });
  return byCode;
}

/** The cell's names from its residential area down (the street, the same for all, left out). */
export function pathNames(index, code) {
  const names = [];
  const seen = new Set();
  for (let c = index.get(code); c && !seen.has(c.code); c = index.get(c.parent_code)) {
    seen.add(c.code);
    if (c.level !== 'street' || names.length === 0) names.unshift(c.name);
  }
  return names;
}

export const pathOf = (index, code) => pathNames(index, code).join(SEP);

/** The grid workers answering for a cell: its own, else the nearest ancestor's. */
export function workersOf(index, code) {
  const seen = new Set();
  for (let c = index.get(code); c && !seen.has(c.code); c = index.get(c.parent_code)) {
    seen.add(c.code);
    if (c.workers && c.workers.length) return c.workers;
  }
  return [];
}

/** Where a point lies: {cell, own} for the deepest cell of the worker's, else of the grid. */
export function placeAt(index, cells, lon, lat) {
  const mine = geo.cellAt(cells, lon, lat);
  if (mine) return { cell: mine, own: true };
  const others = [...index.values()].filter((c) => !c.own && c.geometry);
  const other = geo.cellAt(others, lon, lat);
  return other ? { cell: other, own: false } : null;
}
