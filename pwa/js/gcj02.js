// GCJ-02 ("Mars" coordinates, the datum of AMap/Tencent tiles): WGS-84 → GCJ-02 and its
// exact inverse. The same published formula as geo/chinese_offsets.py (Krasovsky constants,
// a sum of sines; outside the China rectangle GCJ-02 equals WGS-84), tested against the same
// vectors (tests/data/geo/gcj02-vectors.json). One copy for the phone and the office pages.
const A = 6378245.0; // Krasovsky 1940 semi-major axis used by the formula
const EE = 0.00669342162296594323; // its first eccentricity squared
const TOLERANCE_DEG = 1e-10; // the inverse stops when a round moves less (≈ 0.01 mm)
const MAX_ROUNDS = 30;

/** True where the GCJ-02 offset applies (the rectangle geo.chinese_offsets.in_china uses). */
export function inChina(lon, lat) {
  return lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271;
}

function offsetDeg(lon, lat) {
  const x = lon - 105.0, y = lat - 35.0, PI = Math.PI;
  const common = (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
  let dLat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  dLat += common;
  dLat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
  dLat += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
  let dLon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  dLon += common;
  dLon += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
  dLon += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
  const radLat = lat / 180.0 * PI;
  const magic = 1.0 - EE * Math.sin(radLat) ** 2;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrtMagic) * PI);
  dLon = (dLon * 180.0) / (A / sqrtMagic * Math.cos(radLat) * PI);
  return [dLon, dLat];
}

/** WGS-84 → GCJ-02, as [lon, lat]; outside China unchanged. */
export function wgs84ToGcj02(lon, lat) {
  if (!inChina(lon, lat)) return [lon, lat];
  const [dLon, dLat] = offsetDeg(lon, lat);
  return [lon + dLon, lat + dLat];
}

/** GCJ-02 → WGS-84, as [lon, lat]: the forward formula inverted by fixed-point iteration
 *  (w ← w − (forward(w) − g)) until a round moves less than 1e-10°; outside China unchanged. */
export function gcj02ToWgs84(lon, lat) {
  let gLon = lon, gLat = lat;
  for (let i = 0; i < MAX_ROUNDS; i += 1) {
    const [fLon, fLat] = wgs84ToGcj02(gLon, gLat);
    const eLon = fLon - lon, eLat = fLat - lat;
    gLon -= eLon;
    gLat -= eLat;
    if (!(Math.max(Math.abs(eLon), Math.abs(eLat)) > TOLERANCE_DEG)) break; // NaN stops too
  }
  return [gLon, gLat];
}
