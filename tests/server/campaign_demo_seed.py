"""Add a campaign with targets and answers to the demo district (browser tests of issue 18).

    python -m tests.server.campaign_demo_seed 300 900   # targets, answers; prints {"id": …}

The rows are the benchmark's (bench/bench_campaign_progress.py: two form versions, late
answers, findings with located cases), on the database the app's settings name.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_campaign_progress.py"


def add_campaign(targets: int, answers: int) -> int:
    from server import create_app

    spec = importlib.util.spec_from_file_location("bench_campaign_progress", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    app = create_app()
    with app.app_context():
        return int(bench._fill(targets=targets, answers=answers, index=False))


if __name__ == "__main__":
    targets, answers = (int(a) for a in sys.argv[1:3])
    print(json.dumps({"id": add_campaign(targets, answers)}))
