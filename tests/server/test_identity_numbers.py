"""Identity numbers at rest: sealed with a configured key, rotated, never in a dump."""

from __future__ import annotations

import base64
import os
import stat

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from server.extensions import db
from server.population.identity import IdentityKeyError, IdVault, app_vault, vault_from_config
from server.population.models import Resident
from tests.server.import_world import household_rows, xlsx_bytes

NUMBER = household_rows()[1][4]


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_sealing_twice_gives_two_ciphertexts_that_open_to_the_number(tmp_path):
    vault = vault_from_config(
        {"ID_NUMBER_KEYS": [f"k1:{key()}"], "ID_NUMBER_HMAC_KEY": key()}, str(tmp_path)
    )
    first, second = vault.seal(NUMBER), vault.seal(NUMBER)
    assert first != second and NUMBER not in first
    assert vault.open(first) == vault.open(second) == NUMBER
    assert vault.digest(NUMBER) == vault.digest(NUMBER) != vault.digest(NUMBER[:-1] + "0")


def test_an_altered_ciphertext_or_an_unknown_key_does_not_open(tmp_path):
    vault = vault_from_config({"ID_NUMBER_KEYS": [f"k1:{key()}"]}, str(tmp_path))
    sealed = vault.seal(NUMBER)
    body = bytearray(base64.b64decode(sealed.split("$")[1]))
    body[-1] ^= 1
    with pytest.raises(IdentityKeyError):
        vault.open("k1$" + base64.b64encode(bytes(body)).decode())
    with pytest.raises(IdentityKeyError):
        vault.open("k9$" + sealed.split("$")[1])


@pytest.mark.parametrize(
    "entry", ["k1", "k1:not-base64!", f"k1:{base64.b64encode(b'short').decode()}", f"k$1:{key()}"]
)
def test_a_malformed_key_setting_is_refused_at_start(tmp_path, entry):
    with pytest.raises(IdentityKeyError):
        vault_from_config({"ID_NUMBER_KEYS": [entry]}, str(tmp_path))


def test_without_configured_keys_the_instance_folder_keeps_private_ones(tmp_path):
    first = vault_from_config({}, str(tmp_path))
    again = vault_from_config({}, str(tmp_path))
    assert again.open(first.seal(NUMBER)) == NUMBER
    for name in ("id_number_key", "id_number_hmac_key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600


def test_a_database_dump_holds_no_identity_number(office, app):
    office.apply("register", xlsx_bytes(household_rows()))
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        rows = db.session.execute(select(Resident.__table__)).all()
        dump = repr(rows).encode()
    else:
        db.session.commit()
        db.engine.dispose()
        dump = b"".join(
            p.read_bytes()
            for p in __import__("pathlib").Path(url.database).parent.glob("wangge.db*")
        )
    for row in household_rows()[1:]:
        assert row[4].encode() not in dump and row[4][:-1].encode() not in dump


def test_rotating_the_key_and_rekeying_reseals_every_number(office, app):
    office.apply("register", xlsx_bytes(household_rows()))
    old = app_vault(app)
    new_key = key()
    rotated = IdVault(
        [("k2", base64.b64decode(new_key)), *((kid, k) for kid, k in _keys(old))], old._hmac_key
    )
    app.extensions["wangge.id_vault"] = rotated
    result = CliRunner().invoke(app.cli, ["register", "rekey"], catch_exceptions=False)
    assert "4 identity numbers re-sealed" in result.output
    sealed = list(db.session.scalars(select(Resident.id_number_sealed)))
    assert all(s.startswith("k2$") for s in sealed)
    alone = IdVault([("k2", base64.b64decode(new_key))], old._hmac_key)
    assert NUMBER in {alone.open(s) for s in sealed}


def _keys(vault: IdVault) -> list[tuple[str, bytes]]:
    import pathlib

    folder = pathlib.Path(__import__("flask").current_app.instance_path)
    return [("local", base64.b64decode((folder / "id_number_key").read_text()))]


def _resident_and_cell():
    resident = db.session.scalar(select(Resident).where(Resident.name == "张桂英"))
    return resident, "R1-B1-G1"


def test_staff_covering_the_household_see_it_masked_and_only_managers_reveal_it(
    office, client, make_user, token_for
):
    from server.audit.models import AuditEntry
    from server.grid import operations as grid
    from tests.server.grid_files import auth
    from tests.server.import_world import TODAY

    office.apply("register", xlsx_bytes(household_rows()))
    resident, cell = _resident_and_cell()
    worker, other, manager = make_user("worker"), make_user("worker"), make_user("manager")
    grid.assign_duty(
        db.session,
        None,
        cell_code=cell,
        username=worker.username,
        role="grid_worker",
        starts_on=TODAY.replace(year=2020),
    )
    db.session.commit()
    url = f"/api/v1/residents/{resident.id}/id-number"
    shown = client.get(url, headers=auth(token_for(worker))).get_json()
    assert shown["masked"] == "9*************" + NUMBER[-4:] and "number" not in shown
    assert client.get(url, headers=auth(token_for(other))).status_code == 404  # not their cell
    refused = client.post(url + "/reveal", json={"reason": "核对"}, headers=auth(token_for(worker)))
    assert refused.status_code == 403
    revealed = client.post(
        url + "/reveal", json={"reason": "办理低保核对"}, headers=auth(token_for(manager))
    )
    assert revealed.status_code == 200 and revealed.get_json()["number"] == NUMBER
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reveal"))
    assert entry.actor_id == manager.id and entry.detail["reason"] == "办理低保核对"
    assert (
        client.post(url + "/reveal", json={}, headers=auth(token_for(manager))).status_code == 422
    )
