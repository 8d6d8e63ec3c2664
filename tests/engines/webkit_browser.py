"""The small WebKitGTK browser that WebKitWebDriver drives in the WebKit engine tests.

Run with Debian's `/usr/bin/python3` (PyGObject and WebKit2 4.1 come from Debian packages,
not from the virtualenv); `tests/engines/webkit.py` hands it to WebKitWebDriver as the
browser binary. Why not the stock MiniBrowser: its automation mode uses a private (ephemeral)
session, where IndexedDB refuses Blobs, nothing survives a restart, geolocation stays
"prompt", the window cannot be made 360 px wide and console messages are not written out.

This one keeps one phone's profile on disk (service worker, Cache Storage, IndexedDB,
cookies, local storage), shows each page in a plain window the size of the phone's viewport
(the device pixel ratio comes from GDK_SCALE), answers geolocation with a fixed position or
denies it, prefers zh-CN, and writes every console message (WebKit's own `CONSOLE …` lines)
to the log file named on the command line, which the driver reads for `errors`.

    /usr/bin/python3 webkit_browser.py --profile DIR --log FILE [--geolocation LAT,LON,ACC]
        [--viewport 360x640] [--language zh-CN] --automation

WebKitWebDriver adds `--automation` and sets WEBKIT_INSPECTOR_SERVER in the environment;
WebKit itself then listens for the driver. The browser names itself to the driver with
`BROWSER_NAME`, which must equal the session's `browserName` capability.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

BROWSER_NAME = "WanggeWebKit"
BROWSER_VERSION = (1, 0, 0)


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="webkit_browser")
    parser.add_argument("--profile", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--geolocation", default="", help="LAT,LON,ACCURACY_M; empty denies")
    parser.add_argument("--viewport", default="360x640")
    parser.add_argument("--language", default="zh-CN")
    parser.add_argument("--automation", action="store_true")
    args, _unknown = parser.parse_known_args(argv)
    return args


def _log_to(path: Path) -> None:
    """Send this process's stdout and stderr, and so its web processes', to `path`.

    WebKit prints console messages from the web processes it spawns, which inherit these
    descriptors; stderr is unbuffered, so a line is in the file when it is printed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    _log_to(args.log)
    args.profile.mkdir(parents=True, exist_ok=True)
    # The driver waits for this process to end before starting another on the profile.
    (args.profile / "browser.pid").write_text(str(os.getpid()))

    import gi

    gi.require_version("Gtk", "3.0")
    gi.require_version("WebKit2", "4.1")
    from gi.repository import GLib, Gtk, WebKit2

    width, height = (int(n) for n in args.viewport.split("x"))
    fix = tuple(float(n) for n in args.geolocation.split(",")) if args.geolocation else None

    data_dir = args.profile / "data"
    cache_dir = args.profile / "cache"
    data_dir.mkdir(parents=True, exist_ok=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    manager = WebKit2.WebsiteDataManager(
        base_data_directory=str(data_dir), base_cache_directory=str(cache_dir)
    )
    manager.get_cookie_manager().set_persistent_storage(
        str(data_dir / "cookies.sqlite"), WebKit2.CookiePersistentStorage.SQLITE
    )
    manager.get_cookie_manager().set_accept_policy(WebKit2.CookieAcceptPolicy.ALWAYS)
    context = WebKit2.WebContext.new_with_website_data_manager(manager)
    context.set_automation_allowed(True)
    context.set_preferred_languages([args.language, args.language.split("-")[0]])
    context.set_cache_model(WebKit2.CacheModel.WEB_BROWSER)

    geolocation = context.get_geolocation_manager()

    def start_geolocation(manager: Any) -> bool:
        if fix is None:
            manager.failed("位置权限被拒绝")
        else:
            lat, lon, accuracy = fix
            manager.update_position(WebKit2.GeolocationPosition.new(lat, lon, accuracy))
        return True

    geolocation.connect("start", start_geolocation)

    settings = WebKit2.Settings()
    settings.set_enable_write_console_messages_to_stdout(True)
    settings.set_enable_developer_extras(True)
    settings.set_javascript_can_open_windows_automatically(True)

    def permission_request(view: Any, request: Any) -> bool:
        geolocation = isinstance(request, WebKit2.GeolocationPermissionRequest)
        if geolocation and fix is not None:
            request.allow()
        else:
            request.deny()
        return True

    def query_permission_state(view: Any, query: Any) -> bool:
        if query.get_name() != "geolocation":
            return False
        granted = WebKit2.PermissionState.GRANTED
        query.finish(granted if fix is not None else WebKit2.PermissionState.DENIED)
        return True

    windows: list[Any] = []

    def new_view(related: Any = None) -> Any:
        view = WebKit2.WebView(
            web_context=context,
            settings=settings,
            is_controlled_by_automation=True,
            **({"related_view": related} if related is not None else {}),
        )
        view.connect("permission-request", permission_request)
        view.connect("query-permission-state", query_permission_state)
        view.connect("create", lambda v, _action: new_view(v))
        view.connect("ready-to-show", lambda v: v.get_toplevel().show_all())
        window = Gtk.Window()
        window.set_default_size(width, height)
        window.set_resizable(False)
        window.add(view)
        windows.append(window)

        def closed(*_: Any) -> None:
            windows.remove(window)
            window.destroy()

        view.connect("close", closed)
        window.connect("delete-event", lambda *_: closed() or True)
        return view

    def automation_started(context: Any, session: Any) -> None:
        info = WebKit2.ApplicationInfo.new()
        info.set_name(BROWSER_NAME)
        info.set_version(*BROWSER_VERSION)
        session.set_application_info(info)

        def create_web_view(session: Any) -> Any:
            view = new_view()
            view.get_toplevel().show_all()
            return view

        session.connect("create-web-view", create_web_view)

    context.connect("automation-started", automation_started)

    loop = GLib.MainLoop()
    if not args.automation:  # run by hand: show a blank page until the window is closed
        view = new_view()
        view.get_toplevel().show_all()
        view.get_toplevel().connect("destroy", lambda *_: loop.quit())
        view.load_uri("about:blank")
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
