"""A wheel built from the sources and installed into a clean venv serves Chinese pages.

The Chinese catalogue is compiled by the package build (setup.py), not only by `make`: the
source copied here has no .mo, the wheel must. Offline: the wheel is built without build
isolation and installed with --no-index --no-deps; the new venv reaches the dependencies
through a .pth line naming this venv's site-packages (its editable `wangge` finder is not
loaded that way, so `server` comes from the wheel).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import venv
from pathlib import Path

import pytest

from server import REPO_ROOT

pytestmark = pytest.mark.slow


def _source_copy(target: Path) -> None:
    """The files of the checkout git does not ignore (no .venv, no built catalogue)."""
    listed = subprocess.run(
        [
            "git",
            "-C",
            str(REPO_ROOT),
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = REPO_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def test_a_built_wheel_serves_chinese_in_a_clean_venv(tmp_path):
    source = tmp_path / "src"
    _source_copy(source)
    assert not list(source.rglob("*.mo")), "the copy must not carry a built catalogue"
    env = dict(os.environ, WANGGE_RELEASE="wheeltest1", PIP_NO_INPUT="1")
    env.pop("PYTHONPATH", None)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--verbose", "--no-build-isolation", "--no-deps",
         "--no-index", "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    # The build backend has nothing to warn about (it did: `project.license` as a table).
    output = built.stdout + built.stderr
    assert "BuildBackendWarning" not in output and "is deprecated" not in output, output[-4000:]
    (wheel,) = (tmp_path / "dist").glob("wangge-*.whl")

    target = tmp_path / "venv"
    venv.create(target, with_pip=False)
    python = target / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-index", "--no-deps", str(wheel)],
        check=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    new_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    Path(new_site, "wangge-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        import server
        from server import create_app

        assert Path(server.__file__).is_relative_to(sys.prefix), server.__file__
        mo = Path(server.__file__).parent / "translations/zh/LC_MESSAGES/messages.mo"
        assert mo.is_file(), mo
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": "sqlite:///" + sys.argv[1],
            "INSTANCE_PATH": sys.argv[2],
            "SECRET_KEY": "wheel-test",
        })
        page = app.test_client().get("/login")
        assert page.status_code == 200, page.status_code
        text = page.get_data(as_text=True)
        print(app.config["WANGGE_VERSION"])
        print("登录" in text, 'lang="zh' in text)
        """
    )
    run_env = {k: v for k, v in env.items() if k != "WANGGE_RELEASE"}  # from server/RELEASE
    ran = subprocess.run(
        [str(python), "-c", script, str(tmp_path / "w.db"), str(tmp_path / "instance")],
        capture_output=True, text=True, env=run_env, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    version, chinese = ran.stdout.strip().splitlines()[-2:]
    assert version == "0.1.0+wheeltest1"
    assert chinese == "True True", ran.stdout
