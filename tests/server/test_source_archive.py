"""The running program offers its own source to anyone (AGPL-3.0 section 13): /source.tar.gz."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server import REPO_ROOT
from server.web.source import build_archive, source_files


def _names(body: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        return {member.name: member for member in tar.getmembers()}


def test_anyone_downloads_the_source_of_the_running_program(client: FlaskClient) -> None:
    answer = client.get("/source.tar.gz")
    assert answer.status_code == 200
    assert answer.mimetype == "application/gzip"
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=wangge-")
    assert disposition.endswith("-source.tar.gz")
    names = _names(answer.get_data())
    prefix = disposition.removeprefix("attachment; filename=").removesuffix("-source.tar.gz")
    needed_files = ("LICENSE", "wsgi.py", "pyproject.toml", "server/web/source.py", "pwa/sw.js")
    for needed in needed_files:
        assert f"{prefix}/{needed}" in names, needed
    assert names[f"{prefix}/.ci/run"].mode == 0o755
    # The served files are the ones this process runs from, byte for byte.
    with tarfile.open(fileobj=io.BytesIO(answer.get_data()), mode="r:gz") as tar:
        served = tar.extractfile(f"{prefix}/server/web/source.py")
        assert served is not None
        assert served.read() == (REPO_ROOT / "server/web/source.py").read_bytes()
    assert not any("/instance/" in n or "/.venv/" in n or "__pycache__" in n for n in names)
    assert not any("/docs/screenshots/" in n for n in names)
    # Third parties' data kept for the tests (DataV boundaries carry no licence) stays home.
    assert not any("/tests/data/" in n or "datav" in n.lower() for n in names)
    assert f"{prefix}/tests/geo/test_real_files.py" in names


def test_an_office_publishing_its_source_elsewhere_is_sent_there(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(SOURCE_URL="https://git.example.gov.cn/street/wangge")
    answer = app.test_client().get("/source.tar.gz")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "https://git.example.gov.cn/street/wangge"


def test_an_installation_without_its_source_says_what_to_set(
    client: FlaskClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from somewhere that is not the program's tree (a wheel in site-packages): no
    archive of whatever lies around, a 404 naming the setting instead."""
    monkeypatch.setattr("server.web.views.REPO_ROOT", tmp_path)
    answer = client.get("/source.tar.gz", headers={"Accept": "application/json"})
    assert answer.status_code == 404
    assert "WANGGE_SOURCE_URL" in answer.get_data(as_text=True)


def test_every_page_links_to_the_source_in_chinese(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/source.tar.gz"' in page
    assert "源代码(AGPL-3.0)" in page


def test_the_archive_holds_only_the_programs_files_and_is_reproducible(tmp_path: Path) -> None:
    root = tmp_path / "checkout"
    (root / "server" / "__pycache__").mkdir(parents=True)
    (root / "server" / "app.py").write_text("print('hi')\n")
    (root / "server" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")
    (root / "instance").mkdir()
    (root / "instance" / "secret_key").write_text("do not ship")
    (root / ".venv").mkdir()
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr\n")
    (root / "docs" / "screenshots").mkdir(parents=True)
    (root / "docs" / "screenshots" / "a.png").write_bytes(b"png")
    (root / "docs" / "install.md").write_text("# Install\n")
    (root / "tests" / "data").mkdir(parents=True)
    (root / "tests" / "data" / "datav_310105.json").write_text("{}")
    (root / "tests" / "test_app.py").write_text("def test(): pass\n")
    (root / "wsgi.py").write_text("app = None\n")
    (root / ".ci").mkdir()
    (root / ".ci" / "run").write_text("#!/bin/sh\n")
    (root / ".ci" / "run").chmod(0o755)
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("not ours")
    os.symlink(outside, root / "server" / "link.txt")

    assert [p.as_posix() for p in source_files(root)] == [
        ".ci/run",
        "docs/install.md",
        "server/app.py",
        "tests/test_app.py",
        "wsgi.py",
    ]
    first = build_archive(root, "wangge-test")
    assert build_archive(root, "wangge-test") == first  # same tree, same bytes
    members = _names(first)
    assert sorted(members) == [
        "wangge-test/.ci/run",
        "wangge-test/docs/install.md",
        "wangge-test/server/app.py",
        "wangge-test/tests/test_app.py",
        "wangge-test/wsgi.py",
    ]
    assert members["wangge-test/.ci/run"].mode == 0o755
    assert members["wangge-test/wsgi.py"].mode == 0o644
    assert {m.mtime for m in members.values()} == {0}


def test_a_copy_already_held_costs_no_download(client: FlaskClient) -> None:
    """The archive is reproducible, so its tag is stable: a cache or a mirror revalidates
    with If-None-Match and gets a 304 without the 1.7 MB body."""
    first = client.get("/source.tar.gz")
    tag = first.headers["ETag"]
    assert client.get("/source.tar.gz").headers["ETag"] == tag
    again = client.get("/source.tar.gz", headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.get_data() == b""
    other = client.get("/source.tar.gz", headers={"If-None-Match": '"not-this-one"'})
    assert other.status_code == 200
    assert other.get_data() == first.get_data()


def test_one_address_cannot_pull_the_archive_in_a_loop(make_app: Callable[..., Flask]) -> None:
    """Anyone may download it, but each answer is 1.7 MB: the shipped limit is per address."""
    app = make_app(RATELIMIT_ENABLED=True)
    limit = app.config["RATELIMITS"]["web.source_archive"]
    allowed = int(limit.split()[0])
    client = app.test_client()
    codes = [client.get("/source.tar.gz").status_code for _ in range(allowed + 1)]
    assert codes[:allowed] == [200] * allowed
    assert codes[-1] == 429
    elsewhere = client.get("/source.tar.gz", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert elsewhere.status_code == 200
