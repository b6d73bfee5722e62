"""Lighthouse (mobile emulation) on the driver app `/driver/`, served by Waypoint, signed in as a driver.

    CHROME_PATH=/usr/bin/chromium .venv/bin/python -m bench.lighthouse_driver

Creates a fresh organization whose driver has today's dispatched 12-stop route (orders asking for a
signature, a photo, a one-time code), starts uvicorn on a free loopback port, signs in through the
login form, and runs the Lighthouse npm package (pinned, through `npx -y lighthouse@12.2.3`, so
`npm ci` for ESLint stays as small as it is) against `/driver/` with the session cookie
(`--extra-headers`, and in the browser profile where
the app's own requests find it), Chromium flags `--no-sandbox --disable-gpu --headless=new`. Prints the
performance, accessibility and best-practices scores against the targets (90, 95, 95) and every
audit that cost points, then exits non-zero when a score misses its target. The JSON report is
written to `--output` (default var/lighthouse-driver.json).

Works on Postgres (DATABASE_URL) or the embedded SQLite mode; adds rows to that database.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench import _setup

LIGHTHOUSE = "lighthouse@12.2.3"
TARGETS = {"performance": 90, "accessibility": 95, "best-practices": 95}
CHROME_FLAGS = "--no-sandbox --disable-gpu --headless=new"


def sign_in(base: str, username: str, password: str) -> str:
    """The session cookie a driver gets from the login form."""
    with requests.Session() as http:
        page = http.get(f"{base}/login/", timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if token is None:
            raise SystemExit(f"No login form at {base}/login/")
        answer = http.post(
            f"{base}/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": f"{base}/login/"},
            timeout=30,
            allow_redirects=False,
        )
        if answer.status_code != 302 or "sessionid" not in http.cookies:
            raise SystemExit(f"Sign-in as {username} failed ({answer.status_code}).")
        return http.cookies["sessionid"]


def browser_profile(base: str, session: str, directory: Path) -> Path:
    """A Chromium profile holding the session cookie.

    `--extra-headers` reaches the page's navigation and its static files, but Chromium drops a
    Cookie header on the app's own `fetch()` (a forbidden header), so `/api/driver/today` answered
    401 and Lighthouse counted a console error. The cookie in the profile is what a phone has.
    """
    from playwright.sync_api import sync_playwright

    host = base.split("://", 1)[1].split(":", 1)[0]
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(directory), executable_path=os.environ["CHROME_PATH"], headless=True, args=["--no-sandbox"]
        )
        expires = int(time.time()) + 3600
        context.add_cookies([{"name": "sessionid", "value": session, "domain": host, "path": "/", "expires": expires}])
        context.close()
    return directory


def lighthouse(url: str, session: str, output: Path, profile: Path) -> dict:
    npx = shutil.which("npx")
    if npx is None:
        raise SystemExit("Lighthouse runs through npx: install Node.js 20.19 or newer")
    env = dict(os.environ)
    command = [
        npx,
        "-y",
        LIGHTHOUSE,
        url,
        "--quiet",
        "--output=json",
        f"--output-path={output}",
        "--form-factor=mobile",
        "--only-categories=performance,accessibility,best-practices",
        # The last --user-data-dir wins over chrome-launcher's own temporary one.
        f"--chrome-flags={CHROME_FLAGS} --user-data-dir={profile}",
        "--disable-storage-reset",
        f"--extra-headers={json.dumps({'Cookie': f'sessionid={session}'})}",
    ]
    output.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(command, check=True, env=env, cwd=output.parent)
    return json.loads(output.read_text())


def lost_points(report: dict, category: str) -> list[str]:
    """The audits of a category that scored below 1 and count towards it (weight > 0), worst first."""
    audits = report["audits"]
    lines = []
    refs = [ref for ref in report["categories"][category]["auditRefs"] if ref.get("weight")]
    for ref in sorted(refs, key=lambda r: audits[r["id"]].get("score") or 0):
        audit = audits[ref["id"]]
        if audit.get("score") is None or audit["score"] >= 1:
            continue
        value = f" ({audit['displayValue']})" if audit.get("displayValue") else ""
        lines.append(f"    {audit['score']:.2f}  {ref['id']}: {audit['title']}{value}")
        for item in (audit.get("details") or {}).get("items", [])[:5]:
            where = item.get("url") or (item.get("node") or {}).get("selector") or item.get("source", {})
            if where:
                lines.append(f"            {where}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=_setup.ROOT / "var" / "lighthouse-driver.json")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs; the median run is reported")
    args = parser.parse_args()
    os.environ.setdefault("CHROME_PATH", "/usr/bin/chromium")
    _setup.django_ready()
    if not (_setup.ROOT / "var" / "osm" / "basemap.geojson").exists():
        # As `make demo` does: the map's offline background (else a 404 in the console).
        from django.core.management import call_command

        call_command("build_basemap", helsinki=True)
    password = secrets.token_urlsafe(12)
    proofs = {1: ["signature"], 2: ["photo"], 3: ["one_time_code"]}
    _, [driver] = _setup.fleet_create(drivers=1, stops_per_route=12, proofs=proofs, password=password)
    with _setup.server(workers=args.workers) as base:
        session = sign_in(base, driver.username, password)
        today = requests.get(f"{base}/api/driver/today", cookies={"sessionid": session}, timeout=30)
        stops = len((today.json().get("route") or {}).get("stops", [])) if today.ok else 0
        print(f"{driver.username} signed in; /api/driver/today: {today.status_code}, {stops} stops")
        with tempfile.TemporaryDirectory(prefix="waypoint-lighthouse-") as directory:
            profile = browser_profile(base, session, Path(directory))
            reports = [lighthouse(f"{base}/driver/", session, args.output, profile) for _ in range(args.runs)]
    performance = [report["categories"]["performance"]["score"] or 0 for report in reports]
    report = sorted(reports, key=lambda r: r["categories"]["performance"]["score"] or 0)[len(reports) // 2]
    args.output.write_text(json.dumps(report))
    print(f"performance of each run: {[round(100 * score) for score in performance]}; the median run:")
    final_url = report.get("finalDisplayedUrl") or report.get("finalUrl")
    print(f"Lighthouse {report['lighthouseVersion']} on {final_url} ({report['configSettings']['formFactor']})")
    missed = []
    for category, target in TARGETS.items():
        score = round(100 * (report["categories"][category]["score"] or 0))
        print(f"  {category:<15} {score:>3}  (target ≥ {target})")
        print("\n".join(lost_points(report, category)))
        if score < target:
            missed.append(category)
    if not final_url or not final_url.rstrip("/").endswith("/driver"):
        missed.append(f"the page ended on {final_url}, not /driver/ (signed out?)")
    if missed:
        sys.exit(f"lighthouse_driver: below target: {', '.join(missed)}")


if __name__ == "__main__":
    main()
