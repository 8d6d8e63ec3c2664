// The directory's map: the published cells' outlines and a marker per service point. Made
// once the page is parsed, after map-tiles.js (a module) set up the tiles and their datum.
document.addEventListener('DOMContentLoaded', () => {
  const el = document.getElementById('points-map');
  if (!el || !window.L) return;
  const F = window.wanggeMapFeatures; // map-features.js: one feature at a time, text labels
  const map = L.map(el, { attributionControl: false, zoomSnap: 0.25 }).setView([31.2075, 121.4235], 15);
  fetch(el.dataset.cells).then((r) => r.json()).then((cells) => {
    F.addFeatures(map, L.geoJSON(null, { style: { color: '#8c959f', weight: 1, fillOpacity: 0.03 } }), cells).addTo(map);
  }).catch((error) => console.warn('map: cells not drawn', error));
  fetch(el.dataset.points).then((r) => r.json()).then((points) => {
    const layer = F.addFeatures(map, L.geoJSON(null, {
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 6, color: '#0969da', fillOpacity: 0.8 }),
      onEachFeature: (f, l) => {
        const a = document.createElement('a');
        a.href = `p/${encodeURIComponent(f.properties.code)}`;
        a.textContent = f.properties.name;
        l.bindPopup(a);
      },
    }), points).addTo(map);
    if (layer.getLayers().length) map.fitBounds(layer.getBounds(), { padding: [10, 10] });
    el.dataset.pointsDrawn = String(layer.getLayers().length);
  }).catch((error) => console.warn('map: service points not drawn', error));
});
