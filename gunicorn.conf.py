"""gunicorn settings for production: `gunicorn wsgi:app` reads this file (docs/deploy.md).

Every value can be overridden by an environment variable named below or on the command line.
"""

import multiprocessing
import os
import shutil
from pathlib import Path

_instance = Path(os.environ.get("WANGGE_INSTANCE_PATH") or Path(__file__).parent / "instance")

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: the app does short database work per request; 2 × CPUs + 1 keeps the CPUs busy
# while some wait on the database or a slow phone. Cap it: each worker holds a DB pool.
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 12)))
worker_class = "sync"
# A phone on a bad link sends a 256 KiB chunk slowly; nginx buffers bodies, so 60 s is plenty.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (leaks in C extensions, fragmentation); jitter avoids a herd.
max_requests = 5000
max_requests_jitter = 500
# Trust X-Forwarded-* only from the reverse proxy on this machine (ProxyFix does the rest:
# set WANGGE_BEHIND_PROXY=true).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# The control socket (gunicorn ≥ 24) lives at one path per user: several instances would clash.
control_socket_disable = True

# Logs: JSON lines on stderr, gunicorn's own and the access log alike (the app logs its own
# request line too, with the route, user and device: server/ops/logs.py).
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "server.ops.logs.json_formatter"},
        "access": {"()": "server.ops.logs.GunicornAccessFormatter"},
    },
    # gunicorn merges this with its defaults, whose root logger names "console".
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        },
        "error_console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        },
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "access",
            "stream": "ext://sys.stdout",
        },
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["error_console"], "level": "INFO", "propagate": False},
        "alembic": {"level": "WARNING"},  # plugin chatter as each worker imports it
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}

# Prometheus multiprocess mode: each worker writes its counters to files and /metrics sums
# them. Every master gets its own folder, `master-<pid>` under this one (set in on_starting,
# before any worker imports the app): two instances started from one checkout or with one
# instance folder never empty or add up each other's files.
_metrics_base = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or _instance / "prometheus")
if _metrics_base.name.startswith("master-"):  # a re-executed master (USR2) inherits its own
    _metrics_base = _metrics_base.parent
# The app's own logs (server/ops/logs.py) as JSON lines too.
os.environ.setdefault("WANGGE_LOG_FORMAT", "json")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def on_starting(server):
    _metrics_base.mkdir(parents=True, exist_ok=True)
    for stale in _metrics_base.glob("master-*"):  # masters that died without on_exit
        pid = stale.name.removeprefix("master-")
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    directory = _metrics_base / f"master-{os.getpid()}"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)  # inherited by every worker


def on_exit(server):
    shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    # The app and its tables (pinyin dictionaries, projections, …) are loaded now and live as
    # long as the worker: move them out of the collector's reach. Without this, a stopping
    # worker spends seconds in the final collection of the interpreter (gunicorn then needs
    # ~5 s to stop when idle), and every full collection while serving walks them again.
    import gc

    gc.freeze()
