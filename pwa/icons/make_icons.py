"""Draw the app icons (192/512 px, plain and maskable) with Pillow; run it from the repo."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
TEAL = (13, 92, 99)  # the theme colour of the manifest (#0d5c63)
WHITE = (255, 255, 255)


def draw(size: int, *, maskable: bool) -> Image.Image:
    """A 3×3 grid (网格) with one cell lit; maskable icons keep it inside the 80 % safe zone."""
    image = Image.new("RGB", (size, size), TEAL)
    pen = ImageDraw.Draw(image)
    margin = size * (0.22 if maskable else 0.14)
    cell = (size - 2 * margin) / 3
    width = max(2, round(size / 40))
    for i in range(4):
        at = margin + i * cell
        pen.line([(margin, at), (size - margin, at)], fill=WHITE, width=width)
        pen.line([(at, margin), (at, size - margin)], fill=WHITE, width=width)
    x0, y0 = margin + cell, margin + cell
    pen.rectangle(
        [x0 + width, y0 + width, x0 + cell - width, y0 + cell - width], fill=(255, 196, 0)
    )
    return image


def main() -> None:
    for size in (192, 512):
        draw(size, maskable=False).save(HERE / f"icon-{size}.png", optimize=True)
        draw(size, maskable=True).save(HERE / f"maskable-{size}.png", optimize=True)


if __name__ == "__main__":
    main()
