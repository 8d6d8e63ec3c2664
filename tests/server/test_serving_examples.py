"""The serving examples run as written: nginx -t on docs/nginx.conf.example (Debian 12's nginx
1.22) and systemd-analyze verify on docs/systemd/, whose jobs name real CLI commands and load
the same settings as the service."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from server import REPO_ROOT

DOCS = REPO_ROOT / "docs"
UNITS = DOCS / "systemd"


def _tool(name: str, *extra: str) -> str:
    found = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", *extra) if Path(p).is_file()), None
    )
    if found is None:
        message = f"{name} is missing: run `make {name}` (as root) to install it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def _self_signed(directory: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wangge.example.gov.cn")])
    now = dt.datetime.now(dt.UTC)
    names = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert = (
        x509.CertificateBuilder()
        .add_extension(names, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (directory / "wangge.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "wangge.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _nginx_config(tmp_path: Path, example: str) -> Path:
    """The example in a minimal main config, with its paths moved into `tmp_path`."""
    _self_signed(tmp_path)
    site = example.replace("/etc/nginx/tls/", f"{tmp_path}/").replace(
        "/var/log/nginx/", f"{tmp_path}/"
    )
    (tmp_path / "wangge.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{\n  access_log {tmp_path}/access.log;\n"
        f"  client_body_temp_path {tmp_path}/body;\n  proxy_temp_path {tmp_path}/proxy;\n"
        f"  include {tmp_path}/wangge.conf;\n}}\n"
    )
    return tmp_path / "nginx.conf"


def _nginx_args(nginx: str, tmp_path: Path, config: Path) -> list[str]:
    return [nginx, "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(config)]


def test_the_nginx_example_passes_nginx_t(tmp_path):
    nginx = _tool("nginx")
    version = subprocess.run([nginx, "-v"], capture_output=True, text=True, check=True).stderr
    example = (DOCS / "nginx.conf.example").read_text()
    assert "http2 on;" not in re.sub(r"#.*", "", example), "needs nginx >= 1.25.1"
    config = _nginx_config(tmp_path, example)
    checked = subprocess.run(
        [*_nginx_args(nginx, tmp_path, config), "-t"], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, f"{version}\n{checked.stderr}"
    assert "test is successful" in checked.stderr
    # Static files are revalidated (names carry no content hash), never cached blind for long.
    static = re.search(r"location /static/ \{(.*?)\}", example, re.S)
    assert static and 'Cache-Control "no-cache"' in static.group(1)
    assert "max-age=86400" not in example and "expires" not in example


@pytest.mark.slow
def test_nginx_keeps_logs_and_passes_the_request_id(sqlite_template: Path, tmp_path: Path):
    """The example served for real in front of gunicorn: the id is the same at both ends."""
    import requests

    from tests.live import LiveServer, free_port

    nginx = _tool("nginx")
    database = tmp_path / "wangge.db"
    shutil.copyfile(sqlite_template, database)
    app = LiveServer(f"sqlite:///{database}", tmp_path / "instance", workers=1)
    plain, tls = free_port(), free_port()
    example = (
        (DOCS / "nginx.conf.example")
        .read_text()
        .replace("listen 80;", f"listen 127.0.0.1:{plain};")
        .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{tls} ssl http2;")
        .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{app.port};")
    )
    conf = tmp_path / "nginx"
    conf.mkdir()
    config = _nginx_config(conf, example)
    app.start()
    proxy = subprocess.Popen(
        [*_nginx_args(nginx, conf, config), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"https://127.0.0.1:{tls}"
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would win over session.verify
        session.verify = str(conf / "wangge.crt")
        for _ in range(100):  # until nginx listens (bounded)
            if proxy.poll() is not None:
                pytest.fail((conf / "error.log").read_text())
            try:
                session.get(f"{url}/healthz/live", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        # (/healthz is not logged by nginx: the load balancer's checks would drown the log)
        kept = session.get(f"{url}/login", headers={"X-Request-ID": "caller-19.a"})
        assert kept.status_code == 200
        assert kept.headers["X-Request-ID"] == "caller-19.a"
        replaced = session.get(f"{url}/login", headers={"X-Request-ID": "bad id;"})
        own = replaced.headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", own), own  # nginx's $request_id
        fresh = session.get(f"{url}/healthz/live")
        assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["X-Request-ID"])
        static = session.get(f"{url}/static/css/app.css")
        assert static.status_code == 200
        assert static.headers["Cache-Control"] == "no-cache"
        revalidated = session.get(
            f"{url}/static/css/app.css", headers={"If-None-Match": static.headers["ETag"]}
        )
        assert revalidated.status_code == 304
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
        app.stop()
    logged = (conf / "wangge.access.log").read_text()
    assert "rid=caller-19.a " in logged and f"rid={own} " in logged
    app_log = app.log_path.read_text()
    assert '"request_id": "caller-19.a"' in app_log and f'"request_id": "{own}"' in app_log


def _settings(unit: Path) -> list[tuple[str, str]]:
    return [
        tuple(line.split("=", 1))  # type: ignore[misc]
        for line in unit.read_text().splitlines()
        if "=" in line and not line.lstrip().startswith(("#", ";"))
    ]


def test_the_systemd_units_verify_and_carry_no_trailing_comments(tmp_path):
    analyze = _tool("systemd-analyze", "/usr/bin/systemd-analyze")
    units = sorted(UNITS.iterdir())
    assert {u.name for u in units} >= {
        "wangge.service",
        *(f"wangge-{job}.{kind}" for job in ("rollup", "escalate", "prune")
          for kind in ("service", "timer")),
    }  # fmt: skip
    for unit in units:
        for key, value in _settings(unit):
            assert "#" not in value, f"{unit.name}: {key}= carries a comment in its value"
        # Where the app lives here, so that verify can check the commands exist.
        (tmp_path / unit.name).write_text(
            unit.read_text().replace("/srv/wangge/app", str(REPO_ROOT))
        )
    verified = subprocess.run(
        [analyze, "verify", *(str(tmp_path / u.name) for u in units)],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    assert "wangge" not in verified.stderr, verified.stderr


def test_the_timers_run_real_commands_with_the_service_settings(app):
    service = dict(_settings(UNITS / "wangge.service"))
    assert service["User"] and service["EnvironmentFile"] == "/etc/wangge/env"
    assert service["ReadWritePaths"]
    runner = app.test_cli_runner()
    for timer in sorted(UNITS.glob("wangge-*.timer")):
        job = timer.with_suffix(".service")
        settings = _settings(job)
        as_dict = dict(settings)
        for key in ("User", "WorkingDirectory", "EnvironmentFile", "ReadWritePaths"):
            assert as_dict[key] == service[key], f"{job.name}: {key} differs from the service"
        assert "OnCalendar" in dict(_settings(timer))
        for key, value in settings:
            if key != "ExecStart":
                continue
            words = shlex.split(value)
            assert words[:3] == ["/srv/wangge/app/.venv/bin/flask", "--app", "wsgi"], value
            options = [w for w in words[3:] if w.startswith("--")]
            command = [w for w in words[3:] if not w.startswith("-") and not w.isdigit()]
            shown = runner.invoke(args=[*command, "--help"])
            assert shown.exit_code == 0, f"{value}: {shown.output}"
            for option in options:
                assert option in shown.output, f"{value}: no option {option}"
