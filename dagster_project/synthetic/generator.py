"""A deterministic, realistic synthetic delivery of all 14 source tables (docs/sources.md).

Jiangsu province and its 13 cities at scale 1, its counties added up to scale 10, further
provinces beyond. Large tables (persons, execution, tasks, progress, reviews) are built with
numpy, not row loops, so scale 10 generates in well under a minute.

Every table is returned as text cells ('' = null), exactly as a source system would export it.
Each table draws from its own random stream, so adding a column to one table does not change
the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from dagster_project.core.national_codes import gb11643_check_digit, gb32100_check_char
from dagster_project.synthetic import reference as ref

DEFAULT_YEAR = 2023
DEFAULT_SEED = 20231231
COUNTIES_AT_SCALE_10 = sum(len(v.split(",")) for v in ref.JIANGSU_COUNTIES.values())
SCALE_PER_EXTRA_PROVINCE = 3.0


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    short: str  # short name used in document numbers (苏编〔2019〕12号)
    level: str  # province | city | county
    province: str


@dataclass
class Unit:
    code: str
    name: str
    region: Region
    template: ref.AgencyTemplate
    seq: int
    established_on: str = ""
    abolished_on: str = ""
    parent: str = ""


# --------------------------------------------------------------------------- helpers


def _dates(values: np.ndarray) -> np.ndarray:
    """datetime64[D] → 'YYYY-MM-DD' strings ('' for NaT)."""
    out = np.datetime_as_string(values.astype("datetime64[D]"), unit="D").astype(object)
    out[np.isnat(values)] = ""
    return out


def _money(values: np.ndarray) -> np.ndarray:
    return np.char.mod("%.2f", np.round(values, 2)).astype(object)


def _num(values: np.ndarray, decimals: int = 1) -> np.ndarray:
    """Numbers as the systems export them: no trailing zeros ('12', '12.5'), '' for NaN."""
    text = pd.Series(np.round(values, decimals)).map(lambda v: "" if v != v else f"{v:g}")
    return text.to_numpy(dtype=object)


def _day(d: date | str) -> np.datetime64:
    return np.datetime64(str(d), "D")


def _rand_dates(rng: np.random.Generator, start: str, end: str, n: int) -> np.ndarray:
    lo, hi = _day(start), _day(end)
    return lo + rng.integers(0, int((hi - lo).astype(int)) + 1, size=n).astype("timedelta64[D]")


def _org_code(number: int) -> str:
    """A 9-character organisation code (GB 11714) from an 8-digit number, with its check."""
    body = f"{number:08d}"
    total = sum(int(ch) * w for ch, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def unit_code(region_code: str, unit_type: str, number: int) -> str:
    """An 18-character GB 32100 code: authority 1 (机构编制), type, region, org code, check."""
    first17 = "1" + ("2" if unit_type == "institution" else "1") + region_code + _org_code(number)[:9]
    return first17 + gb32100_check_char(first17)


# --------------------------------------------------------------------------- regions and units


def regions_for(scale: float) -> list[Region]:
    prov_code, prov_name, prov_short = ref.JIANGSU
    regions = [Region(prov_code, prov_name, prov_short, "province", prov_name)]
    regions += [Region(c, n, s, "city", prov_name) for c, n, s in ref.JIANGSU_CITIES]
    counties = [
        [Region(code, name, short, "county", prov_name) for code, name in (x.split() for x in spec.split(","))]
        for (_, _, short), spec in zip(ref.JIANGSU_CITIES, ref.JIANGSU_COUNTIES.values(), strict=True)
    ]
    # Interleave cities so that a partial scale spreads counties over the whole province.
    interleaved = [c[i] for i in range(max(map(len, counties))) for c in counties if i < len(c)]
    if scale > 1:
        wanted = round(COUNTIES_AT_SCALE_10 * min(scale - 1, 9) / 9)
        regions += interleaved[:wanted]
    extra = max(0.0, scale - 10)
    for code, name, short in ref.OTHER_PROVINCES[: math.ceil(extra / SCALE_PER_EXTRA_PROVINCE)]:
        share = min(1.0, extra / SCALE_PER_EXTRA_PROVINCE)
        extra -= SCALE_PER_EXTRA_PROVINCE
        regions.append(Region(code, name, short, "province", name))
        cities = [Region(f"{code[:2]}{i:02d}00", f"{name}第{i}市", short, "city", name) for i in range(1, 13)]
        regions += cities
        for i in range(round(share * 30)):
            city = cities[i % 12]
            regions.append(
                Region(
                    f"{city.code[:4]}{i // 12 + 1:02d}",
                    f"{city.name}第{i // 12 + 1}县",
                    short,
                    "county",
                    name,
                )
            )
    return regions


def _templates_for(level: str, scale: float) -> list[ref.AgencyTemplate]:
    if level == "province":
        pool = ref.AGENCIES
    elif level == "city":
        pool = [t for t in ref.AGENCIES if t.local_name]
    else:
        pool = [t for t in ref.AGENCIES if t.local_name and t.county]
    if scale >= 1:
        return pool
    keep = max(4, round(len(pool) * scale))
    return [pool[i] for i in np.linspace(0, len(pool) - 1, keep).round().astype(int)]


def build_units(rng: np.random.Generator, scale: float, year: int) -> list[Unit]:
    units: list[Unit] = []
    for region in regions_for(scale):
        templates = _templates_for(region.level, scale)
        numbers = rng.choice(10**8, size=len(templates), replace=False)
        head = None
        for template, number in zip(templates, numbers, strict=True):
            name = template.province_name if region.level == "province" else template.local_name
            unit = Unit(
                code=unit_code(region.code, template.unit_type, int(number)),
                name=region.name + name,
                region=region,
                template=template,
                seq=len(units),
            )
            if template.unit_type == "agency":
                unit.established_on = str(_rand_dates(rng, "2018-10-01", "2019-03-31", 1)[0])
            elif rng.random() < 0.7:
                unit.established_on = str(_rand_dates(rng, "1980-01-01", "2015-12-31", 1)[0])
            if head is None:
                head = unit
            elif template.unit_type != "agency":
                unit.parent = head.code
            units.append(unit)
    # A few institutions were abolished last year; one of them still shows establishment and
    # people in post (a cross-check finding the warehouse must report).
    institutions = [u for u in units if u.template.unit_type == "institution"]
    for unit in rng.permutation(np.array(institutions, dtype=object))[: max(1, len(units) // 150)]:
        unit.abolished_on = str(_rand_dates(rng, f"{year - 1}-03-01", f"{year - 1}-12-31", 1)[0])
    return units


def units_table(units: list[Unit]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit_code": [u.code for u in units],
            "unit_name": [u.name for u in units],
            "region_code": [u.region.code for u in units],
            "admin_level": [u.region.level for u in units],
            "unit_type": [u.template.unit_type for u in units],
            "parent_unit_code": [u.parent for u in units],
            "established_on": [u.established_on for u in units],
            "abolished_on": [u.abolished_on for u in units],
        }
    )


def _evaluated(unit: Unit) -> bool:
    return unit.template.unit_type != "institution" and not unit.abolished_on


# --------------------------------------------------------------------------- establishment


def _staffing_types(unit: Unit) -> list[str]:
    kind = unit.template.unit_type
    if kind == "institution":
        return ["institution"]
    main = "civil_service_institution" if kind == "civil_service_institution" else "administrative"
    types = [main, "logistics"]
    if unit.template.political_legal:
        types.insert(1, "political_legal")
    return types


_BASE_POSTS = {"province": (50, 160), "city": (28, 100), "county": (12, 50)}


def build_establishment(rng: np.random.Generator, units: list[Unit], year: int) -> tuple[pd.DataFrame, dict]:
    """Approvals per unit and staffing type; also returns, per (unit, type), the count in force
    at the end of `year` and on 1 January, and the leader posts (for persons and tasks)."""
    rows = []
    in_force: dict[tuple[str, str], dict] = {}
    doc_seq = 0
    for unit in units:
        lo, hi = _BASE_POSTS[unit.region.level]
        for i, stype in enumerate(_staffing_types(unit)):
            main = i == 0
            if stype == "logistics":
                count = int(rng.integers(2, 9))
            elif stype == "political_legal":
                count = int(rng.integers(lo // 2, hi // 2))
            else:
                count = int(rng.integers(lo, hi))
            start = unit.established_on or "2019-03-01"
            if start < "2019-01-01":
                start = str(_rand_dates(rng, "2019-01-01", "2019-03-31", 1)[0])
            doc_seq += 1
            chief = "1" if main else ""
            deputy = str(int(rng.integers(2, 6))) if main else ""
            history = [[count, start, "", "sanding", f"{unit.region.short}编〔2019〕{doc_seq % 180 + 1}号"]]
            if rng.random() < 0.3:
                changed = str(_rand_dates(rng, f"{year - 2}-01-01", f"{year - 1}-10-31", 1)[0])
                new = max(1, count + int(rng.choice([-3, -2, -1, 1, 2, 3, 4, 5])))
                if rng.random() < 0.8:  # closed; otherwise left open and superseded
                    history[-1][2] = str(_day(changed) - 1)
                history.append(
                    [
                        new,
                        changed,
                        "",
                        "adjustment",
                        f"{unit.region.short}编〔{changed[:4]}〕{doc_seq % 90 + 1}号",
                    ]
                )
            if main and _evaluated(unit) and rng.random() < 0.06:
                changed = str(_rand_dates(rng, f"{year}-02-01", f"{year}-11-30", 1)[0])
                new = max(1, history[-1][0] - int(rng.integers(1, 5)))
                history[-1][2] = str(_day(changed) - 1)
                history.append(
                    [
                        new,
                        changed,
                        "",
                        "voluntary_reduction",
                        f"{unit.region.short}编〔{year}〕{doc_seq % 60 + 1}号",
                    ]
                )
            jan1 = f"{year}-01-01"
            at_jan1 = [h[0] for h in history if h[1] <= jan1]
            in_force[(unit.code, stype)] = {
                "end": history[-1][0],
                "jan1": at_jan1[-1] if at_jan1 else 0,
                "deputy": int(deputy or 0),
                "main": main,
            }
            for count_, start_, end_, reason, doc in history:
                rows.append([unit.code, stype, str(count_), chief, deputy, doc, reason, start_, end_])
    frame = pd.DataFrame(
        rows,
        columns=[
            "unit_code",
            "staffing_type",
            "approved_count",
            "chief_leader_posts",
            "deputy_leader_posts",
            "doc_no",
            "change_reason",
            "effective_from",
            "effective_to",
        ],
    )
    return frame, in_force


# --------------------------------------------------------------------------- divisions, duties


def build_divisions(rng: np.random.Generator, units: list[Unit], posts: dict, year: int) -> pd.DataFrame:
    rows = []
    for unit in units:
        main = next(v for (code, _), v in posts.items() if code == unit.code and v["main"])
        n = int(np.clip(main["end"] // 8, 3, len(ref.DIVISION_NAMES)))
        names = list(ref.DIVISION_NAMES[:2]) + list(rng.permutation(ref.DIVISION_NAMES[2:])[: n - 2])
        start = unit.established_on if unit.established_on >= "2019-01-01" else "2019-03-01"
        for k, name in enumerate(names, start=1):
            code = f"{unit.region.code}{unit.seq:05d}{k:02d}"
            if k > 2 and rng.random() < 0.04:  # merged into a new division during the year before
                ended = str(_rand_dates(rng, f"{year - 1}-01-01", f"{year - 1}-12-31", 1)[0])
                rows.append([code, unit.code, name, start, ended])
                rows.append(
                    [
                        f"{code}N",
                        unit.code,
                        name.replace("处", "") + "服务处",
                        str(_day(ended) + 1),
                        "",
                    ]
                )
            else:
                rows.append([code, unit.code, name, start, ""])
    return pd.DataFrame(
        rows,
        columns=["division_code", "unit_code", "division_name", "effective_from", "effective_to"],
    )


def build_duties(rng: np.random.Generator, units: list[Unit], year: int) -> pd.DataFrame:
    rows = []
    core_texts: list[tuple[str, str]] = []
    for unit in units:
        n = int(rng.integers(8, len(ref.DUTY_PHRASES) + 1))
        phrases = rng.permutation(ref.DUTY_PHRASES)[:n]
        n_core = int(rng.integers(3, 6))
        start = unit.established_on if unit.established_on >= "2019-01-01" else "2019-03-01"
        region = {"province": "全省", "city": "全市", "county": "全县（区）"}[unit.region.level]
        for k, phrase in enumerate(phrases, start=1):
            text = f"{unit.region.name}：" + phrase.format(region=region, field=unit.template.domain)
            core = k <= n_core
            if core and k == 1 and rng.random() < 0.1:  # replaced by a revised duty in the year before
                changed = f"{year - 1}-07-01"
                rows.append([unit.code, f"Z{k:02d}", text, "true", start, f"{year - 1}-06-30"])
                rows.append([unit.code, f"Z{k:02d}A", text + "（修订）", "true", changed, ""])
                continue
            rows.append([unit.code, f"Z{k:02d}", text, "true" if core else "false", start, ""])
            if core:
                core_texts.append((unit.code, text))
    # 职责交叉: a few core duties claimed by a second unit, text differing only in spacing and
    # punctuation (the cross-check compares normalised text).
    # A unit is given at most one such duty: its key (unit_code, Z90) stays unique.
    shared = rng.choice(len(core_texts), size=max(1, len(units) // 250), replace=False)
    claimed: set[str] = set()
    for i in shared:
        owner, text = core_texts[int(i)]
        other = units[int(rng.integers(0, len(units)))]
        if other.code == owner or other.code in claimed:
            continue
        claimed.add(other.code)
        twisted = text.replace("，", ", ").replace("：", ": ") + " "
        rows.append([other.code, "Z90", twisted, "true", "2019-03-01", ""])
    return pd.DataFrame(
        rows,
        columns=[
            "unit_code",
            "duty_code",
            "duty_text",
            "is_core",
            "effective_from",
            "effective_to",
        ],
    )


# --------------------------------------------------------------------------- persons


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, len(ref.SURNAMES) + 1) ** 0.8
    surnames = rng.choice(np.array(ref.SURNAMES, dtype=object), size=n, p=weights / weights.sum())
    given = np.array(ref.GIVEN_CHARS, dtype=object)
    first = rng.choice(given, size=n)
    second = np.where(rng.random(n) < 0.7, rng.choice(given, size=n), "")
    rare = rng.random(n) < 0.002
    first[rare] = rng.choice(np.array(ref.RARE_GIVEN_CHARS, dtype=object), size=int(rare.sum()))
    return surnames + first + second


def _id_numbers(rng: np.random.Generator, regions: np.ndarray, births: np.ndarray, male: np.ndarray) -> np.ndarray:
    seq = rng.integers(0, 500, size=len(regions)) * 2 + male.astype(int)
    first17 = (
        regions
        + np.char.replace(_dates(births).astype(str), "-", "").astype(object)
        + np.char.mod("%03d", seq).astype(object)
    )
    return np.array([s + gb11643_check_digit(s) for s in first17], dtype=object)


def build_persons(
    rng: np.random.Generator, units: list[Unit], posts: dict, divisions: pd.DataFrame, year: int
) -> pd.DataFrame:
    keys = list(posts)
    code_to_unit = {u.code: u for u in units}
    approved = np.array([posts[k]["end"] for k in keys])
    factor = np.where(
        rng.random(len(keys)) < 0.06,
        rng.uniform(1.03, 1.15, len(keys)),
        rng.uniform(0.82, 1.0, len(keys)),
    )
    heads = np.maximum(0, np.round(approved * factor).astype(int))
    group = np.repeat(np.arange(len(keys)), heads)
    n = len(group)
    unit_codes = np.array([k[0] for k in keys], dtype=object)[group]
    stypes = np.array([k[1] for k in keys], dtype=object)[group]

    # Leaders on the main staffing type: one chief, then the deputies (sometimes one too many).
    rank = pd.Series(group).groupby(group).cumcount().to_numpy()
    is_main = np.array([posts[k]["main"] for k in keys])[group]
    deputy_posts = np.array([posts[k]["deputy"] for k in keys])
    deputy_posts = deputy_posts + (rng.random(len(keys)) < 0.05)
    kind = np.where(
        is_main & (rank == 0),
        "chief_leader",
        np.where(is_main & (rank >= 1) & (rank <= deputy_posts[group]), "deputy_leader", "staff"),
    ).astype(object)

    age = rng.integers(23, 60, size=n)
    births = (
        np.array([np.datetime64(f"{year}-01-01", "D")])
        - (age * 365.25).astype("timedelta64[D]")
        - rng.integers(0, 365, n).astype("timedelta64[D]")
    )
    earliest = np.maximum(births + np.timedelta64(22 * 365 + 200, "D"), np.datetime64("1985-01-01"))
    latest = np.datetime64(f"{year}-12-31")
    span = (latest - earliest).astype(int)
    entry = earliest + (rng.random(n) * span).astype("timedelta64[D]")
    male = rng.random(n) < 0.58
    regions = np.array([code_to_unit[c].region.code for c in unit_codes], dtype=object)
    exit_ = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    status = np.full(n, "active", dtype=object)
    leaving = (rng.random(n) < 0.03) & (entry < np.datetime64(f"{year}-01-01"))
    exit_[leaving] = _rand_dates(rng, f"{year}-01-01", f"{year}-12-31", int(leaving.sum()))
    status[leaving] = rng.choice(
        np.array(["retired", "transferred_out", "dismissed", "deceased"], dtype=object),
        size=int(leaving.sum()),
        p=[0.7, 0.2, 0.07, 0.03],
    )
    person_no = rng.permutation(n) + 1

    # Division of each stint: one of the unit's divisions open at the end of the year.
    open_div = divisions[divisions["effective_to"] == ""]
    div_lists = open_div.groupby("unit_code")["division_code"].agg(list)
    counts = div_lists.reindex(unit_codes).map(len).to_numpy()
    pick = (rng.random(n) * counts).astype(int)
    divs = np.array([div_lists[c][p] for c, p in zip(unit_codes, pick, strict=True)], dtype=object)
    divs[rng.random(n) < 0.08] = ""

    frame = pd.DataFrame(
        {
            "person_id": np.char.mod("P%010d", person_no).astype(object),
            "id_number": _id_numbers(rng, regions, births, male),
            "name": _names(rng, n),
            "gender": np.where(male, "M", "F").astype(object),
            "birth_date": _dates(births),
            "unit_code": unit_codes,
            "division_code": divs,
            "staffing_type": stypes,
            "position_kind": kind,
            "entry_date": _dates(entry),
            "exit_date": _dates(exit_),
            "status": status,
        }
    )

    # Transfers: an earlier stint in another unit that ends the day before this one starts;
    # a handful overlap the new stint by a few weeks (a register cross-check finding).
    moved = np.flatnonzero((rng.random(n) < 0.07) & (entry - earliest > np.timedelta64(800, "D")))
    prior = frame.iloc[moved].copy()
    prior_entry = earliest[moved] + (
        rng.random(len(moved)) * (entry[moved] - earliest[moved]).astype(int) * 0.7
    ).astype("timedelta64[D]")
    prior_exit = entry[moved] - np.timedelta64(1, "D")
    # A few transfers overlap the old stint with the new one by some weeks, in the evaluated year
    # (a register cross-check finding): the new stint starts in the year, the old one ends later.
    overlap = (rng.random(len(moved)) < 0.015) & np.isnat(exit_[moved])
    starts = _rand_dates(rng, f"{year}-02-01", f"{year}-10-31", len(moved))
    overlap &= earliest[moved] < starts - np.timedelta64(400, "D")
    rows = moved[overlap]
    entry[rows] = starts[overlap]
    frame.loc[rows, "entry_date"] = _dates(starts[overlap])
    prior_entry[overlap] = starts[overlap] - np.timedelta64(365, "D")
    prior_exit[overlap] = starts[overlap] + rng.integers(5, 40, int(overlap.sum())).astype("timedelta64[D]")
    other_units = np.array([u.code for u in units], dtype=object)
    prior["unit_code"] = other_units[rng.integers(0, len(other_units), len(moved))]
    prior["division_code"] = ""
    prior["position_kind"] = "staff"
    prior["staffing_type"] = np.array([_staffing_types(code_to_unit[c])[0] for c in prior["unit_code"]], dtype=object)
    prior["entry_date"] = _dates(prior_entry)
    prior["exit_date"] = _dates(prior_exit)
    prior["status"] = "transferred_out"

    # Retired people of earlier years: stints closed long ago.
    n_old = int(n * 0.12)
    old_group = rng.integers(0, n, n_old)
    old = frame.iloc[old_group].copy()
    old_births = births[old_group] - np.timedelta64(25 * 365, "D")
    old["person_id"] = np.char.mod("P%010d", n + 1 + np.arange(n_old)).astype(object)
    old_male = rng.random(n_old) < 0.6
    old["id_number"] = _id_numbers(rng, regions[old_group], old_births, old_male)
    old["name"] = _names(rng, n_old)
    old["gender"] = np.where(old_male, "M", "F").astype(object)
    old["birth_date"] = _dates(old_births)
    old["position_kind"] = "staff"
    old_exit = _rand_dates(rng, "2012-01-01", f"{year - 1}-12-31", n_old)
    old["entry_date"] = _dates(np.maximum(old_births + np.timedelta64(23 * 365, "D"), np.datetime64("1982-01-01")))
    old["exit_date"] = _dates(old_exit)
    old["status"] = rng.choice(
        np.array(["retired", "dismissed", "deceased"], dtype=object),
        size=n_old,
        p=[0.93, 0.04, 0.03],
    )
    return pd.concat([frame, prior, old], ignore_index=True)


# --------------------------------------------------------------------------- finance

# Budget lines per unit: (functional code suffix or full code, econ code, probability present,
# yearly yuan per approved post).
_LINES = [
    ("01", "30101", 1.0, 95_000),
    ("01", "30102", 1.0, 60_000),
    ("01", "30103", 1.0, 18_000),
    ("2080505", "30108", 1.0, 22_000),
    ("2210201", "30113", 1.0, 14_000),
    ("01", "30201", 1.0, 6_000),
    ("01", "30205", 0.8, 1_200),
    ("02", "30226", 0.7, 4_000),
    ("02", "30227", 0.6, 12_000),
    ("02", "30299", 0.9, 5_000),
    ("01", "30211", 0.8, 700),
    ("01", "30217", 0.9, 500),
    ("01", "30231", 0.7, 1_100),
    ("02", "31013", 0.1, 2_500),
    ("99", "31002", 0.5, 2_000),
]


def build_finance(rng: np.random.Generator, units: list[Unit], posts: dict, year: int) -> dict[str, pd.DataFrame]:
    total_posts = pd.Series({k: v["end"] for k, v in posts.items()}).groupby(level=0).sum()
    codes = np.array([u.code for u in units], dtype=object)
    classes = np.array([u.template.func_class for u in units], dtype=object)
    size = total_posts.reindex(codes).to_numpy(dtype=float)
    n_units, n_lines = len(units), len(_LINES)
    present = rng.random((n_units, n_lines)) < np.array([p for _, _, p, _ in _LINES])
    u_idx, l_idx = np.nonzero(present)
    suffix = np.array([s for s, _, _, _ in _LINES], dtype=object)[l_idx]
    func = np.where(np.char.str_len(suffix.astype(str)) == 7, suffix, classes[u_idx] + suffix)
    econ = np.array([e for _, e, _, _ in _LINES], dtype=object)[l_idx]
    per_post = np.array([v for _, _, _, v in _LINES], dtype=float)[l_idx]
    three_public = np.isin(econ, ref.THREE_PUBLIC_CODES)

    budget_frames, exec_frames = [], []
    trend = rng.normal(-0.04, 0.15, n_units)  # change of 三公 spending against last year
    pace = np.clip(rng.normal(0.96, 0.06, n_units), 0.7, 1.05)  # share of budget executed
    for fy in (year - 1, year):
        base = size[u_idx] * per_post * rng.uniform(0.85, 1.15, len(u_idx))
        if fy == year:
            base = np.where(three_public, base * (1 + trend[u_idx]), base)
        budget = np.round(base, -2)
        adjusted = np.where(
            rng.random(len(u_idx)) < 0.2,
            np.round(budget * rng.uniform(0.85, 1.25, len(u_idx)), 2),
            np.nan,
        )
        budget_frames.append(
            pd.DataFrame(
                {
                    "fiscal_year": str(fy),
                    "unit_code": codes[u_idx],
                    "func_code": func,
                    "econ_code": econ,
                    "budget_amount": _money(budget),
                    "adjusted_amount": np.where(np.isnan(adjusted), "", _money(np.nan_to_num(adjusted))),
                }
            )
        )
        effective = np.where(np.isnan(adjusted), budget, adjusted)
        rate = pace[u_idx] if fy == year else np.clip(pace[u_idx] + 0.02, 0, 1.0)
        months = np.tile(np.arange(1, 13), len(u_idx))
        line = np.repeat(np.arange(len(u_idx)), 12)
        seasonal = np.where(months == 12, 1.6, np.where(months <= 2, 0.6, 1.0)) / (1.6 + 2 * 0.6 + 9)
        amount = effective[line] * rate[line] * seasonal * rng.uniform(0.7, 1.3, len(line))
        amount = np.where(three_public[line], amount * rng.uniform(0.0, 2.0, len(line)), amount)
        refund = rng.random(len(line)) < 0.01
        amount[refund] = -rng.uniform(100, 5000, int(refund.sum()))
        keep = rng.random(len(line)) > 0.05
        exec_frames.append(
            pd.DataFrame(
                {
                    "fiscal_year": str(fy),
                    "month": months[keep].astype(str).astype(object),
                    "unit_code": codes[u_idx][line][keep],
                    "func_code": func[line][keep],
                    "econ_code": econ[line][keep],
                    "amount": _money(amount[keep]),
                }
            )
        )

    goals = []
    for fy in (year - 1, year):
        n_goals = rng.integers(3, 9, n_units)
        g_unit = np.repeat(np.arange(n_units), n_goals)
        g_no = pd.Series(g_unit).groupby(g_unit).cumcount().to_numpy() + 1
        met = rng.choice(np.array(["true", "false", ""], dtype=object), size=len(g_unit), p=[0.75, 0.15, 0.10])
        domains = np.array([u.template.domain for u in units], dtype=object)[g_unit]
        goals.append(
            pd.DataFrame(
                {
                    "fiscal_year": str(fy),
                    "unit_code": codes[g_unit],
                    "goal_id": np.char.mod("G%02d", g_no).astype(object),
                    "goal_text": domains + np.char.mod("项目绩效目标%d", g_no).astype(object),
                    "met": met,
                }
            )
        )
    return {
        "finance.budget": pd.concat(budget_frames, ignore_index=True),
        "finance.execution": pd.concat(exec_frames, ignore_index=True),
        "finance.perf_goals": pd.concat(goals, ignore_index=True),
    }


# --------------------------------------------------------------------------- performance

_RATIO = {"economic": 3, "social": 4, "support": 5}


def build_roster(rng: np.random.Generator, units: list[Unit], year: int) -> tuple[pd.DataFrame, list[Unit]]:
    evaluated = [u for u in units if _evaluated(u)]
    rows = []
    for u in evaluated:
        group = u.region.code
        rows.append([str(year), u.code, group, u.template.category])
    # A roster unit the register does not know (a data-quality warning downstream).
    if len(evaluated) >= 40:
        known = {u.code for u in units}
        ghost = unit_code(ref.JIANGSU[0], "agency", int(rng.integers(10**7, 10**8)))
        while ghost in known:  # a code of its own, never a register unit's
            ghost = unit_code(ref.JIANGSU[0], "agency", int(rng.integers(10**7, 10**8)))
        rows.append([str(year), ghost, ref.JIANGSU[0], "support"])
    return pd.DataFrame(rows, columns=["year", "unit_code", "group_code", "category"]), evaluated


def build_tasks(
    rng: np.random.Generator,
    evaluated: list[Unit],
    posts: dict,
    duties: pd.DataFrame,
    divisions: pd.DataFrame,
    year: int,
) -> pd.DataFrame:
    jan1 = f"{year}-01-01"
    in_force = duties[
        (duties["effective_from"] <= jan1) & ((duties["effective_to"] == "") | (duties["effective_to"] >= jan1))
    ]
    duty_lists = {
        code: (
            g[g["is_core"] == "true"]["duty_code"].tolist(),
            g[g["is_core"] == "false"]["duty_code"].tolist(),
        )
        for code, g in in_force.groupby("unit_code")
    }
    div_active = divisions[(divisions["effective_to"] == "") | (divisions["effective_to"] >= f"{year}-12-31")]
    div_closed = divisions[(divisions["effective_to"] != "") & (divisions["effective_to"] < f"{year}-12-31")]
    active_lists = div_active.groupby("unit_code")["division_code"].agg(list).to_dict()
    closed_lists = div_closed.groupby("unit_code")["division_code"].agg(list).to_dict()
    e_jan1 = pd.Series({k: v["jan1"] for k, v in posts.items()}).groupby(level=0).sum()
    heads_end = pd.Series({k: v["end"] for k, v in posts.items()}).groupby(level=0).sum()

    cols: dict[str, list] = {c: [] for c in ("unit_code", "indicator_code", "duty_code", "division_code", "workload")}
    for u in evaluated:
        n_required = max(1, math.ceil(e_jan1.get(u.code, 0) / _RATIO[u.template.category]))
        counts = {
            "key_work": max(1, round(n_required * rng.uniform(0.6, 1.3))),
            "reform": int(rng.choice([0, 1, 2, 3, 4, 5], p=[0.1, 0.2, 0.25, 0.2, 0.15, 0.1])),
            "market_service": int(rng.choice([0, 1, 2, 3, 4], p=[0.2, 0.25, 0.25, 0.2, 0.1])),
            "grassroots_service": int(rng.choice([0, 1, 2, 3, 4], p=[0.2, 0.25, 0.25, 0.2, 0.1])),
        }
        core, other = duty_lists.get(u.code, ([], []))
        core = list(core)
        if core and rng.random() < 0.08:  # 缺位: a core duty no task covers
            core.pop(int(rng.integers(0, len(core))))
        cycle = core + list(rng.permutation(other)) or [""]
        total = sum(counts.values())
        # Workload calibrated so most units are near 0.6–1.1 saturation, a few outside.
        saturation = rng.choice(
            [rng.uniform(0.3, 0.55), rng.uniform(0.65, 1.05), rng.uniform(1.15, 1.6)],
            p=[0.1, 0.8, 0.1],
        )
        per_task = 12 * heads_end.get(u.code, 0) * 0.9 * saturation / max(total, 1)
        k = 0
        for indicator, count in counts.items():
            for _ in range(count):
                cols["unit_code"].append(u.code)
                cols["indicator_code"].append(indicator)
                cols["duty_code"].append(cycle[k % len(cycle)])
                actives = active_lists.get(u.code, [""])
                cols["division_code"].append(actives[int(rng.integers(0, len(actives)))])
                cols["workload"].append(per_task * rng.uniform(0.5, 1.5))
                k += 1
        if u.code in closed_lists and cols["division_code"]:
            cols["division_code"][-1] = closed_lists[u.code][0]  # a task left with a merged division
    n = len(cols["unit_code"])
    indicator = np.array(cols["indicator_code"], dtype=object)
    duty = np.array(cols["duty_code"], dtype=object)
    roll = rng.random(n)
    duty[roll < 0.02] = ""  # 越位: no duty cited
    duty[(roll >= 0.02) & (roll < 0.03)] = "Z99"  # 越位: a duty the unit does not have
    division = np.array(cols["division_code"], dtype=object)
    division[rng.random(n) < 0.02] = ""

    quantified = rng.random(n) < 0.8
    target = np.where(
        quantified,
        np.where(rng.random(n) < 0.7, rng.integers(1, 200, n), np.round(rng.uniform(0.5, 500, n), 1)),
        np.nan,
    )
    measure = np.where(quantified, rng.choice(np.array(ref.MEASURE_UNITS, dtype=object), n), "").astype(object)
    difficulty = np.where(rng.random(n) < 0.85, rng.choice([0.8, 0.9, 1.0, 1.0, 1.1, 1.2, 1.3], n), np.nan)
    workload = np.round(np.array(cols["workload"]), 1)
    workload[rng.random(n) < 0.05] = np.nan

    q1 = rng.choice([10, 15, 20, 25, 30], n)
    q2 = q1 + rng.choice([20, 25, 30], n)
    q3 = q2 + rng.choice([15, 20, 25], n)
    milestones = np.column_stack([q1, q2, q3, np.full(n, 100)]).astype(float)
    missing = rng.random(n) < 0.05
    milestones[missing, rng.integers(0, 4, int(missing.sum()))] = np.nan

    domains = {u.code: u.template.domain for u in evaluated}
    titles = [
        f"{rng.choice(ref.TASK_VERBS)}{domains[c]}领域{rng.choice(ref.TASK_OBJECTS[i])}"
        for c, i in zip(cols["unit_code"], indicator, strict=True)
    ]
    origin = rng.choice(
        np.array(["superior_deployment", "unit_function", "new_long_term"], dtype=object),
        n,
        p=[0.55, 0.35, 0.10],
    )
    approved = rng.choice(np.array(["true", "", "false"], dtype=object), n, p=[0.95, 0.03, 0.02])
    frame = pd.DataFrame(
        {
            "task_id": np.char.mod(f"T{year}%06d", np.arange(1, n + 1)).astype(object),
            "year": str(year),
            "unit_code": np.array(cols["unit_code"], dtype=object),
            "indicator_code": indicator,
            "title": np.array(titles, dtype=object) + np.char.mod("（%d）", np.arange(1, n + 1)).astype(object),
            "duty_code": duty,
            "division_code": division,
            "target_value": _num(target, 1),
            "measure_unit": measure,
            "difficulty": _num(difficulty, 1),
            "workload_person_months": _num(workload, 1),
            "milestone_q1": _num(milestones[:, 0], 0),
            "milestone_q2": _num(milestones[:, 1], 0),
            "milestone_q3": _num(milestones[:, 2], 0),
            "milestone_q4": _num(milestones[:, 3], 0),
            "origin": origin,
            "approved": approved,
        }
    )
    return frame


def build_progress(rng: np.random.Generator, tasks: pd.DataFrame, year: int) -> pd.DataFrame:
    n = len(tasks)
    final = np.where(rng.random(n) < 0.82, 1.0, rng.uniform(0.55, 0.99, n))
    pace = np.where(rng.random(n) < 0.85, rng.uniform(0.95, 1.1, n), rng.uniform(0.5, 0.9, n))
    plan = np.column_stack(
        [pd.to_numeric(tasks[f"milestone_q{q}"], errors="coerce").fillna(25 * q).to_numpy() for q in range(1, 5)]
    )
    target = pd.to_numeric(tasks["target_value"], errors="coerce").to_numpy()
    task_idx = np.repeat(np.arange(n), 4)
    quarter = np.tile(np.arange(1, 5), n)
    pct = np.minimum(
        100.0,
        plan[task_idx, quarter - 1] * final[task_idx] * np.where(quarter == 4, 1.0, pace[task_idx]),
    )
    pct = np.maximum.accumulate(pct.reshape(n, 4), axis=1).ravel()
    pct = np.round(pct, 1)
    quarter_end = np.array(
        [np.datetime64(d) for d in (f"{year}-03-31", f"{year}-06-30", f"{year}-09-30", f"{year}-12-31")]
    )
    late = rng.random(len(task_idx)) < 0.03
    lag = np.where(late, rng.integers(16, 41, len(task_idx)), rng.integers(1, 13, len(task_idx)))
    reported = quarter_end[quarter - 1] + lag.astype("timedelta64[D]")
    status = np.where(
        quarter == 4,
        rng.choice(np.array(["verified", "pending"], dtype=object), len(task_idx), p=[0.75, 0.25]),
        rng.choice(np.array(["verified", "pending"], dtype=object), len(task_idx), p=[0.97, 0.03]),
    ).astype(object)
    status[rng.random(len(task_idx)) < 0.004] = "false_report"
    keep = rng.random(len(task_idx)) > 0.015
    quantified = ~np.isnan(target[task_idx])
    value = np.where(quantified, np.round(target[task_idx] * pct / 100, 2), np.nan)
    show_pct = ~quantified | (rng.random(len(task_idx)) < 0.4)
    frame = pd.DataFrame(
        {
            "task_id": tasks["task_id"].to_numpy()[task_idx],
            "quarter": quarter.astype(str).astype(object),
            "reported_on": _dates(reported),
            "actual_value": _num(value, 2),
            "actual_pct": np.where(show_pct, _num(pct, 1), ""),
            "verified_status": status,
        }
    )[keep]
    # Corrections: a later report for the same quarter supersedes the earlier value.
    fix = frame.sample(frac=0.04, random_state=int(rng.integers(0, 2**31))).copy()
    fix["reported_on"] = _dates(
        pd.to_datetime(fix["reported_on"]).to_numpy().astype("datetime64[D]")
        + rng.integers(3, 11, len(fix)).astype("timedelta64[D]")
    )
    fix["verified_status"] = "verified"
    return pd.concat([frame, fix], ignore_index=True).sort_values(
        ["task_id", "quarter", "reported_on"], kind="stable", ignore_index=True
    )


def build_reviews(rng: np.random.Generator, evaluated: list[Unit], year: int) -> pd.DataFrame:
    frames = []
    reviewed = [u.code for u in evaluated if rng.random() > 0.01]  # a few units were not reviewed
    codes = np.array(reviewed, dtype=object)
    quality = rng.normal(0, 4, len(codes))
    for group, prefix, lo, hi in (
        ("leaders", "L", 3, 6),
        ("peers", "P", 6, 13),
        ("service_objects", "S", 8, 16),
    ):
        counts = rng.integers(lo, hi, len(codes))
        idx = np.repeat(np.arange(len(codes)), counts)
        no = pd.Series(idx).groupby(idx).cumcount().to_numpy() + 1
        score = np.clip(rng.normal(87, 6, len(idx)) + quality[idx], 50, 100)
        score[rng.random(len(idx)) < 0.03] = np.nan
        frames.append(
            pd.DataFrame(
                {
                    "year": str(year),
                    "unit_code": codes[idx],
                    "reviewer_group": group,
                    "reviewer_id": np.char.mod(f"{prefix}%03d", no).astype(object),
                    "score": _num(score, 1),
                }
            )
        )
    return pd.concat(frames, ignore_index=True).sort_values(
        ["unit_code", "reviewer_group", "reviewer_id"], kind="stable", ignore_index=True
    )


def build_awards(rng: np.random.Generator, evaluated: list[Unit], year: int) -> pd.DataFrame:
    rows = []
    for u in evaluated:
        if rng.random() < 0.12:
            level = str(rng.choice(["national", "provincial", "municipal"], p=[0.1, 0.4, 0.5]))
            rows.append(
                [
                    u.code,
                    level,
                    str(rng.choice(ref.AWARD_TITLES[level])),
                    str(_rand_dates(rng, f"{year}-03-01", f"{year}-12-20", 1)[0]),
                ]
            )
    return pd.DataFrame(
        [[f"A{year}{i:05d}", str(year), c, lvl, title, on] for i, (c, lvl, title, on) in enumerate(rows, start=1)],
        columns=["award_id", "year", "unit_code", "level", "title", "awarded_on"],
    )


def build_incidents(rng: np.random.Generator, evaluated: list[Unit], year: int) -> pd.DataFrame:
    rows = []
    for u in evaluated:
        if rng.random() < 0.06:
            kind = str(rng.choice(["criticism", "accountability"], p=[0.7, 0.3]))
            points = rng.choice([0.5, 1.0]) if kind == "criticism" else rng.choice([1.0, 2.0, 3.0])
            rows.append([u.code, kind, f"{points:g}", "经查，该单位相关工作人员存在履职不到位问题"])
    if len(evaluated) >= 40:  # a rare 一票否决
        u = evaluated[int(rng.integers(0, len(evaluated)))]
        rows.append([u.code, "veto", "", "发生重大安全生产责任事故"])
    return pd.DataFrame(
        [[f"I{year}{i:04d}", str(year), c, k, p, note] for i, (c, k, p, note) in enumerate(rows, start=1)],
        columns=["incident_id", "year", "unit_code", "kind", "points", "note"],
    )


# --------------------------------------------------------------------------- the delivery


def generate(scale: float = 1.0, seed: int = DEFAULT_SEED, year: int = DEFAULT_YEAR) -> dict[str, pd.DataFrame]:
    """All 14 tables, keyed `<system>.<table>`, as text frames."""
    if scale <= 0:
        raise ValueError("scale must be positive")

    def stream(name: str) -> np.random.Generator:
        return np.random.default_rng([seed, *name.encode()])

    units = build_units(stream("units"), scale, year)
    establishment, posts = build_establishment(stream("establishment"), units, year)
    divisions = build_divisions(stream("divisions"), units, posts, year)
    duties = build_duties(stream("duties"), units, year)
    roster, evaluated = build_roster(stream("roster"), units, year)
    tasks = build_tasks(stream("tasks"), evaluated, posts, duties, divisions, year)
    tables = {
        "staffing.units": units_table(units),
        "staffing.establishment": establishment,
        "staffing.divisions": divisions,
        "staffing.persons": build_persons(stream("persons"), units, posts, divisions, year),
        **build_finance(stream("finance"), units, posts, year),
        "performance.roster": roster,
        "performance.duties": duties,
        "performance.tasks": tasks,
        "performance.progress": build_progress(stream("progress"), tasks, year),
        "performance.reviews": build_reviews(stream("reviews"), evaluated, year),
        "performance.awards": build_awards(stream("awards"), evaluated, year),
        "performance.incidents": build_incidents(stream("incidents"), evaluated, year),
    }
    return {name: frame.astype(object).fillna("").reset_index(drop=True) for name, frame in tables.items()}


__all__ = ["DEFAULT_SEED", "DEFAULT_YEAR", "generate", "regions_for", "unit_code"]
