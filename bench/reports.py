#!/usr/bin/env python3
"""Report benchmark: the product's HTTP API against DuckDB and plain SQLite SQL.

For seven report figures it measures, on the same data in one run:

  * the latency of the report through the HTTP API (warm: a few warm-up
    requests, then N sequential requests on one keep-alive connection),
  * the median time of an equivalent query in DuckDB, on a copy of the needed
    tables loaded from the SQLite file (cached next to it as <db>.duckdb),
  * the median time of the equivalent plain SQL run directly on the
    product's SQLite file (opened read-only).

With --load it instead measures logging an activity (POST /api/v1/activities)
under an open-loop load at a fixed rate.

Standard library only, plus the `duckdb` package for the DuckDB column.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import datetime as dt
import http.client
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from zoneinfo import ZoneInfo

# The demo organisation's admin (crates/salesops/src/demo.rs, demo_large.rs).
DEMO_EMAIL = "admin@nordwind.example"
DEMO_PASSWORD = "salesops-demo"

UTC = dt.timezone.utc
CACHE_VERSION = "2"


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float | None:
    """The p-th percentile (0..100) with linear interpolation between ranks."""
    if not values:
        return None
    v = sorted(values)
    if len(v) == 1:
        return v[0]
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 2)


def fmt_ms(v: float | None) -> str:
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def md_cell(text: str) -> str:
    """Text that keeps a Markdown table row intact."""
    return " ".join(str(text).split()).replace("|", "\\|")


def fmt_num(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if v == int(v):
            return f"{int(v):,}"
        return f"{v:,.1f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def add_months(d: dt.date, n: int) -> dt.date:
    m = d.month - 1 + n
    return dt.date(d.year + m // 12, m % 12 + 1, 1)


def quarter_before(d: dt.date) -> tuple[dt.date, dt.date]:
    """The last complete calendar quarter before the one holding d."""
    start = dt.date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    return add_months(start, -3), start


def half_before(d: dt.date) -> tuple[dt.date, dt.date]:
    start = dt.date(d.year, 1 if d.month <= 6 else 7, 1)
    return add_months(start, -6), start


def year_before(d: dt.date) -> tuple[dt.date, dt.date]:
    return dt.date(d.year - 1, 1, 1), dt.date(d.year, 1, 1)


def weeks_before(d: dt.date, weeks: int) -> tuple[dt.date, dt.date]:
    """`weeks` whole weeks (Monday to Monday) ending at the Monday of d's week."""
    monday = d - dt.timedelta(days=d.weekday())
    return monday - dt.timedelta(weeks=weeks), monday


def local_midnight(d: dt.date, tz: ZoneInfo) -> dt.datetime:
    """Local midnight of d in tz, as an aware UTC datetime."""
    return dt.datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(UTC)


def sqlite_ts(t: dt.datetime) -> str:
    """An instant as the product binds it in SQLite (chrono's RFC 3339 with
    `SecondsFormat::AutoSi` and `+00:00`), so text comparisons agree."""
    t = t.astimezone(UTC)
    s = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        frac = f"{t.microsecond:06d}"
        s += "." + (frac[:3] if frac.endswith("000") else frac)
    return s + "+00:00"


def open_sqlite_ro(path: str) -> sqlite3.Connection:
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


def check_value(v) -> float | None:
    if v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------
# Context read from the SQLite file: organisation, time zone, teams, periods
# --------------------------------------------------------------------------


class Context:
    def __init__(self, args: argparse.Namespace):
        self.db_path = args.db
        con = open_sqlite_ro(args.db)
        try:
            self._read(con, args)
        finally:
            con.close()

    def _read(self, con: sqlite3.Connection, args: argparse.Namespace) -> None:
        row = con.execute(
            "SELECT o.id, o.time_zone, o.name FROM users u JOIN orgs o ON o.id = u.org_id "
            "WHERE lower(u.email) = lower(?) ORDER BY o.is_default DESC LIMIT 1",
            (args.email,),
        ).fetchone()
        if row is None:
            row = con.execute(
                "SELECT id, time_zone, name FROM orgs ORDER BY is_default DESC, created_at LIMIT 1"
            ).fetchone()
        if row is None:
            raise SystemExit(f"{args.db}: no organisation in the database")
        self.org: bytes = row[0]
        self.org_uuid = uuid.UUID(bytes=self.org)
        self.tz_name: str = row[1]
        self.tz = ZoneInfo(self.tz_name)
        self.org_name: str = row[2]

        self.teams: dict[str, str] = {
            str(uuid.UUID(bytes=i)): n
            for i, n in con.execute("SELECT id, name FROM teams WHERE org_id = ?", (self.org,))
        }
        if args.team:
            self.team = str(uuid.UUID(args.team))
            if self.team not in self.teams:
                raise SystemExit(f"team {self.team} is not a team of {self.org_name}")
            self.team_size = con.execute(
                "SELECT count(*) FROM team_members WHERE org_id = ? AND team_id = ?",
                (self.org, uuid.UUID(self.team).bytes),
            ).fetchone()[0]
        else:
            # The team whose number of direct members is closest to 20.
            row = con.execute(
                "SELECT team_id, count(*) AS n FROM team_members WHERE org_id = ? "
                "GROUP BY team_id ORDER BY abs(count(*) - 20), team_id LIMIT 1",
                (self.org,),
            ).fetchone()
            if row is None:
                raise SystemExit("the organisation has no team with members")
            self.team = str(uuid.UUID(bytes=row[0]))
            self.team_size = row[1]
        self.team_name = self.teams[self.team]

        if args.today:
            self.today = dt.date.fromisoformat(args.today)
            self.today_source = "--today"
        else:
            # The newest done activity: per user through the index
            # (org_id, user_id, happened_at), not a scan of the table.
            newest = con.execute(
                "SELECT max((SELECT max(a.happened_at) FROM activities a "
                "            WHERE a.org_id = u.org_id AND a.user_id = u.id)) "
                "FROM users u WHERE u.org_id = ?",
                (self.org,),
            ).fetchone()[0]
            if newest is None:
                raise SystemExit("no done activity in the database; give --today")
            # Stored in UTC; seconds are enough to tell the day.
            t = dt.datetime.fromisoformat(newest[:19]).replace(tzinfo=UTC)
            self.today = t.astimezone(self.tz).date()
            self.today_source = f"newest activity {newest}"

        self.quarter = quarter_before(self.today)
        self.half = half_before(self.today)
        self.year = year_before(self.today)
        self.weeks = weeks_before(self.today, 156)

    def bounds(self, period: tuple[dt.date, dt.date]) -> dict:
        """The period's instants for the three engines."""
        t0 = local_midnight(period[0], self.tz)
        t1 = local_midnight(period[1], self.tz)
        return {
            "t0": t0,
            "t1": t1,
            "t0_text": sqlite_ts(t0),
            "t1_text": sqlite_ts(t1),
            "t0_naive": t0.replace(tzinfo=None),
            "t1_naive": t1.replace(tzinfo=None),
            "e0": int(t0.timestamp()),
        }


# --------------------------------------------------------------------------
# The SQL equivalents
# --------------------------------------------------------------------------

# SQLite: named parameters :org (16-byte blob), :team, :t0, :t1 (RFC 3339
# text as the product stores it), :e0 (epoch seconds of :t0).
# DuckDB: the tables hold one organisation; $team (UUID), $t0, $t1 (naive
# UTC TIMESTAMP), $e0.

SQLITE_TEAM_MEMBERS = """
tree(id) AS (
    SELECT id FROM teams WHERE org_id = :org AND id = :team
    UNION
    SELECT t.id FROM teams t JOIN tree ON t.parent_id = tree.id WHERE t.org_id = :org
),
members(user_id) AS (
    SELECT DISTINCT user_id FROM team_members
    WHERE org_id = :org AND team_id IN (SELECT id FROM tree)
)"""

DUCK_TEAM_MEMBERS = """
tree(id) AS (
    SELECT id FROM teams WHERE id = $team
    UNION
    SELECT t.id FROM teams t JOIN tree ON t.parent_id = tree.id
),
members(user_id) AS (
    SELECT DISTINCT user_id FROM team_members WHERE team_id IN (SELECT id FROM tree)
)"""


def sqlite_activity(team: bool) -> str:
    member = "AND {col} IN (SELECT user_id FROM members)" if team else ""
    head = f"WITH RECURSIVE {SQLITE_TEAM_MEMBERS}\n" if team else ""
    return f"""{head}
SELECT 'activities' AS part, user_id, type_id, outcome_id, count(*) AS n, NULL AS amount
FROM activities
WHERE org_id = :org AND done = 1 AND happened_at >= :t0 AND happened_at < :t1
  {member.format(col='user_id')}
GROUP BY user_id, type_id, outcome_id
UNION ALL
SELECT 'created', owner_id, NULL, NULL, count(*), NULL
FROM leads
WHERE org_id = :org AND created_at >= :t0 AND created_at < :t1
  {member.format(col='owner_id')}
GROUP BY owner_id
UNION ALL
SELECT 'won', owner_id, NULL, NULL, count(*), sum(amount_minor)
FROM leads
WHERE org_id = :org AND status = 'won' AND closed_at >= :t0 AND closed_at < :t1
  {member.format(col='owner_id')}
GROUP BY owner_id
"""


def duck_activity(team: bool) -> str:
    member = "AND {col} IN (SELECT user_id FROM members)" if team else ""
    head = f"WITH RECURSIVE {DUCK_TEAM_MEMBERS}\n" if team else ""
    return f"""{head}
SELECT 'activities' AS part, user_id, type_id, outcome_id, count(*) AS n, NULL::BIGINT AS amount
FROM activities
WHERE done AND happened_at >= $t0 AND happened_at < $t1
  {member.format(col='user_id')}
GROUP BY user_id, type_id, outcome_id
UNION ALL
SELECT 'created', owner_id, NULL, NULL, count(*), NULL
FROM leads
WHERE created_at >= $t0 AND created_at < $t1
  {member.format(col='owner_id')}
GROUP BY owner_id
UNION ALL
SELECT 'won', owner_id, NULL, NULL, count(*), sum(amount_minor)
FROM leads
WHERE status = 'won' AND closed_at >= $t0 AND closed_at < $t1
  {member.format(col='owner_id')}
GROUP BY owner_id
"""


# Pipeline: per stage of the default pipeline, the leads that entered it in
# the period (first entry; a status change within a stage is no entry), and
# of those how many later reached a later stage or were won (moved on), were
# lost, cancelled, or are still there. `later_max` is the highest stage
# position the lead reached after each history row.
SQLITE_PIPELINE = """
WITH st AS (
    SELECT s.id, s.position FROM stages s
    JOIN pipelines p ON p.org_id = s.org_id AND p.id = s.pipeline_id
    WHERE p.org_id = :org AND p.is_default
),
h AS (
    SELECT h.lead_id, h.at, st.position,
           (h.from_stage_id IS NULL OR h.from_stage_id <> h.to_stage_id) AS moved,
           max(st.position) OVER (PARTITION BY h.lead_id ORDER BY h.at, h.id
                                  ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS later_max
    FROM lead_stage_history h JOIN st ON st.id = h.to_stage_id
    WHERE h.org_id = :org
      AND h.lead_id IN (SELECT lead_id FROM lead_stage_history
                        WHERE org_id = :org AND to_stage_id IN (SELECT id FROM st)
                          AND at >= :t0 AND at < :t1)
),
e AS (
    SELECT lead_id, position, max(later_max) AS later_max
    FROM h WHERE moved AND at >= :t0 AND at < :t1
    GROUP BY lead_id, position
),
x AS (
    SELECT e.position,
           (l.status = 'won' OR (coalesce(e.later_max, -1) > e.position
                                 AND e.position < (SELECT max(position) FROM st))) AS on_,
           l.status
    FROM e JOIN leads l ON l.org_id = :org AND l.id = e.lead_id
)
SELECT position, count(*) AS entered,
       sum(on_) AS moved_on,
       sum(NOT on_ AND status = 'open') AS still,
       sum(NOT on_ AND status = 'lost') AS lost,
       sum(NOT on_ AND status = 'cancelled') AS cancelled
FROM x GROUP BY position ORDER BY position
"""

DUCK_PIPELINE = """
WITH st AS (
    SELECT s.id, s.position FROM stages s
    JOIN pipelines p ON p.id = s.pipeline_id
    WHERE p.is_default
),
h AS (
    SELECT h.lead_id, h.changed_at, st.position,
           (h.from_stage_id IS NULL OR h.from_stage_id <> h.to_stage_id) AS moved,
           max(st.position) OVER (PARTITION BY h.lead_id ORDER BY h.changed_at, h.id
                                  ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS later_max
    FROM lead_stage_history h JOIN st ON st.id = h.to_stage_id
    WHERE h.lead_id IN (SELECT lead_id FROM lead_stage_history
                        WHERE to_stage_id IN (SELECT id FROM st)
                          AND changed_at >= $t0 AND changed_at < $t1)
),
e AS (
    SELECT lead_id, position, max(later_max) AS later_max
    FROM h WHERE moved AND changed_at >= $t0 AND changed_at < $t1
    GROUP BY lead_id, position
),
x AS (
    SELECT e.position,
           (l.status = 'won' OR (coalesce(e.later_max, -1) > e.position
                                 AND e.position < (SELECT max(position) FROM st))) AS on_,
           l.status
    FROM e JOIN leads l ON l.id = e.lead_id
)
SELECT position, count(*) AS entered,
       count(*) FILTER (WHERE on_) AS moved_on,
       count(*) FILTER (WHERE NOT on_ AND status = 'open') AS still,
       count(*) FILTER (WHERE NOT on_ AND status = 'lost') AS lost,
       count(*) FILTER (WHERE NOT on_ AND status = 'cancelled') AS cancelled
FROM x GROUP BY position ORDER BY position
"""

SQLITE_TEAM_PERF = """
SELECT owner_id, sum(created) AS created, sum(won) AS won, sum(lost) AS lost,
       sum(cancelled) AS cancelled, sum(won_amount) AS won_amount, avg(won_days) AS cycle_days
FROM (
    SELECT owner_id, 1 AS created, 0 AS won, 0 AS lost, 0 AS cancelled,
           NULL AS won_amount, NULL AS won_days
    FROM leads WHERE org_id = :org AND created_at >= :t0 AND created_at < :t1
    UNION ALL
    SELECT owner_id, 0, status = 'won', status = 'lost', status = 'cancelled',
           CASE WHEN status = 'won' THEN amount_minor END,
           CASE WHEN status = 'won' THEN julianday(closed_at) - julianday(created_at) END
    FROM leads WHERE org_id = :org AND status <> 'open' AND closed_at >= :t0 AND closed_at < :t1
)
GROUP BY owner_id
"""

DUCK_TEAM_PERF = """
SELECT owner_id, sum(created) AS created, sum(won) AS won, sum(lost) AS lost,
       sum(cancelled) AS cancelled, sum(won_amount) AS won_amount, avg(won_days) AS cycle_days
FROM (
    SELECT owner_id, 1 AS created, 0 AS won, 0 AS lost, 0 AS cancelled,
           NULL::BIGINT AS won_amount, NULL::DOUBLE AS won_days
    FROM leads WHERE created_at >= $t0 AND created_at < $t1
    UNION ALL
    SELECT owner_id, 0, (status = 'won')::INT, (status = 'lost')::INT, (status = 'cancelled')::INT,
           CASE WHEN status = 'won' THEN amount_minor END,
           CASE WHEN status = 'won' THEN date_diff('microsecond', created_at, closed_at) / 86400e6 END
    FROM leads WHERE status <> 'open' AND closed_at >= $t0 AND closed_at < $t1
)
GROUP BY owner_id
"""

SQLITE_COMPANY = """
SELECT week, sum(created) AS created, sum(won) AS won, sum(lost) AS lost, sum(won_amount) AS won_amount
FROM (
    SELECT (CAST(strftime('%s', created_at) AS INTEGER) - :e0) / 604800 AS week, 1 AS created, 0 AS won, 0 AS lost,
           0 AS won_amount
    FROM leads WHERE org_id = :org AND created_at >= :t0 AND created_at < :t1
    UNION ALL
    SELECT (CAST(strftime('%s', closed_at) AS INTEGER) - :e0) / 604800, 0, status = 'won', status = 'lost',
           CASE WHEN status = 'won' THEN coalesce(amount_minor, 0) ELSE 0 END
    FROM leads WHERE org_id = :org AND status IN ('won', 'lost')
      AND closed_at >= :t0 AND closed_at < :t1
)
GROUP BY week ORDER BY week
"""

DUCK_COMPANY = """
SELECT week, sum(created) AS created, sum(won) AS won, sum(lost) AS lost, sum(won_amount) AS won_amount
FROM (
    SELECT CAST(floor((epoch(created_at) - $e0) / 604800) AS INTEGER) AS week,
           1 AS created, 0 AS won, 0 AS lost, 0::BIGINT AS won_amount
    FROM leads WHERE created_at >= $t0 AND created_at < $t1
    UNION ALL
    SELECT CAST(floor((epoch(closed_at) - $e0) / 604800) AS INTEGER), 0,
           (status = 'won')::INT, (status = 'lost')::INT,
           CASE WHEN status = 'won' THEN coalesce(amount_minor, 0) ELSE 0 END
    FROM leads WHERE status IN ('won', 'lost') AND closed_at >= $t0 AND closed_at < $t1
)
GROUP BY week ORDER BY week
"""

SQLITE_FORECAST = """
SELECT l.pipeline_id, coalesce(substr(l.expected_close_date, 1, 7), 'none') AS month,
       count(*) AS n, sum(l.amount_minor) AS amount,
       sum(l.amount_minor * coalesce(l.probability, s.win_probability, 0)) / 100.0 AS weighted
FROM leads l
LEFT JOIN stages s ON s.org_id = l.org_id AND s.id = l.stage_id
WHERE l.org_id = :org AND l.status = 'open' AND l.amount_minor IS NOT NULL
GROUP BY l.pipeline_id, month
ORDER BY l.pipeline_id, month
"""

DUCK_FORECAST = """
SELECT l.pipeline_id, coalesce(strftime(l.expected_close_date, '%Y-%m'), 'none') AS month,
       count(*) AS n, sum(l.amount_minor) AS amount,
       sum(l.amount_minor * coalesce(l.probability, s.win_probability, 0)) / 100.0 AS weighted
FROM leads l
LEFT JOIN stages s ON s.id = l.stage_id
WHERE l.status = 'open' AND l.amount_minor IS NOT NULL
GROUP BY l.pipeline_id, month
ORDER BY l.pipeline_id, month
"""

# Median sales cycle per team: every team with the members of its subtree
# (as the product's team scope counts them), leads won in the period owned
# by them, the median of closed_at - created_at in days. SQLite has no
# median: the middle one or two by row_number per team.
SQLITE_TEAM_CYCLE = """
WITH RECURSIVE tree(root, id) AS (
    SELECT id, id FROM teams WHERE org_id = :org
    UNION
    SELECT tree.root, t.id FROM teams t JOIN tree ON t.parent_id = tree.id WHERE t.org_id = :org
),
m AS (
    SELECT DISTINCT tree.root AS team_id, tm.user_id
    FROM tree JOIN team_members tm ON tm.org_id = :org AND tm.team_id = tree.id
),
w AS (
    SELECT m.team_id, julianday(l.closed_at) - julianday(l.created_at) AS days
    FROM m JOIN leads l ON l.org_id = :org AND l.owner_id = m.user_id
    WHERE l.status = 'won' AND l.closed_at >= :t0 AND l.closed_at < :t1
),
r AS (
    SELECT team_id, days,
           row_number() OVER (PARTITION BY team_id ORDER BY days) AS rn,
           count(*) OVER (PARTITION BY team_id) AS n
    FROM w
)
SELECT team_id, n AS won, avg(days) AS median_days
FROM r WHERE rn IN ((n + 1) / 2, (n + 2) / 2)
GROUP BY team_id, n
ORDER BY team_id
"""

DUCK_TEAM_CYCLE = """
WITH RECURSIVE tree(root, id) AS (
    SELECT id, id FROM teams
    UNION
    SELECT tree.root, t.id FROM teams t JOIN tree ON t.parent_id = tree.id
),
m AS (
    SELECT DISTINCT tree.root AS team_id, tm.user_id
    FROM tree JOIN team_members tm ON tm.team_id = tree.id
)
SELECT m.team_id, count(*) AS won,
       median(date_diff('microsecond', l.created_at, l.closed_at) / 86400e6) AS median_days
FROM m JOIN leads l ON l.owner_id = m.user_id
WHERE l.status = 'won' AND l.closed_at >= $t0 AND l.closed_at < $t1
GROUP BY m.team_id
ORDER BY m.team_id
"""


# --------------------------------------------------------------------------
# The figures
# --------------------------------------------------------------------------


def api_col(report: dict, key: str) -> int | None:
    for i, c in enumerate(report.get("columns", [])):
        if c.get("key") == key:
            return i
    return None


def api_total(report: dict, key: str):
    i = api_col(report, key)
    total = report.get("total")
    if i is None or not total:
        return None
    return check_value(total["cells"][i])


def api_sum_rows(report: dict, key: str):
    i = api_col(report, key)
    if i is None:
        return None
    return sum(check_value(r["cells"][i]) or 0 for r in report.get("rows", []))


class Figure:
    def __init__(self, num, name, period_name, period, path, sqlite_sql, duck_sql,
                 check_name, api_check, sql_check, api_rows, api_note=None):
        self.num = num
        self.name = name
        self.period_name = period_name
        self.period = period
        self.path = path
        self.sqlite_sql = sqlite_sql
        self.duck_sql = duck_sql
        self.check_name = check_name
        self.api_check = api_check
        self.sql_check = sql_check
        self.api_rows = api_rows
        self.api_note = api_note


def build_figures(ctx: Context) -> list[Figure]:
    def q(period, **extra) -> str:
        params = {"from": period[0].isoformat(), "to": period[1].isoformat(), **extra}
        return urllib.parse.urlencode(params)

    def sum_part(part, idx):
        return lambda rows: sum(r[idx] or 0 for r in rows if r[0] == part)

    def col_sum(idx):
        return lambda rows: sum(r[idx] or 0 for r in rows)

    def rows_of(report):
        return len(report.get("rows", []))

    team_ids = set(ctx.teams)

    def by_team_note(report):
        rows = report.get("rows", [])
        if any(r.get("key") in team_ids for r in rows):
            return None
        if rows and all(r.get("user_id") for r in rows):
            return "by=team ignored: the API answered per member"
        return None

    def teams_with_median(report):
        i = api_col(report, "cycle_days_median")
        rows = report.get("rows", [])
        if i is None:
            return len(rows)
        return sum(1 for r in rows if r["cells"][i] is not None)

    def forecast_rows(f):
        return sum(len(line.get("months", [])) for line in f.get("by_pipeline", []))

    def forecast_count(f):
        return check_value(f.get("total", {}).get("total", {}).get("count"))

    return [
        Figure(1, f"activity report, one team ({ctx.team_size} members)", "quarter", ctx.quarter,
               f"/api/v1/reports/activity?{q(ctx.quarter, team=ctx.team)}",
               sqlite_activity(True), duck_activity(True),
               "done activities",
               lambda r: api_total(r, "activities"), sum_part("activities", 4), rows_of),
        Figure(2, "activity report, whole org", "quarter", ctx.quarter,
               f"/api/v1/reports/activity?{q(ctx.quarter)}",
               sqlite_activity(False), duck_activity(False),
               "done activities",
               lambda r: api_total(r, "activities"), sum_part("activities", 4), rows_of),
        Figure(3, "pipeline performance (default pipeline)", "half-year", ctx.half,
               f"/api/v1/reports/pipeline?{q(ctx.half)}",
               SQLITE_PIPELINE, DUCK_PIPELINE,
               "stage entries",
               lambda r: api_sum_rows(r, "entered"), col_sum(1), rows_of),
        Figure(4, "team performance, whole org", "quarter", ctx.quarter,
               f"/api/v1/reports/team?{q(ctx.quarter)}",
               SQLITE_TEAM_PERF, DUCK_TEAM_PERF,
               "leads won",
               lambda r: api_total(r, "leads_won"), col_sum(2), rows_of),
        Figure(5, "company performance, weekly", "3 years", ctx.weeks,
               f"/api/v1/reports/company?{q(ctx.weeks, bucket='week')}",
               SQLITE_COMPANY, DUCK_COMPANY,
               "leads created",
               lambda r: api_total(r, "leads_created"), col_sum(1), rows_of),
        Figure(6, "weighted open pipeline by close month", "open now", None,
               "/api/v1/forecast",
               SQLITE_FORECAST, DUCK_FORECAST,
               "open leads",
               forecast_count, col_sum(2), forecast_rows),
        Figure(7, "median sales cycle per team", "year", ctx.year,
               f"/api/v1/reports/team?{q(ctx.year, by='team')}",
               SQLITE_TEAM_CYCLE, DUCK_TEAM_CYCLE,
               "teams with a median",
               teams_with_median, len, rows_of, api_note=by_team_note),
    ]


def sqlite_params(ctx: Context, fig: Figure) -> dict:
    p = {"org": ctx.org, "team": uuid.UUID(ctx.team).bytes}
    if fig.period:
        b = ctx.bounds(fig.period)
        p.update(t0=b["t0_text"], t1=b["t1_text"], e0=b["e0"])
    return {k: v for k, v in p.items() if ":" + k in fig.sqlite_sql}


def duck_params(ctx: Context, fig: Figure) -> dict:
    p = {"team": uuid.UUID(ctx.team)}
    if fig.period:
        b = ctx.bounds(fig.period)
        p.update(t0=b["t0_naive"], t1=b["t1_naive"], e0=b["e0"])
    return {k: v for k, v in p.items() if "$" + k in fig.duck_sql}


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------


class HttpError(Exception):
    pass


class Api:
    """One keep-alive connection to the product, signed in."""

    def __init__(self, base_url: str, timeout: float, auth: dict | None = None):
        u = urllib.parse.urlsplit(base_url)
        if u.scheme not in ("http", "https"):
            raise SystemExit(f"--url must be http://HOST:PORT, not {base_url}")
        self.scheme = u.scheme
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or (443 if u.scheme == "https" else 80)
        self.prefix = u.path.rstrip("/")
        self.timeout = timeout
        self.auth = dict(auth or {})
        self.conn: http.client.HTTPConnection | None = None

    def clone(self) -> "Api":
        return Api(f"{self.scheme}://{self.host}:{self.port}{self.prefix}", self.timeout, self.auth)

    def _connect(self) -> http.client.HTTPConnection:
        if self.conn is None:
            cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            self.conn = cls(self.host, self.port, timeout=self.timeout)
            self.conn.connect()
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, bytes, float, http.client.HTTPResponse]:
        """Sends one request; returns (status, body, seconds, response).
        The time runs from sending the request to the last byte of the body."""
        h = {"Accept": "application/json", **self.auth, **(headers or {})}
        if body is not None:
            h["Content-Type"] = "application/json"
        for attempt in (0, 1):
            conn = self._connect()
            try:
                t = time.perf_counter()
                conn.request(method, self.prefix + path, body=body, headers=h)
                resp = conn.getresponse()
                data = resp.read()
                elapsed = time.perf_counter() - t
                if resp.will_close:
                    self.close()
                return resp.status, data, elapsed, resp
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: once more.
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, payload=None) -> dict:
        body = None if payload is None else json.dumps(payload).encode()
        status, data, _, _ = self.request(method, path, body)
        if not 200 <= status < 300:
            raise HttpError(f"{method} {path}: HTTP {status}: {data[:300]!r}")
        return json.loads(data) if data else {}


def sign_in(args: argparse.Namespace) -> Api:
    api = Api(args.url, args.http_timeout)
    if args.token:
        api.auth = {"Authorization": f"Bearer {args.token}"}
        api.json("GET", "/api/v1/auth/me")
        return api
    body = json.dumps({"email": args.email, "password": args.password}).encode()
    status, data, _, resp = api.request("POST", "/api/v1/auth/login", body)
    if status != 200:
        raise SystemExit(f"sign-in as {args.email} failed: HTTP {status}: {data[:300]!r}")
    cookie = None
    for c in resp.msg.get_all("Set-Cookie") or []:
        name, _, rest = c.partition("=")
        if name.strip() == "salesops_session":
            cookie = f"salesops_session={rest.split(';', 1)[0]}"
    if cookie is None:
        raise SystemExit("sign-in answered without a session cookie")
    csrf = json.loads(data).get("csrf_token") or ""
    # The session cookie authenticates; state-changing requests also need
    # the CSRF token of the session.
    api.auth = {"Cookie": cookie, "X-CSRF-Token": csrf}
    return api


def bench_http(api: Api, fig: Figure, warmup: int, n: int) -> dict:
    out = {"path": fig.path, "n": 0, "errors": 0}
    last = None
    for _ in range(warmup):
        try:
            status, data, _, _ = api.request("GET", fig.path)
        except (OSError, http.client.HTTPException) as e:
            api.close()
            out["error"] = f"{type(e).__name__}: {e}"
            return out
        if not 200 <= status < 300:
            out["error"] = f"HTTP {status}"
            out["detail"] = data[:300].decode("utf-8", "replace")
            return out
        last = data
    times = []
    statuses: dict[int, int] = {}
    for _ in range(n):
        try:
            status, data, elapsed, _ = api.request("GET", fig.path)
        except (OSError, http.client.HTTPException) as e:
            api.close()
            out["errors"] += 1
            out.setdefault("error", f"{type(e).__name__}: {e}")
            continue
        statuses[status] = statuses.get(status, 0) + 1
        if 200 <= status < 300:
            times.append(elapsed)
            last = data
        else:
            out["errors"] += 1
            out.setdefault("error", f"HTTP {status}")
            out.setdefault("detail", data[:300].decode("utf-8", "replace"))
            if not times and out["errors"] >= 3:
                break
    out["n"] = len(times)
    out["statuses"] = {str(k): v for k, v in statuses.items()}
    out["p50_ms"] = ms(percentile(times, 50))
    out["p95_ms"] = ms(percentile(times, 95))
    out["max_ms"] = ms(max(times)) if times else None
    if last is not None:
        out["bytes"] = len(last)
        try:
            doc = json.loads(last)
            out["check"] = fig.api_check(doc)
            out["rows"] = fig.api_rows(doc)
            if fig.api_note:
                note = fig.api_note(doc)
                if note:
                    out["note"] = note
        except (ValueError, KeyError, TypeError, IndexError) as e:
            out["note"] = f"unexpected response: {e}"
    return out


# --------------------------------------------------------------------------
# DuckDB: load the needed tables from the SQLite file (cached)
# --------------------------------------------------------------------------

def H(col: str) -> str:
    """SQLite expression: a 16-byte id as 32 hex digits; NULL stays NULL
    (hex(NULL) is an empty string, which the shell would quote)."""
    return f"nullif(hex({col}), '')"


# table: (SQLite select list, DuckDB columns of the CSV, DuckDB select list).
# Ids leave SQLite as hex and become DuckDB UUIDs. Timestamps leave SQLite
# as their RFC 3339 text and are parsed by DuckDB, in parallel, as
# TIMESTAMPTZ (honouring the offset) and stored as TIMESTAMP in UTC: that is
# about a third faster than computing epoch microseconds in SQLite, which
# runs one thread per export.
LOAD_TABLES = {
    "activities": (
        f"{H('type_id')}, {H('outcome_id')}, {H('user_id')}, done, happened_at",
        {"type_id": "UUID", "outcome_id": "UUID", "user_id": "UUID", "done": "BOOLEAN",
         "happened_at": "VARCHAR"},
        "type_id, outcome_id, user_id, done, happened_at::TIMESTAMPTZ::TIMESTAMP AS happened_at",
    ),
    "leads": (
        f"{H('id')}, {H('pipeline_id')}, {H('stage_id')}, status, amount_minor, currency, probability, "
        f"expected_close_date, {H('owner_id')}, created_at, closed_at",
        {"id": "UUID", "pipeline_id": "UUID", "stage_id": "UUID", "status": "VARCHAR",
         "amount_minor": "BIGINT", "currency": "VARCHAR", "probability": "INTEGER",
         "expected_close_date": "DATE", "owner_id": "UUID", "created_at": "VARCHAR",
         "closed_at": "VARCHAR"},
        "id, pipeline_id, stage_id, status, amount_minor, currency, probability, "
        "expected_close_date, owner_id, created_at::TIMESTAMPTZ::TIMESTAMP AS created_at, "
        "closed_at::TIMESTAMPTZ::TIMESTAMP AS closed_at",
    ),
    "lead_stage_history": (
        f"{H('id')}, {H('lead_id')}, {H('from_stage_id')}, {H('to_stage_id')}, at",
        {"id": "UUID", "lead_id": "UUID", "from_stage_id": "UUID", "to_stage_id": "UUID",
         "at_text": "VARCHAR"},
        "id, lead_id, from_stage_id, to_stage_id, at_text::TIMESTAMPTZ::TIMESTAMP AS changed_at",
    ),
    "stages": (
        f"{H('id')}, {H('pipeline_id')}, position, win_probability",
        {"id": "UUID", "pipeline_id": "UUID", "position": "INTEGER", "win_probability": "INTEGER"},
        "*",
    ),
    "pipelines": (
        f"{H('id')}, is_default",
        {"id": "UUID", "is_default": "BOOLEAN"},
        "*",
    ),
    "teams": (
        f"{H('id')}, {H('parent_id')}",
        {"id": "UUID", "parent_id": "UUID"},
        "*",
    ),
    "team_members": (
        f"{H('team_id')}, {H('user_id')}",
        {"team_id": "UUID", "user_id": "UUID"},
        "*",
    ),
}

# Tables split by rowid into several exports that run side by side.
SPLIT_TABLES = ("activities", "lead_stage_history", "leads")


def sqlite_fingerprint(con: sqlite3.Connection, org: bytes) -> dict:
    """Cheap signs of change: the highest rowid of each big table."""
    return {
        t: con.execute(f"SELECT max(rowid) FROM {t}").fetchone()[0]
        for t in SPLIT_TABLES
    }


def export_with_cli(db: str, sql: str, path: str) -> None:
    with open(path, "wb") as f:
        subprocess.run(
            ["sqlite3", "-init", os.devnull, "-readonly", "-batch", "-bail", "-csv", "-noheader",
             db, sql],
            stdout=f, stderr=subprocess.PIPE, check=True,
        )


def export_with_python(db: str, sql: str, path: str) -> None:
    con = open_sqlite_ro(db)
    try:
        cur = con.execute(sql)
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            while True:
                rows = cur.fetchmany(100_000)
                if not rows:
                    break
                w.writerows(rows)
    finally:
        con.close()


def cli_usable() -> bool:
    exe = shutil.which("sqlite3")
    if not exe:
        return False
    try:
        out = subprocess.run([exe, "-version"], capture_output=True, text=True, check=True).stdout
        major, minor = (int(x) for x in out.split()[0].split(".")[:2])
        return (major, minor) >= (3, 8)
    except (OSError, ValueError, subprocess.CalledProcessError, IndexError):
        return False


def build_duckdb(ctx: Context, target: str, tmp_parent: str | None, jobs: int) -> dict:
    import duckdb

    started = time.perf_counter()
    src = open_sqlite_ro(ctx.db_path)
    org_lit = "X'" + ctx.org.hex().upper() + "'"
    use_cli = cli_usable()
    exporter = export_with_cli if use_cli else export_with_python
    log(f"duckdb: exporting from {ctx.db_path} with "
        f"{'the sqlite3 command-line shell' if use_cli else 'python sqlite3'}, {jobs} at a time")
    tmp = tempfile.mkdtemp(prefix="salesops-bench-", dir=tmp_parent or os.path.dirname(
        os.path.abspath(target)))
    try:
        work = []  # (table, sql, csv path)
        for table, (select, _, _) in LOAD_TABLES.items():
            base = f"SELECT {select} FROM {table} WHERE org_id = {org_lit}"
            parts = 1
            if table in SPLIT_TABLES:
                lo, hi = src.execute(f"SELECT min(rowid), max(rowid) FROM {table}").fetchone()
                if lo is not None:
                    parts = max(1, min(jobs * 2, (hi - lo + 1) // 1_000_000 + 1))
            if parts == 1:
                work.append((table, base, os.path.join(tmp, f"{table}.0.csv")))
            else:
                step = (hi - lo + parts) // parts
                for i in range(parts):
                    a, b = lo + i * step, min(hi, lo + (i + 1) * step - 1)
                    work.append((table, f"{base} AND rowid BETWEEN {a} AND {b}",
                                 os.path.join(tmp, f"{table}.{i}.csv")))
        fingerprint = sqlite_fingerprint(src, ctx.org)
        src.close()
        t = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(exporter, ctx.db_path, sql, path) for _, sql, path in work]
            for f in futures:
                f.result()
        export_s = time.perf_counter() - t
        csv_bytes = sum(os.path.getsize(p) for _, _, p in work)
        log(f"duckdb: exported {csv_bytes / 1e6:,.0f} MB of CSV in {export_s:.1f} s")

        partial = target + ".partial"
        for p in (partial, partial + ".wal"):
            if os.path.exists(p):
                os.remove(p)
        t = time.perf_counter()
        con = duckdb.connect(partial)
        con.execute("SET TimeZone = 'UTC'")
        counts = {}
        for table, (_, columns, select) in LOAD_TABLES.items():
            files = [p for tb, _, p in work if tb == table]
            cols = ", ".join(f"'{k}': '{v}'" for k, v in columns.items())
            con.execute(
                f"CREATE TABLE {table} AS SELECT {select} FROM read_csv({files!r}, "
                f"header = false, delim = ',', quote = '\"', columns = {{{cols}}})"
            )
            counts[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        import_s = time.perf_counter() - t
        total_s = time.perf_counter() - started
        meta = {
            "version": CACHE_VERSION,
            "source": os.path.abspath(ctx.db_path),
            "org": str(ctx.org_uuid),
            "built_at": dt.datetime.now(UTC).isoformat(timespec="seconds"),
            "export_seconds": round(export_s, 2),
            "import_seconds": round(import_s, 2),
            "load_seconds": round(total_s, 2),
            "csv_bytes": csv_bytes,
            "exporter": "sqlite3 shell" if use_cli else "python",
            "rows": counts,
            "fingerprint": fingerprint,
        }
        con.execute("CREATE TABLE bench_meta (meta VARCHAR)")
        con.execute("INSERT INTO bench_meta VALUES (?)", [json.dumps(meta)])
        con.execute("CHECKPOINT")
        con.close()
        os.replace(partial, target)
        log(f"duckdb: imported into {target} in {import_s:.1f} s "
            f"(whole load {total_s:.1f} s): " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        return meta
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def open_duckdb(ctx: Context, args: argparse.Namespace):
    """The cached DuckDB copy, built when missing or asked for."""
    import duckdb

    target = os.path.abspath(args.db) + ".duckdb"
    meta = None
    if os.path.exists(target) and not args.rebuild_duckdb:
        try:
            con = duckdb.connect(target, read_only=True)
            meta = json.loads(con.execute("SELECT meta FROM bench_meta").fetchone()[0])
            con.close()
            if meta.get("version") != CACHE_VERSION or meta.get("org") != str(ctx.org_uuid):
                log("duckdb: the cached copy is of another version or organisation; rebuilding")
                meta = None
        except Exception as e:  # a broken or foreign file: build anew
            log(f"duckdb: cannot use {target} ({e}); rebuilding")
            meta = None
        if meta is not None:
            src = open_sqlite_ro(args.db)
            now = sqlite_fingerprint(src, ctx.org)
            src.close()
            if now != meta.get("fingerprint"):
                log("duckdb: warning: the SQLite data changed since the cached copy was built "
                    f"({meta.get('fingerprint')} -> {now}); use --rebuild-duckdb for the same data")
            meta["cached"] = True
    if meta is None:
        meta = build_duckdb(ctx, target, args.tmp_dir, args.jobs)
        meta["cached"] = False
    con = duckdb.connect(target, read_only=True)
    if args.duckdb_threads:
        con.execute(f"SET threads = {int(args.duckdb_threads)}")
    return con, meta


def duck_into_temp(con, sql: str, params: dict) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE bench_result AS " + sql, params)


def time_query(run, warmup: int, n: int, collect=None) -> dict:
    """Times `run` n times after `warmup` runs. `run` returns the rows, or
    None when they are left in the engine and `collect` reads them after
    the timing."""
    out: dict = {"n": 0}
    rows = None
    try:
        for _ in range(warmup):
            rows = run()
        times = []
        for _ in range(n):
            t = time.perf_counter()
            rows = run()
            times.append(time.perf_counter() - t)
        if collect is not None:
            rows = collect()
    except Exception as e:
        out["error"] = f"{type(e).__name__}: {e}"
        return out
    out["n"] = len(times)
    out["p50_ms"] = ms(percentile(times, 50))
    out["min_ms"] = ms(min(times)) if times else None
    out["max_ms"] = ms(max(times)) if times else None
    if rows is not None:
        out["rows"] = len(rows)
        out["_rows"] = rows
    return out


# --------------------------------------------------------------------------
# The report benchmark
# --------------------------------------------------------------------------


def run_reports(args: argparse.Namespace) -> dict:
    ctx = Context(args)
    figures = build_figures(ctx)
    if args.only:
        wanted = {int(x) for x in args.only.split(",") if x.strip()}
        figures = [f for f in figures if f.num in wanted]
    skip = {x.strip() for x in (args.skip or "").split(",") if x.strip()}

    log(f"organisation {ctx.org_name} ({ctx.org_uuid}), time zone {ctx.tz_name}")
    log(f"today {ctx.today} ({ctx.today_source}); quarter {ctx.quarter[0]}..{ctx.quarter[1]}, "
        f"half-year {ctx.half[0]}..{ctx.half[1]}, year {ctx.year[0]}..{ctx.year[1]}, "
        f"weeks {ctx.weeks[0]}..{ctx.weeks[1]}")
    log(f"team {ctx.team_name} ({ctx.team}, {ctx.team_size} members)")

    results = {f.num: {"figure": f.num, "name": f.name, "period_kind": f.period_name,
                       "period": None if f.period is None else
                       [f.period[0].isoformat(), f.period[1].isoformat()],
                       "request": f.path, "check_name": f.check_name}
               for f in figures}
    report = {
        "meta": {
            "url": args.url, "db": os.path.abspath(args.db),
            "organisation": ctx.org_name, "org_id": str(ctx.org_uuid), "time_zone": ctx.tz_name,
            "today": ctx.today.isoformat(), "today_source": ctx.today_source,
            "team": {"id": ctx.team, "name": ctx.team_name, "members": ctx.team_size},
            "http": {"warmup": args.warmup, "requests": args.requests},
            "duckdb": {"warmup": args.duckdb_warmup, "repeats": args.duckdb_repeats},
            "sqlite": {"warmup": args.sqlite_warmup, "repeats": args.sqlite_repeats},
            "started_at": dt.datetime.now(UTC).isoformat(timespec="seconds"),
            "python": sys.version.split()[0], "sqlite_library": sqlite3.sqlite_version,
        },
        "figures": [],
    }

    # DuckDB first: loading may take minutes, and it should not run while
    # the HTTP timings are taken.
    duck = None
    if "duckdb" not in skip:
        try:
            import duckdb  # noqa: F401
            duck, meta = open_duckdb(ctx, args)
            report["duckdb_load"] = meta
            report["meta"]["duckdb_version"] = duckdb.__version__
        except ImportError:
            for r in results.values():
                r["duckdb"] = {"error": "duckdb not installed (pip install duckdb)"}

    if "http" not in skip:
        api = sign_in(args)
        try:
            for f in figures:
                log(f"http: figure {f.num} {f.path}")
                results[f.num]["http"] = bench_http(api, f, args.warmup, args.requests)
        finally:
            api.close()

    if duck is not None:
        for f in figures:
            log(f"duckdb: figure {f.num}")
            params = duck_params(ctx, f)
            # The result stays in DuckDB (a temporary table): turning many
            # UUIDs into Python objects would take longer than the query.
            results[f.num]["duckdb"] = time_query(
                lambda: duck_into_temp(duck, f.duck_sql, params),
                args.duckdb_warmup, args.duckdb_repeats,
                collect=lambda: duck.execute("SELECT * FROM bench_result").fetchall())
        duck.close()

    if "sqlite" not in skip:
        con = open_sqlite_ro(args.db)
        for f in figures:
            log(f"sqlite: figure {f.num}")
            params = sqlite_params(ctx, f)
            results[f.num]["sqlite"] = time_query(
                lambda: con.execute(f.sqlite_sql, params).fetchall(),
                args.sqlite_warmup, args.sqlite_repeats)
        con.close()

    figs_by_num = {f.num: f for f in figures}
    for num, r in results.items():
        f = figs_by_num[num]
        for engine in ("duckdb", "sqlite"):
            e = r.get(engine)
            if e and "_rows" in e:
                try:
                    e["check"] = check_value(f.sql_check(e["_rows"]))
                except (TypeError, IndexError) as ex:
                    e["check_error"] = str(ex)
                del e["_rows"]
        report["figures"].append(r)
    report["meta"]["finished_at"] = dt.datetime.now(UTC).isoformat(timespec="seconds")
    return report


def markdown(report: dict) -> str:
    m = report["meta"]
    lines = [
        f"Organisation **{m['organisation']}**, today {m['today']} ({m['today_source']}); "
        f"team {m['team']['name']} ({m['team']['members']} members). "
        f"HTTP: {m['http']['warmup']} warm-up + {m['http']['requests']} requests; "
        f"DuckDB: {m['duckdb']['warmup']} warm-up + {m['duckdb']['repeats']} runs; "
        f"SQLite: {m['sqlite']['warmup']} warm-up + {m['sqlite']['repeats']} runs. Times in ms.",
        "",
    ]
    load = report.get("duckdb_load")
    if load:
        rows = sum(load.get("rows", {}).values())
        lines += [
            f"DuckDB copy: {rows:,} rows, loaded in {load['load_seconds']:.1f} s "
            f"(export {load['export_seconds']:.1f} s, import {load['import_seconds']:.1f} s, "
            f"{load.get('exporter')}){' — cached from ' + load['built_at'] if load.get('cached') else ''}; "
            "not part of the query times.",
            "",
        ]
    lines += [
        "| # | figure | period | API p50 | API p95 | DuckDB p50 | SQLite p50 | check: API / DuckDB / SQLite |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    notes = []
    for r in report["figures"]:
        h = r.get("http", {})
        d = r.get("duckdb", {})
        s = r.get("sqlite", {})

        def cell(e: dict, key: str) -> str:
            if not e:
                return "skipped"
            if e.get("error") and e.get(key) is None:
                return md_cell(f"error: {e['error']}")[:160]
            v = fmt_ms(e.get(key))
            if e.get("errors"):
                v += md_cell(f" ({e['errors']} errors: {e.get('error')})")
            return v

        period = r["period_kind"]
        if r["period"]:
            period += f" {r['period'][0]}..{r['period'][1]}"
        checks = [h.get("check"), d.get("check"), s.get("check")]
        present = [c for c in checks if c is not None]
        agree = ""
        if len(present) >= 2:
            agree = " ✓" if max(present) - min(present) < 0.5 else " ✗"
        check = f"{r['check_name']}: " + " / ".join(fmt_num(c) for c in checks) + agree
        if h.get("note"):
            notes.append(f"figure {r['figure']}: {h['note']}")
            check += " †"
        http_p95 = cell(h, "p95_ms") if not (h.get("error") and h.get("p95_ms") is None) else "–"
        lines.append(
            f"| {r['figure']} | {r['name']} | {period} | {cell(h, 'p50_ms')} | {http_p95} | "
            f"{cell(d, 'p50_ms')} | {cell(s, 'p50_ms')} | {check} |"
        )
    if notes:
        lines += [""] + [f"† {n}" for n in notes]
    return "\n".join(lines)


# --------------------------------------------------------------------------
# --load: logging an activity under an open-loop load
# --------------------------------------------------------------------------


def run_load(args: argparse.Namespace) -> dict:
    api = sign_in(args)
    types = api.json("GET", "/api/v1/activity-types?limit=100").get("items", [])
    types = [t for t in types if not t.get("archived")]
    if not types:
        raise SystemExit("no activity type to log")
    typ = next((t for t in types if t.get("kind") == "call"), types[0])
    outcomes = [o for o in typ.get("outcomes", []) if not o.get("archived")]
    leads = api.json("GET", "/api/v1/leads?status=open&limit=50").get("items", [])
    targets = [{"lead_id": l["id"]} for l in leads]
    if not targets:
        companies = api.json("GET", "/api/v1/companies?limit=50").get("items", [])
        targets = [{"company_id": c["id"]} for c in companies]
    if not targets:
        raise SystemExit("no lead or company to log activities on")

    total = int(round(args.rate * args.duration))
    interval = 1.0 / args.rate
    log(f"load: {total} x POST /api/v1/activities at {args.rate:g}/s for {args.duration:g} s, "
        f"{args.threads} threads, type {typ['name']}, {len(targets)} records")

    lock = threading.Lock()
    next_i = [0]
    records: list[tuple] = []  # (planned offset, latency from plan, service time, status)
    start = time.perf_counter() + 0.5

    def worker():
        conn = api.clone()
        mine = []
        while True:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= total:
                break
            planned = start + i * interval
            wait = planned - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            body = {**targets[i % len(targets)], "type_id": typ["id"],
                    "notes": "salesops benchmark load"}
            if outcomes:
                body["outcome_id"] = outcomes[i % len(outcomes)]["id"]
            sent = time.perf_counter()
            try:
                status, _, _, _ = conn.request("POST", "/api/v1/activities",
                                               json.dumps(body).encode())
            except (OSError, http.client.HTTPException):
                conn.close()
                status = 0
            done = time.perf_counter()
            mine.append((planned - start, done - planned, done - sent, status, done - start))
        conn.close()
        with lock:
            records.extend(mine)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    api.close()

    lat = [r[1] for r in records]
    svc = [r[2] for r in records]
    ok = sum(1 for r in records if 200 <= r[3] < 300)
    by_status: dict[str, int] = {}
    for r in records:
        by_status[str(r[3])] = by_status.get(str(r[3]), 0) + 1
    elapsed = max((r[4] for r in records), default=0.0)
    return {
        "target_rate": args.rate,
        "duration_s": args.duration,
        "threads": args.threads,
        "requests": len(records),
        "ok": ok,
        "non_2xx": len(records) - ok,
        "statuses": by_status,
        "elapsed_s": round(elapsed, 2),
        "achieved_rate": round(len(records) / elapsed, 1) if elapsed else None,
        "latency_ms": {  # from the planned send time
            "p50": ms(percentile(lat, 50)), "p95": ms(percentile(lat, 95)),
            "p99": ms(percentile(lat, 99)), "max": ms(max(lat)) if lat else None,
        },
        "service_ms": {  # from the actual send time
            "p50": ms(percentile(svc, 50)), "p95": ms(percentile(svc, 95)),
            "p99": ms(percentile(svc, 99)), "max": ms(max(svc)) if svc else None,
        },
    }


def load_markdown(r: dict) -> str:
    l, s = r["latency_ms"], r["service_ms"]
    return "\n".join([
        f"POST /api/v1/activities, open loop at {r['target_rate']:g}/s for {r['duration_s']:g} s, "
        f"{r['threads']} connections. Latency from the planned send time (service time from the "
        "actual send in brackets), ms.",
        "",
        "| requests | achieved rate/s | p50 | p95 | p99 | max | non-2xx |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {r['requests']:,} | {fmt_num(r['achieved_rate'])} | {fmt_ms(l['p50'])} ({fmt_ms(s['p50'])}) "
        f"| {fmt_ms(l['p95'])} ({fmt_ms(s['p95'])}) | {fmt_ms(l['p99'])} ({fmt_ms(s['p99'])}) "
        f"| {fmt_ms(l['max'])} ({fmt_ms(s['max'])}) | {r['non_2xx']:,} |",
        "",
        "statuses: " + ", ".join(f"{k}: {v:,}" for k, v in sorted(r["statuses"].items())),
    ])


# --------------------------------------------------------------------------


def main() -> None:
    p = argparse.ArgumentParser(
        description="Report latency through the salesops API against DuckDB and plain SQLite SQL "
                    "on the same data; or, with --load, logging activities under load.")
    p.add_argument("--url", default="http://127.0.0.1:8080", help="the running server")
    p.add_argument("--db", help="the server's SQLite database file (needed for reports)")
    p.add_argument("--email", default=DEMO_EMAIL)
    p.add_argument("--password", default=DEMO_PASSWORD)
    p.add_argument("--token", default=os.environ.get("SALESOPS_TOKEN"),
                   help="an API token instead of e-mail and password (env SALESOPS_TOKEN)")
    p.add_argument("--today", help="YYYY-MM-DD the periods are chosen before "
                                   "(default: the day of the newest activity)")
    p.add_argument("--team", help="team id of figure 1 (default: the team closest to 20 members)")
    p.add_argument("--only", help="figures to run, e.g. 1,3,6")
    p.add_argument("--skip", help="columns to skip: http, duckdb, sqlite (comma-separated)")
    p.add_argument("-n", "--requests", type=int, default=30, help="measured HTTP requests per figure")
    p.add_argument("--warmup", type=int, default=3, help="HTTP warm-up requests per figure")
    p.add_argument("--http-timeout", type=float, default=600.0, help="seconds per HTTP request")
    p.add_argument("--duckdb-repeats", type=int, default=10)
    p.add_argument("--duckdb-warmup", type=int, default=1)
    p.add_argument("--duckdb-threads", type=int, help="DuckDB threads (default: all cores)")
    p.add_argument("--sqlite-repeats", type=int, default=3)
    p.add_argument("--sqlite-warmup", type=int, default=0)
    p.add_argument("--rebuild-duckdb", action="store_true", help="reload <db>.duckdb")
    p.add_argument("--tmp-dir", help="where the CSV exports go while loading DuckDB "
                                     "(default: beside the database)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2,
                   help="exports run side by side while loading DuckDB")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--load", action="store_true",
                   help="measure POST /api/v1/activities under load instead of the reports")
    p.add_argument("--rate", type=float, default=200.0, help="--load: requests per second")
    p.add_argument("--duration", type=float, default=30.0, help="--load: seconds")
    p.add_argument("--threads", type=int, default=32, help="--load: connections")
    args = p.parse_args()

    if args.load:
        result = {"load": run_load(args)}
        print(load_markdown(result["load"]))
    else:
        if not args.db:
            p.error("--db is required for the report benchmark")
        if not os.path.exists(args.db):
            p.error(f"{args.db} does not exist")
        result = run_reports(args)
        print(markdown(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2, default=str)
            f.write("\n")
        log(f"wrote {args.json}")


if __name__ == "__main__":
    main()
