"""Benchmark the register import: dry run + apply of a 100,000-resident register from XLSX.

Run ``python bench/bench_register_import.py`` (100,000 residents in 35,000 households, 5,000
standard doors) or ``--quick`` (10,000 / 3,500). Builds a migrated SQLite database with a
published grid, the care tags, the category table and the standard addresses, writes the
register as a real XLSX file (openpyxl, invented people), then measures, each phase in its
own process on its own copy of the database (wall time and peak RSS of that process):

  - baseline: openpyxl read-only iteration of every row plus a Core bulk insert of the same
    households and residents (no checks, no matching, no encryption);
  - ours, one pass (``flask register import FILE --apply``): dry run and apply of the checked
    plan in one transaction;
  - ours, two steps (the page and the API): dry run, commit, then apply, which re-checks the
    kept file against the database first.

Then the address matching rate on a messy sample: register addresses written the ways real
files write them (full-width digits, spaces, 幢/栋/号楼, 12-302, Chinese numerals, the city
and district in front, a floor before the flat, a sub-lane omitted, typos in the road name).
``--postgres URL`` also runs the three phases on PostgreSQL (a scratch database is made).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LON0, LAT0, STEP = 121.410, 31.200, 0.0015  # building groups about 140 m wide
GRID_SIDE = 10  # 10 × 10 building groups
ROADS = [
    "新华路",
    "法华镇路",
    "番禺路",
    "定西路",
    "安顺路",
    "香花桥路",
    "幸福路",
    "泰安路",
    "上方花园路",
    "延安西路",
]
HEADER = [
    "户号",
    "姓名",
    "性别",
    "出生日期",
    "公民身份号码",
    "联系电话",
    "与户主关系",
    "地址",
    "人员类别",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国玉兰"
CATEGORIES = ["", "", "", "", "", "", "独居老人", "高龄", "残疾人", "低保", "纯老家庭", "空巢"]


# --- files -------------------------------------------------------------------------------


def grid_geojson() -> bytes:
    """One street, 4 residential areas, 4 blocks each (25 groups in total per block)."""

    def box(c0: float, r0: float, c1: float, r1: float) -> list[list[list[float]]]:
        x0, y0, x1, y1 = (LON0 + c0 * STEP, LAT0 + r0 * STEP, LON0 + c1 * STEP, LAT0 + r1 * STEP)
        return [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]

    def feature(code: str, level: str, parent: str | None, cells: tuple[int, ...]) -> dict:
        return {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": box(*cells)},
            "properties": {"code": code, "name": code, "level": level, "parent_code": parent},
        }

    half = GRID_SIDE // 2
    features = [feature("S", "street", None, (0, 0, GRID_SIDE, GRID_SIDE))]
    for ar in range(2):
        for ac in range(2):
            area = f"R{ar}{ac}"
            features.append(
                feature(
                    area,
                    "residential_area",
                    "S",
                    (ac * half, ar * half, (ac + 1) * half, (ar + 1) * half),
                )
            )
            block = f"{area}-B"
            features.append(
                feature(
                    block, "block", area, (ac * half, ar * half, (ac + 1) * half, (ar + 1) * half)
                )
            )
            for r in range(ar * half, (ar + 1) * half):
                for c in range(ac * half, (ac + 1) * half):
                    features.append(
                        feature(f"{block}-G{r}{c}", "building_group", block, (c, r, c + 1, r + 1))
                    )
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def doors(count: int, rng: random.Random) -> list[tuple[str, str, str, str, float, float]]:
    """(code, road, lane, number, lon, lat): lanes of 8–20 buildings on each road."""
    found = []
    lane_no = {road: 1 for road in ROADS}
    while len(found) < count:
        road = rng.choice(ROADS)
        lane = str(lane_no[road])
        lane_no[road] += rng.choice((2, 4, 6))
        for number in range(1, rng.randint(8, 20)):
            lon = LON0 + rng.uniform(0.02, 0.98) * STEP * GRID_SIDE
            lat = LAT0 + rng.uniform(0.02, 0.98) * STEP * GRID_SIDE
            found.append((f"D{len(found):06d}", road, lane, str(number), lon, lat))
    return found[:count]


USED: set[str] = set()


def invented_id(rng: random.Random, year: int, sex: str) -> str:
    """A well-formed number no other invented person has (region 99: no such province)."""
    from server.population.idnumbers import check_char

    sex_digit = rng.randrange(1, 10, 2) if sex == "M" else rng.randrange(0, 10, 2)
    first17 = (
        f"990105{year:04d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        f"{rng.randrange(100):02d}{sex_digit}"
    )
    if first17 in USED:
        return invented_id(rng, year, sex)
    USED.add(first17)
    return first17 + check_char(first17)


def register_rows(residents: int, households: int, door_list: list, rng: random.Random):
    """Header, then people: households of 1–5 (head first), spread over the doors."""
    yield HEADER
    made = 0
    for h in range(households):
        _code, road, lane, number, _, _ = door_list[h % len(door_list)]
        room = f"{rng.randint(1, 6)}{rng.randint(1, 4):02d}"
        address = f"{road}{lane}弄{number}号{room}室"
        size = max(1, min(5, residents // households + rng.choice((-1, 0, 0, 1))))
        if h == households - 1:
            size = residents - made
        for i in range(size):
            sex = rng.choice("MF")
            year = rng.randint(1930, 2020)
            name = rng.choice(SURNAMES) + "".join(
                rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))
            )
            relation = "户主" if i == 0 else rng.choice(("配偶", "子女", "父母", "其他"))
            phone = f"1380{rng.randrange(10**7):07d}" if year < 2012 else ""
            yield [
                f"H{h:06d}",
                name,
                "男" if sex == "M" else "女",
                f"{year}-01-01",
                invented_id(rng, year, sex),
                phone,
                relation,
                address,
                rng.choice(CATEGORIES),
            ]
            made += 1
        if made >= residents:
            break


def fix_birth_dates(row: list) -> list:
    """The birth date column agrees with the identity number (as a real register does)."""
    if row[0] != "户号":
        number = row[4]
        row[3] = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    return row


def write_xlsx(path: Path, rows) -> int:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("人口登记")
    count = -1
    for row in rows:
        sheet.append(fix_birth_dates(row))
        count += 1
    book.save(path)
    return count


def write_doors_csv(path: Path, door_list: list) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["标准地址编码", "标准地址", "经度", "纬度"])
    for code, road, lane, number, lon, lat in door_list:
        writer.writerow([code, f"{road}{lane}弄{number}号", round(lon, 7), round(lat, 7)])
    path.write_bytes(("\ufeff" + buffer.getvalue()).encode())


# --- phases (each in its own process) ---------------------------------------------------


def app_for(url: str, instance: Path):
    from server import create_app

    return create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench"}
    )


def prepare(url: str, instance: Path, folder: Path) -> None:
    """Migrate; publish the grid; care tags and categories; import the doors (our pipeline)."""
    import datetime as dt

    from flask_migrate import upgrade

    from server.catalogue import loading
    from server.extensions import db
    from server.grid import operations as grid
    from server.imports import categories, operations
    from server.imports.wiring import make_context

    app = app_for(url, instance)
    with app.app_context():
        upgrade()
        outcome = grid.import_grid(
            db.session,
            None,
            (folder / "grid.geojson").read_bytes(),
            grid.ImportOptions(name="bench"),
        )
        grid.publish_grid(db.session, None, outcome.version.id, near_m=50.0, today=dt.date.today())
        loading.load_care_tags(db.session, loading.read_toml(loading.CARE_TAGS_FILE))
        categories.load_defaults(db.session)
        ctx = make_context(db.session, None, options={"datum": "wgs84"})
        run, checked = operations.check_file(ctx, "addresses", (folder / "doors.csv").read_bytes())
        assert run.state == "checked", run.report["problems"][:3]
        operations.apply_run(ctx, run.id, checked)
        db.session.commit()
        db.engine.dispose()


def phase_baseline(url: str, instance: Path, folder: Path) -> dict:
    """openpyxl read-only iteration + Core bulk insert of the same rows, nothing else."""
    import uuid

    import sqlalchemy as sa
    from openpyxl import load_workbook

    from server.models import metadata

    started = time.perf_counter()
    book = load_workbook(folder / "register.xlsx", read_only=True, data_only=True)
    households: dict[str, dict] = {}
    residents = []
    rows = book.worksheets[0].iter_rows(values_only=True)
    next(rows)
    for no, name, sex, born, _number, phone, relation, address, _category in rows:
        home = households.get(no)
        if home is None:
            home = households[no] = {
                "id": uuid.uuid4(),
                "address": address,
                "road": "",
                "lane": "",
                "building": "",
                "room": "",
                "cell_code": "",
                "notes": "",
                "version": 1,
                "address_match": "",
            }
        residents.append(
            {
                "id": uuid.uuid4(),
                "household_id": home["id"],
                "name": name,
                "gender": "M" if sex == "男" else "F",
                "birth_year": int(born[:4]),
                "phone": phone or None,
                "relation": relation,
                "notes": "",
                "version": 1,
            }
        )
    read_s = time.perf_counter() - started
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        values = list(households.values())
        for start in range(0, len(values), 2000):
            conn.execute(metadata.tables["households"].insert(), values[start : start + 2000])
        for start in range(0, len(residents), 2000):
            conn.execute(metadata.tables["residents"].insert(), residents[start : start + 2000])
    return {"seconds": time.perf_counter() - started, "read_s": read_s, "rows": len(residents)}


def phase_ours(url: str, instance: Path, folder: Path, two_steps: bool) -> dict:
    from server.extensions import db
    from server.imports import operations
    from server.imports.wiring import make_context

    app = app_for(url, instance)
    data = (folder / "register.xlsx").read_bytes()
    with app.app_context():
        started = time.perf_counter()
        ctx = make_context(db.session, None)
        run, checked = operations.check_file(ctx, "register", data, filename="register.xlsx")
        assert run.state == "checked", run.report["problems"][:3]
        if two_steps:
            db.session.commit()
            checked = None
        dry_s = time.perf_counter() - started
        operations.apply_run(make_context(db.session, None), run.id, checked)
        db.session.commit()
        total = time.perf_counter() - started
        counts = run.counts
    return {
        "seconds": total,
        "dry_run_s": dry_s,
        "apply_s": total - dry_s,
        "rows": counts["rows"],
        "warnings": counts["warnings"],
        "residents_created": counts["residents_created"],
    }


def current_rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory now (VmRSS) or at its peak (VmHWM), Linux. Not
    ru_maxrss: after fork and exec it may still hold the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(args: argparse.Namespace) -> None:
    folder, instance = Path(args.folder), Path(args.instance)
    import openpyxl  # noqa: F401  (both sides pay the same imports before the clock starts)

    import server.models  # noqa: F401

    before = resource.getrusage(resource.RUSAGE_SELF)
    start_rss = current_rss_mb()
    if args.phase == "baseline":
        result = phase_baseline(args.url, instance, folder)
    else:
        result = phase_ours(args.url, instance, folder, two_steps=args.phase == "two-steps")
    after = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_rss_mb"] = current_rss_mb("VmHWM")
    result["rss_after_imports_mb"] = start_rss
    result["cpu_s"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(json.dumps(result))


def run_phase(phase: str, url: str, instance: Path, folder: Path) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            phase,
            "--url",
            url,
            "--instance",
            str(instance),
            "--folder",
            str(folder),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise SystemExit(f"{phase} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- address matching on messy text -----------------------------------------------------

CN = "〇一二三四五六七八九"
VARIANTS = 13


def messy(road: str, lane: str, number: str, room: str, variant: int, rng: random.Random) -> str:
    """One address written the ``variant``-th way some 居委会 writes it."""

    def cn(n: str) -> str:
        return "".join(CN[int(d)] for d in n)

    if variant == 0:
        return f"{road}{lane}弄{number}号{room}室"
    if variant == 1:
        return "".join(
            chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in f"{road}{lane}弄{number}号{room}室"
        )
    if variant == 2:
        return f"{road} {lane} 弄 {number} 号 {room}"
    if variant == 3:
        return f"{road}{lane}弄{number}{rng.choice(('幢', '栋', '号楼'))}{room}室"
    if variant == 4:
        return f"{road}{lane}弄{number}-{room}"
    if variant == 5:
        return f"上海市长宁区{road}{lane}弄{number}号{room}室"
    if variant == 6:
        return f"{road}{cn(lane)}弄{cn(number)}号{room}室"
    if variant == 7:
        return f"{road}{lane}弄{number}号{room[0]}楼{room}室"
    if variant == 8:
        return f"长宁{road}{lane}弄{number}号{room}"
    if variant == 9:
        return f"{road[:-1]}{lane}弄{number}号{room}室"  # 新华329弄…: the 路 dropped
    if variant == 10:
        return f"{road}{lane}弄{number}号"  # no flat
    if variant == 12:
        typo = {"禺": "禹", "华": "化", "定": "顶", "安": "按", "福": "富"}
        wrong = next((road.replace(a, b, 1) for a, b in typo.items() if a in road), road)
        return f"{wrong}{lane}弄{number}号{room}室"  # a homophone in the road's name
    return f"{road}{lane}号{number}室"  # 弄 written as 号: really ambiguous


def matching_rate(door_list: list, samples: int, rng: random.Random) -> dict:
    from geo.address_text import parse
    from server.addresses.matching import AddressIndex

    rows = [
        (i, code, f"{road}{lane}弄{no}号", road, lane, "", no, f"{road}|{lane}||{no}", "G", 0, 0)
        for i, (code, road, lane, no, _, _) in enumerate(door_list)
    ]
    index = AddressIndex(rows)
    outcome = {"matched_right": 0, "matched_wrong": 0, "ambiguous": 0, "unmatched": 0}
    for _ in range(samples):
        i = rng.randrange(len(door_list))
        code, road, lane, no, _, _ = door_list[i]
        room = f"{rng.randint(1, 6)}0{rng.randint(1, 4)}"
        variant = rng.randrange(VARIANTS)
        text = messy(road, lane, no, room, variant, rng)
        key = parse(text)
        found = index.match(key) if key else None
        if found is None or found.status == "unmatched":
            outcome["unmatched"] += 1
        elif found.status == "ambiguous":
            outcome["ambiguous"] += 1
        elif found.door.code == code:
            outcome["matched_right"] += 1
        else:
            outcome["matched_wrong"] += 1
    outcome["rate"] = outcome["matched_right"] / samples
    return outcome


# --- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--residents", type=int, default=None)
    parser.add_argument("--postgres", default=None, help="also run on this PostgreSQL server")
    parser.add_argument("--child", dest="phase", default=None)
    parser.add_argument("--url")
    parser.add_argument("--instance")
    parser.add_argument("--folder")
    args = parser.parse_args()
    if args.phase:
        child(args)
        return
    residents = args.residents or (10_000 if args.quick else 100_000)
    households = residents * 35 // 100
    rng = random.Random(13)
    folder = Path(tempfile.mkdtemp(prefix="bench-register-"))
    try:
        door_list = doors(max(200, households // 7), rng)
        (folder / "grid.geojson").write_bytes(grid_geojson())
        write_doors_csv(folder / "doors.csv", door_list)
        started = time.perf_counter()
        count = write_xlsx(
            folder / "register.xlsx", register_rows(residents, households, door_list, rng)
        )
        size_mb = (folder / "register.xlsx").stat().st_size / 1e6
        print(
            f"register.xlsx: {count:,} residents in {households:,} households, {size_mb:.1f} MB "
            f"(written in {time.perf_counter() - started:.1f} s); {len(door_list):,} doors"
        )
        backends = [("SQLite", None)] + ([("PostgreSQL", args.postgres)] if args.postgres else [])
        for name, server_url in backends:
            measure(name, server_url, folder)
        rate = matching_rate(door_list, 20_000, random.Random(7))
        print(
            f"address matching on 20,000 messy addresses ({VARIANTS} spellings): "
            f"{rate['rate']:.1%} to the right door, {rate['matched_wrong']} to a wrong one, "
            f"{rate['ambiguous']} ambiguous, {rate['unmatched']} unmatched"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure(name: str, server_url: str | None, folder: Path) -> None:
    import uuid

    import sqlalchemy as sa

    urls = {}
    for phase in ("baseline", "one-pass", "two-steps"):
        if server_url is None:
            urls[phase] = f"sqlite:///{folder / phase}.db"
        else:
            db_name = f"bench_register_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{db_name}"')
            admin.dispose()
            urls[phase] = (
                sa.make_url(server_url).set(database=db_name).render_as_string(hide_password=False)
            )
        prepare(urls[phase], folder / f"instance-{phase}", folder)
    results = {
        phase: run_phase(phase, urls[phase], folder / f"instance-{phase}", folder)
        for phase in ("baseline", "one-pass", "two-steps")
    }
    base = results["baseline"]
    print(
        f"[{name}] baseline (openpyxl read-only + Core bulk insert): {base['seconds']:.1f} s "
        f"(read {base['read_s']:.1f} s; CPU {base['cpu_s']:.1f} s), peak RSS "
        f"{base['peak_rss_mb']:.0f} MB ({base['rss_after_imports_mb']:.0f} MB after imports)"
    )
    for phase, label in (
        ("one-pass", "dry run + apply, one pass (CLI --apply)"),
        ("two-steps", "dry run, then apply with re-check (page/API)"),
    ):
        r = results[phase]
        print(
            f"[{name}] ours, {label}: {r['seconds']:.1f} s = {r['seconds'] / base['seconds']:.2f}× "
            f"baseline (dry run {r['dry_run_s']:.1f} s, apply {r['apply_s']:.1f} s; CPU "
            f"{r['cpu_s']:.1f} s = {r['cpu_s'] / base['cpu_s']:.2f}×), peak RSS "
            f"{r['peak_rss_mb']:.0f} MB; {r['residents_created']:,} created, "
            f"{r['warnings']} warnings"
        )
    if server_url is not None:
        admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for url in urls.values():
                conn.exec_driver_sql(
                    f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'
                )
        admin.dispose()


if __name__ == "__main__":
    main()
