#!/usr/bin/env python3
"""Times the pages and API calls a manager opens every day that are not
plain reports: the KPIs, goal progress and the dashboard.

    python3 bench/endpoints.py --url http://127.0.0.1:8090 -n 20

Signs in (default: the demo admin), warms each path up, then requests it
n times one after the other and prints p50, p95 and max in milliseconds
with the response size. The periods are relative to today in the
organisation's time zone (what the presets mean).
"""

import argparse
import http.client
import json
import time
import urllib.parse


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8090")
    ap.add_argument("--email", default="admin@nordwind.example")
    ap.add_argument("--password", default="salesops-demo")
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args()
    u = urllib.parse.urlparse(args.url)
    con = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=300)

    def request(method, path, body=None, headers=None):
        con.request(method, path, body=body, headers=headers or {})
        r = con.getresponse()
        return r.status, r.read(), r

    body = json.dumps({"email": args.email, "password": args.password}).encode()
    status, data, r = request(
        "POST", "/api/v1/auth/login", body, {"Content-Type": "application/json"}
    )
    if status != 200:
        raise SystemExit(f"sign-in failed: HTTP {status}: {data[:200]!r}")
    cookie = next(
        c.split(";")[0]
        for k, c in r.getheaders()
        if k.lower() == "set-cookie" and c.startswith("salesops_session=")
    )
    # The session cookie serves the API and the pages alike.
    api = ui = {"Cookie": cookie}
    teams = json.loads(request("GET", "/api/v1/teams", headers=api)[1])["items"]
    team = next((t["id"] for t in teams if t.get("parent_id")), teams[0]["id"])
    paths = [
        ("KPIs, whole org, this quarter", "/api/v1/kpis?preset=this_quarter", api),
        ("KPIs, whole org, last year", "/api/v1/kpis?preset=last_year", api),
        ("KPIs, one team, this month", f"/api/v1/kpis?preset=this_month&team={team}", api),
        ("goal progress, one team", f"/api/v1/goals/progress?team={team}", api),
        ("dashboard page, whole org", "/dashboard", ui),
        ("dashboard page, one team", f"/dashboard?team={team}", ui),
    ]
    print(f"{'what':42} {'p50':>9} {'p95':>9} {'max':>9} {'bytes':>9}")
    for name, path, headers in paths:
        for _ in range(args.warmup):
            status, data, _ = request("GET", path, headers=headers)
            if status != 200:
                print(f"{name:42} HTTP {status}: {data[:200]!r}")
                break
        else:
            times = []
            for _ in range(args.n):
                t = time.perf_counter()
                status, data, _ = request("GET", path, headers=headers)
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            p50 = times[len(times) // 2]
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            print(f"{name:42} {p50:9.2f} {p95:9.2f} {times[-1]:9.2f} {len(data):9}")


if __name__ == "__main__":
    main()
