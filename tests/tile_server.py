"""A tile server for browser tests and screenshots: loopback only, PNG tiles drawn on request.

Each tile shows the demo's real OSM roads (© OpenStreetMap contributors, ODbL) drawn in the
server's datum, as a provider would: a GCJ-02 server draws them shifted about 500 m, as AMap
does, so on a map that gets the datum right the vector roads fall on the tile roads. A thin
border and the tile's z/x/y make tiles visible. Requests are recorded for the tests.
"""

from __future__ import annotations

import io
import json
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from PIL import Image, ImageDraw

from geo.chinese_offsets import wgs84_to_gcj02
from server.demo.roads import ROADS_FILE

TILE_PX = 256


def world_pixel(lon: float, lat: float, zoom: int) -> tuple[float, float]:
    """Web Mercator pixel of (lon, lat) at ``zoom`` (256-pixel tiles), from the top left."""
    scale = TILE_PX * 2**zoom
    x = (lon + 180.0) / 360.0 * scale
    sin = math.sin(math.radians(lat))
    y = (0.5 - math.log((1 + sin) / (1 - sin)) / (4 * math.pi)) * scale
    return x, y


def displayed(lon: float, lat: float, datum: str) -> tuple[float, float]:
    """Where a tile in ``datum`` draws the WGS-84 point (lon, lat)."""
    if datum == "gcj02":
        g_lon, g_lat = wgs84_to_gcj02([lon], [lat])
        return float(g_lon[0]), float(g_lat[0])
    return lon, lat  # wgs84, and cgcs2000 (the same to a few centimetres)


def _roads(datum: str) -> list[np.ndarray]:
    data = json.loads(ROADS_FILE.read_text(encoding="utf-8"))
    lines = []
    for feature in data["features"]:
        geometry = feature["geometry"]
        parts = (
            [geometry["coordinates"]]
            if geometry["type"] == "LineString"
            else geometry["coordinates"]
        )
        for part in parts:
            coords = np.asarray(part, dtype=float)
            if datum == "gcj02":
                lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
                coords = np.column_stack([lon, lat])
            lines.append(coords)
    return lines


@dataclass
class TileServer:
    datum: str
    url: str = ""
    requested: list[str] = field(default_factory=list)
    _lines: list[np.ndarray] = field(default_factory=list)

    def render(self, z: int, x: int, y: int) -> bytes:
        image = Image.new("RGB", (TILE_PX, TILE_PX), (236, 233, 224))
        draw = ImageDraw.Draw(image)
        width = max(2, 2 ** max(0, z - 14))
        for coords in self._lines:
            points = [world_pixel(lon, lat, z) for lon, lat in coords]
            shifted = [(px - x * TILE_PX, py - y * TILE_PX) for px, py in points]
            xs, ys = [p[0] for p in shifted], [p[1] for p in shifted]
            if max(xs) < 0 or min(xs) > TILE_PX or max(ys) < 0 or min(ys) > TILE_PX:
                continue
            draw.line(shifted, fill=(247, 197, 107), width=width + 2)
            draw.line(shifted, fill=(255, 240, 200), width=width)
        draw.rectangle([0, 0, TILE_PX - 1, TILE_PX - 1], outline=(205, 200, 190))
        draw.text((4, 4), f"{self.datum} {z}/{x}/{y}", fill=(150, 140, 130))
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()


@contextmanager
def tile_server(datum: str) -> Iterator[TileServer]:
    """Serve tiles drawn in ``datum`` on 127.0.0.1; ``url`` is the Leaflet template."""
    tiles = TileServer(datum, _lines=_roads(datum))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = self.path.split("?")[0].strip("/").removesuffix(".png").split("/")
            try:
                z, x, y = (int(p) for p in parts)
            except ValueError:
                self.send_error(404)
                return
            tiles.requested.append(f"{z}/{x}/{y}")
            body = tiles.render(z, x, y)
            try:
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the map moved on and Leaflet dropped the tile: nothing to answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tiles.url = f"http://127.0.0.1:{server.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tiles
    finally:
        server.shutdown()
        server.server_close()
