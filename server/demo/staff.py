"""The demo's staff accounts; their duties are in the staff file (server/demo/files.py)."""

from __future__ import annotations

from dataclasses import dataclass

from server.enums import Role

#: Every demo account has this password. Demo only: `users disable` them in production.
DEMO_PASSWORD = "wangge-demo"


@dataclass(frozen=True)
class StaffMember:
    username: str
    role: Role
    display_name: str
    phone: str


STAFF: tuple[StaffMember, ...] = (
    StaffMember("admin", Role.ADMIN, "系统管理员", "13800000001"),
    StaffMember("zhao.min", Role.DISPATCHER, "赵敏", "13800000011"),
    StaffMember("qian.lei", Role.DISPATCHER, "钱磊", "13800000012"),
    StaffMember("sun.li", Role.GIS, "孙丽", "13800000021"),
    StaffMember("li.qiang", Role.MANAGER, "李强", "13800000031"),
    StaffMember("zhou.jie", Role.WORKER, "周杰", "13800000101"),
    StaffMember("wu.fang", Role.WORKER, "吴芳", "13800000102"),
    StaffMember("zheng.hao", Role.WORKER, "郑浩", "13800000103"),
    StaffMember("wang.jing", Role.WORKER, "王静", "13800000104"),
    StaffMember("feng.yu", Role.WORKER, "冯宇", "13800000105"),
    StaffMember("chen.xia", Role.WORKER, "陈霞", "13800000106"),
    StaffMember("chu.ming", Role.WORKER, "褚明", "13800000107"),
    StaffMember("wei.lan", Role.WORKER, "卫兰", "13800000108"),
    StaffMember("jiang.tao", Role.WORKER, "蒋涛(社区民警)", "13800000201"),
    StaffMember("shen.hua", Role.WORKER, "沈华(物业经理)", "13800000202"),
)

GRID_WORKERS = tuple(s.username for s in STAFF if s.role == Role.WORKER)[:8]


def worker_for_area(area_index: int) -> tuple[str, str]:
    """Principal and deputy (AB角) grid workers of the n-th residential area."""
    n = len(GRID_WORKERS)
    return GRID_WORKERS[area_index % n], GRID_WORKERS[(area_index + 1) % n]
