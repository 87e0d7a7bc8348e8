"""What the run summary and the quality report say first (docs/methodology.md §9, "Complete data,
or a provisional ranking"): per evaluated year, whether its ranking is interim, provisional or
final, which units' data are incomplete or which units are not ranked, and why (table, delivery,
line, reason), in Chinese and English; and the rejected rows whose unit cannot be found.

Read from the marts of a DuckDB file (the published snapshot after publishing, else the working
warehouse) and from the working warehouse's rejected rows (int_rejected_rows, not published)."""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

SHOWN = 20  # issues listed per year in the summary; the quality report and unit_data_issues list all

STAGE_ZH = {
    "target_setting": "目标任务确定",
    "q1_monitoring": "一季度监测",
    "half_year": "半年评估",
    "q3_monitoring": "三季度监测",
    "q4_monitoring": "四季度监测",
    "year_end": "年终考核",
}
STATUS_ZH = {"interim": "阶段性排名", "provisional": "暂定排名", "final": "正式排名"}


@dataclass
class Issue:
    unit_code: str
    unit_name: str
    issue: str  # rejected_row | not_ranked
    source_table: str
    delivery: str
    line: int
    reason: str
    detail: str


@dataclass
class YearRanking:
    year: int
    stage: str
    status: str  # interim | provisional | final
    units: int
    incomplete_units: int
    not_ranked_units: int
    carried_forward: int
    accepted: bool
    issues: list[Issue] = field(default_factory=list)


@dataclass
class RankingNotice:
    years: list[YearRanking] = field(default_factory=list)
    unattributed: list[tuple[str, str, int, str]] = field(default_factory=list)  # table, delivery, line, reason
    outside_roster: int = 0  # rejected rows of units not evaluated in any year they touch (roster rows: not_ranked)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> RankingNotice:
        years = [YearRanking(**{**y, "issues": [Issue(**i) for i in y["issues"]]}) for y in data.get("years", [])]
        return cls(
            years=years,
            unattributed=[tuple(u) for u in data.get("unattributed", [])],
            outside_roster=int(data.get("outside_roster", 0)),
        )

    @property
    def provisional_years(self) -> list[YearRanking]:
        return [y for y in self.years if y.status == "provisional"]


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
        ).fetchone()[0]
    )


def read_notice(marts_db: Path, warehouse: Path | None = None) -> RankingNotice:
    """The notice of the rankings in `marts_db` (schema marts), with the unattributed rows of
    `warehouse` (default: the same file). Empty when the marts cannot be read."""
    notice = RankingNotice()
    try:
        con = duckdb.connect(str(marts_db), read_only=True)
    except (duckdb.Error, OSError):
        return notice
    try:
        if not (_has(con, "marts", "unit_scores") and _has(con, "marts", "unit_data_issues")):
            return notice
        columns = {r[0] for r in con.execute("describe marts.unit_scores").fetchall()}
        if "ranking_status" not in columns:
            return notice
        accepted = set()
        if _has(con, "marts", "ranking_acceptances"):
            accepted = {r[0] for r in con.execute("select distinct year from marts.ranking_acceptances").fetchall()}
        years = con.execute(
            """
            select scores.year, any_value(scores.stage), any_value(scores.ranking_status), count(*),
                count(*) filter (where not scores.data_complete),
                (select count(distinct unit_code) from marts.unit_data_issues as i
                    where i.year = scores.year and i.issue = 'not_ranked'),
                (select count(*) from marts.unit_data_issues as i
                    where i.year = scores.year and i.issue = 'carried_forward')
            from marts.unit_scores as scores group by scores.year order by scores.year
            """
        ).fetchall()
        issues = con.execute(
            """
            select issues.year, issues.unit_code, coalesce(scores.unit_name, ''), issues.issue, issues.source_table,
                issues.delivery, issues.line, issues.reason, coalesce(issues.detail, '')
            from marts.unit_data_issues as issues
            left join marts.unit_scores as scores on issues.year = scores.year and issues.unit_code = scores.unit_code
            where issues.issue in ('rejected_row', 'not_ranked')
            order by issues.year, issues.issue desc, issues.unit_code, issues.source_table, issues.line
            """
        ).fetchall()
        by_year: dict[int, list[Issue]] = {}
        for year, *rest in issues:
            by_year.setdefault(year, []).append(Issue(*rest))
        # a year provisional as published but accepted in an earlier publication is final there
        for year, stage, status, units, incomplete, not_ranked, carried in years:
            notice.years.append(
                YearRanking(
                    year=year, stage=stage, status=status, units=units, incomplete_units=incomplete,
                    not_ranked_units=not_ranked, carried_forward=carried,
                    accepted=year in accepted and status == "final" and bool(incomplete or not_ranked),
                    issues=by_year.get(year, []),
                )
            )  # fmt: skip
    finally:
        con.close()
    _read_unattributed(notice, warehouse or marts_db)
    return notice


def _read_unattributed(notice: RankingNotice, warehouse: Path) -> None:
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except (duckdb.Error, OSError):
        return
    try:
        if not _has(con, "intermediate", "int_rejected_rows"):
            return
        notice.unattributed = [
            (t, d, int(line), r)
            for t, d, line, r in con.execute(
                "select table_name, delivery, line, reason from intermediate.int_rejected_rows "
                "where unit_code is null order by table_name, line"
            ).fetchall()
        ]
        notice.outside_roster = con.execute(
            """
            select count(*) from intermediate.int_rejected_rows as rejected
            where rejected.unit_code is not null and rejected.table_name != 'performance.roster' and not exists (
                select 1 from intermediate.int_roster_units as roster
                where roster.unit_code = rejected.unit_code and (
                    rejected.touched_year is null or roster.year = rejected.touched_year
                    or (rejected.touches_next_year and roster.year = rejected.touched_year + 1))
            )
            """
        ).fetchone()[0]
    except duckdb.Error:
        return
    finally:
        con.close()


def _issue_text(i: Issue) -> str:
    name = f" {i.unit_name}" if i.unit_name else ""
    what = "未排名 not ranked: " if i.issue == "not_ranked" else ""
    return f"{i.unit_code}{name}: {what}{i.source_table} line {i.line}, delivery {i.delivery}: {i.reason} — {i.detail}"


def _headline(y: YearRanking) -> str:
    stage = f"{STAGE_ZH.get(y.stage, y.stage)} {y.stage}"
    counts_zh = f"{y.incomplete_units} 个单位数据不完整，{y.not_ranked_units} 个单位未排名"
    counts_en = f"{y.incomplete_units} unit(s) with incomplete data, {y.not_ranked_units} roster unit(s) not ranked"
    if y.status == "provisional":
        return (
            f"{y.year} 年度排名为暂定排名（{stage}）：{counts_zh}；不锁定，下次运行将替换，"
            f"数据完整或经 --accept-incomplete {y.year} 确认后成为正式排名。 "
            f"The {y.year} ranking is PROVISIONAL: {counts_en}; it is not locked and the "
            f"next run replaces it; it becomes final with complete data, or with --accept-incomplete {y.year} "
            "--reason TEXT."
        )
    if y.status == "interim":
        flags = f"；{counts_zh}" if y.incomplete_units or y.not_ranked_units else ""
        flags_en = f"; {counts_en}" if y.incomplete_units or y.not_ranked_units else ""
        return (
            f"{y.year} 年度为阶段性排名（{stage}），等次在年终评定{flags}。 The {y.year} ranking is INTERIM "
            f"({y.stage}): no grades before year end{flags_en}."
        )
    if y.accepted:
        return (
            f"{y.year} 年度排名为正式排名，经确认接受不完整数据：{counts_zh}。 The {y.year} ranking is FINAL, accepted "
            f"although incomplete: {counts_en} (see ranking_acceptances)."
        )
    return f"{y.year} 年度排名为正式排名，数据完整。 The {y.year} ranking is FINAL: every roster unit's data complete."


def notice_lines(notice: RankingNotice, shown: int = SHOWN) -> list[str]:
    """The notice as lines of text: a headline per year, then the units and why (at most `shown`
    per year), then the unattributed rows."""
    lines = []
    for y in notice.years:
        lines.append(_headline(y))
        for i in y.issues[:shown]:
            lines.append("  " + _issue_text(i))
        if len(y.issues) > shown:
            lines.append(
                f"  … 另有 {len(y.issues) - shown} 条 and {len(y.issues) - shown} more (marts.unit_data_issues)"
            )
        if y.carried_forward:
            lines.append(
                f"  {y.carried_forward} 行沿用上期已接收版本 row(s) rejected in the newest delivery kept their last "
                "accepted version (carried_forward in unit_data_issues)"
            )
    if notice.unattributed:
        lines.append(
            f"无法归属单位的被拒行 {len(notice.unattributed)} 行（见质量报告）。 {len(notice.unattributed)} rejected "
            "row(s) could not be attributed to a unit (listed in the quality report)."
        )
    if notice.outside_roster:
        lines.append(
            f"{notice.outside_roster} 行被拒行属于非考核单位。 {notice.outside_roster} rejected row(s) belong to units "
            "not evaluated in the years they touch."
        )
    return lines


def notice_html(notice: RankingNotice) -> str:
    """The notice as the top section of the quality report: every issue, and every unattributed row."""
    if not notice.years and not notice.unattributed:
        return ""
    parts = ['<section class="ranking">']
    for y in notice.years:
        colour = {"provisional": "#b54708", "interim": "#175cd3"}.get(y.status, "#067647")
        parts.append(f'<p style="color:{colour}"><b>{html.escape(_headline(y))}</b></p>')
        if y.issues:
            parts.append("<table><tr><th>单位 unit</th><th>问题 issue</th><th>表 table</th><th>交付 delivery</th>"
                         "<th>行 line</th><th>原因 reason</th><th>说明 detail</th></tr>")  # fmt: skip
            for i in y.issues:
                cells = [f"{i.unit_code} {i.unit_name}".strip(), i.issue, i.source_table, i.delivery, str(i.line),
                         i.reason, i.detail]  # fmt: skip
                parts.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
            parts.append("</table>")
    if notice.unattributed:
        parts.append(
            f"<p><b>无法归属单位的被拒行 unattributed rejected rows: {len(notice.unattributed)}</b></p>"
            "<table><tr><th>表 table</th><th>交付 delivery</th><th>行 line</th><th>原因 reason</th></tr>"
        )
        for table, delivery, line, reason in notice.unattributed:
            cells = [table, delivery, str(line), reason]
            parts.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        parts.append("</table>")
    if notice.outside_roster:
        parts.append(f"<p>{notice.outside_roster} rejected row(s) of units not evaluated 非考核单位的被拒行</p>")
    parts.append("</section>")
    return "\n".join(parts)
