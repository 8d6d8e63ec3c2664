// The directory's map: the published cells' outlines and a marker per service point.
(function () {
  const el = document.getElementById('points-map');
  if (!el || !window.L) return;
  const map = L.map(el, { attributionControl: false, zoomSnap: 0.25 }).setView([31.2075, 121.4235], 15);
  fetch(el.dataset.cells).then((r) => r.json()).then((cells) => {
    L.geoJSON(cells, { style: { color: '#8c959f', weight: 1, fillOpacity: 0.03 } }).addTo(map);
  }).catch(() => {});
  fetch(el.dataset.points).then((r) => r.json()).then((points) => {
    const layer = L.geoJSON(points, {
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 6, color: '#0969da', fillOpacity: 0.8 }),
      onEachFeature: (f, l) => {
        const a = document.createElement('a');
        a.href = `p/${encodeURIComponent(f.properties.code)}`;
        a.textContent = f.properties.name;
        l.bindPopup(a);
      },
    }).addTo(map);
    if (points.features.length) map.fitBounds(layer.getBounds(), { padding: [10, 10] });
  }).catch(() => {});
})();
