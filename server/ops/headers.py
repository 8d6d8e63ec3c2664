"""Security headers: CSP on every answer, HSTS behind HTTPS, and ProxyFix behind a proxy."""

from __future__ import annotations

from flask import Flask, Response

# Only directives that Chromium, Firefox and WebKit all know: WebKit logs a console error for
# every directive it does not recognise, on every page load (``manifest-src`` was one). The web
# app manifest is still limited to our origin: without ``manifest-src`` it falls back to
# ``default-src 'self'`` (CSP Level 3), in the browsers that check manifests at all.
DIRECTIVES_EVERY_ENGINE_KNOWS = frozenset(
    {
        "default-src",
        "script-src",
        "style-src",
        "img-src",
        "connect-src",
        "worker-src",
        "font-src",
        "object-src",
        "base-uri",
        "form-action",
        "frame-ancestors",
    }
)


def content_security_policy(image_origins: list[str] | None = None) -> str:
    """The policy: our own origin only; images also from data:/blob: and the tile hosts, each
    named (server/maptiles/settings.py ``image_sources``: one per subdomain, no wildcard)."""
    images = ["'self'", "data:", "blob:", *(image_origins or [])]
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {' '.join(images)}",
            "connect-src 'self'",
            "worker-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def init_app(app: Flask) -> None:
    if app.config.get("BEHIND_PROXY"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config.get("PROXY_HOPS", 1))
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    if app.config.get("HTTPS"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    from server.maptiles.settings import image_sources

    policy = content_security_policy(image_sources(app.extensions.get("wangge_tiles")))
    header = "Content-Security-Policy-Report-Only" if app.config.get("CSP_REPORT_ONLY") else None

    @app.after_request
    def _security_headers(response: Response) -> Response:
        if app.config.get("CSP_ENABLED", True):
            response.headers.setdefault(header or "Content-Security-Policy", policy)
        if app.config.get("HTTPS"):
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response
