"""The `flask users …` and `flask catalogue load` commands, including refusals of bad input."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from server.accounts.models import User
from server.accounts.passwords import verify_password
from server.catalogue.models import CatalogueCategory, CatalogueItem
from server.extensions import db
from server.population.models import CareTag
from server.units.models import Unit


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(args=list(args), input=input)

    return invoke


def _user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_users_create_reads_the_password_from_stdin_and_hashes_it(cli):
    result = cli(
        "users",
        "create",
        "zhou.jie",
        "--role",
        "worker",
        "--display-name",
        "周杰",
        "--password-stdin",
        input="a long password\n",
    )
    assert result.exit_code == 0, result.output
    assert "created zhou.jie (worker)" in result.output
    user = db.session.scalar(select(User).where(User.username == "zhou.jie"))
    assert user.display_name == "周杰"
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "a long password")


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["users", "create", "zhou.jie", "--role", "king"], "a long password\n", "king"),
        (["users", "create", "Bad Name!", "--role", "worker"], "a long password\n", "username"),
        (["users", "create", "zhou.jie", "--role", "worker"], "short\n", "8"),
        (["users", "create", "zhou.jie", "--role", "worker"], "\n", "no password"),
        (["users", "create", "--role", "worker"], "a long password\n", "USERNAME"),
    ],
    ids=["unknown-role", "bad-username", "short-password", "empty-password", "no-username"],
)
def test_users_create_refuses_bad_input_and_creates_nobody(cli, args, stdin, message):
    result = cli(*args, input=stdin)
    assert result.exit_code != 0
    assert message in result.output
    assert _user_count() == 0


def test_users_create_refuses_a_taken_username(cli):
    cli("users", "create", "zhou.jie", "--role", "worker", input="a long password\n")
    result = cli("users", "create", "zhou.jie", "--role", "admin", input="another password\n")
    assert result.exit_code == 1 and "zhou.jie" in result.output
    assert _user_count() == 1
    assert db.session.scalar(select(User.role)) == "worker"


def test_users_list_disable_and_enable(cli):
    cli("users", "create", "zhou.jie", "--role", "worker", input="a long password\n")
    cli("users", "create", "zhao.min", "--role", "dispatcher", input="a long password\n")
    listed = cli("users", "list").output
    assert "zhou.jie" in listed and "dispatcher" in listed
    assert cli("users", "disable", "zhou.jie").exit_code == 0
    assert "disabled" in cli("users", "list").output
    assert cli("users", "enable", "zhou.jie").exit_code == 0
    assert db.session.scalar(select(User.is_active).where(User.username == "zhou.jie"))


def test_disabling_an_unknown_user_fails_with_a_message(cli):
    result = cli("users", "disable", "nobody")
    assert result.exit_code == 1 and "nobody" in result.output


def test_catalogue_load_loads_7_36_and_8_112_and_twice_changes_nothing(cli):
    first = cli("catalogue", "load")
    assert first.exit_code == 0, first.output
    counts = {
        kind: db.session.scalar(
            select(func.count())
            .select_from(CatalogueItem)
            .join(CatalogueCategory)
            .where(CatalogueCategory.kind == kind)
        )
        for kind in ("affair", "service")
    }
    assert counts == {"affair": 36, "service": 112}
    assert db.session.scalar(select(func.count()).select_from(CatalogueCategory)) == 15
    assert db.session.scalar(select(func.count()).select_from(CareTag)) > 0
    second = cli("catalogue", "load")
    assert "nothing to change" in second.output


def test_catalogue_items_are_searchable_by_pinyin_initials(cli):
    cli("catalogue", "load")
    item = db.session.scalar(select(CatalogueItem).where(CatalogueItem.code == "A05-01"))
    assert item.name_zh.startswith("电线") and item.pinyin_initials.startswith("dx")
    assert item.limit_urgent_hours == 2
    assert item.default_unit is not None


def test_catalogue_load_of_a_broken_file_changes_nothing(cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[units]]\ncode = "U-X"\nname_zh = "x"\n', encoding="utf-8")
    result = cli("catalogue", "load", "--file", str(bad))
    assert result.exit_code == 1 and "catalogue not loaded" in result.output
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 0
    broken = tmp_path / "broken.toml"
    broken.write_text("this is = = not toml", encoding="utf-8")
    assert cli("catalogue", "load", "--file", str(broken)).exit_code == 1


def test_a_lost_device_is_listed_and_revoked_from_the_cli(cli, client, make_user, token_for):
    user = make_user("worker", "zhou.jie")
    device_id = uuid.uuid4()
    token = token_for(user, device_id=device_id)
    assert str(device_id) in cli("users", "devices", "zhou.jie").output
    result = cli("users", "revoke-device", str(device_id))
    assert result.exit_code == 0 and "revoked" in result.output
    assert "revoked" in cli("users", "devices", "zhou.jie").output
    assert (
        client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )


@pytest.mark.parametrize("device", ["not-a-uuid", str(uuid.UUID(int=7))])
def test_revoking_a_device_that_is_not_there_fails_clearly(cli, device):
    result = cli("users", "revoke-device", device)
    assert result.exit_code != 0
    assert "UUID" in result.output or "没有此设备" in result.output


def test_set_password_refuses_a_short_one_and_keeps_the_old(cli, make_user):
    user = make_user("worker", "zhou.jie")
    old_hash = user.password_hash
    result = cli("users", "set-password", "zhou.jie", "--password-stdin", input="short\n")
    assert result.exit_code == 1 and "password" in result.output
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == old_hash


def test_the_language_switch_ignores_unknown_languages(client):
    from tests.server.conftest import csrf_token

    client.post("/lang/xx", data={"csrf_token": csrf_token(client)})
    assert '<html lang="zh-CN">' in client.get("/login").get_data(as_text=True)
