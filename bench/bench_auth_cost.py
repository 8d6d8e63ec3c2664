"""What one sign-in costs the server: a password sign-in (Argon2id with argon2-cffi's old
defaults, the baseline; and with our OWASP parameters) next to a token renewal, in one run.

Run ``python bench/bench_auth_cost.py [--n 40]``: in-process (Flask test client, a migrated
SQLite file), each kind ``--n`` times in turn (interleaved, so a loaded machine weighs on all
alike); prints the median and p95 wall time and the mean CPU time per request.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from argon2 import PasswordHasher
from flask_migrate import upgrade

from server import create_app
from server.accounts import operations as accounts
from server.accounts import passwords
from server.extensions import db

PASSWORD = "cost bench password"
#: argon2-cffi 25's defaults (RFC 9106's low-memory profile): what we used before.
OLD = passwords.Argon2Parameters(memory_kib=65536, time_cost=3, parallelism=4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="wangge-auth-cost-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'a.db'}",
                      "INSTANCE_PATH": str(folder), "SECRET_KEY": "bench",
                      "RATELIMIT_ENABLED": False})  # fmt: skip
    with app.app_context():
        upgrade()
        old = accounts.create_user(db.session, username="old.params", password=None, role="worker")
        old.password_hash = PasswordHasher().hash(PASSWORD)  # argon2-cffi 25 defaults
        accounts.create_user(db.session, username="owasp", password=PASSWORD, role="worker")
        db.session.commit()
    client = app.test_client()
    ours = passwords.current_parameters()
    device = str(uuid.uuid4())

    def sign_in(username: str) -> str:
        answer = client.post("/api/v1/auth/token", json={"username": username,
            "password": PASSWORD, "device_id": device if username == "owasp" else
            str(uuid.uuid4()), "device_name": "bench"})  # fmt: skip
        assert answer.status_code == 201, answer.get_json()
        return str(answer.get_json()["token"])

    token = sign_in("owasp")
    times: dict[str, list[tuple[float, float]]] = {"password, argon2-cffi defaults": [],
        "password, OWASP m=19 MiB t=2 p=1": [], "renewal": []}  # fmt: skip
    for _ in range(args.n):
        for kind in times:
            wall, cpu = time.perf_counter(), time.process_time()
            if kind == "renewal":
                answer = client.post("/api/v1/auth/token/renew", json={"token": token})
                assert answer.status_code == 201, answer.get_json()
                token = answer.get_json()["token"]
            elif "OWASP" in kind:
                sign_in("owasp")
            else:
                # the server set to the old parameters for this request: no rehash to OWASP's
                passwords.configure(OLD)
                try:
                    sign_in("old.params")
                finally:
                    passwords.configure(ours)
            times[kind].append((time.perf_counter() - wall, time.process_time() - cpu))
    print(f"{args.n} requests each, interleaved; in-process, SQLite")
    for kind, values in times.items():
        walls = sorted(w for w, _ in values)
        p95 = walls[min(len(walls) - 1, int(0.95 * len(walls)))]
        cpu = statistics.fmean(c for _, c in values) * 1000
        print(f"  {kind:<34} median {statistics.median(walls) * 1000:7.1f} ms  p95 "
              f"{p95 * 1000:7.1f} ms  CPU {cpu:7.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
