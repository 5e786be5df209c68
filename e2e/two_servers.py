#!/usr/bin/env python3
"""Two API servers on one PostgreSQL and one Redis, behind nginx as a round-robin proxy: what
one server counts, limits, forgets or changes, the other answers the same on the next request.

    two_servers.py SHANHUO_BINARY

Reads `TEST_DATABASE_URL` (a PostgreSQL server; a database of its own is made and dropped) and
`TEST_REDIS_URL` (keys under a prefix of their own); nginx is Debian's package. Checks, through
the proxy and against each server directly:
- both servers answer through the proxy, in turn;
- a code scanned again and again counts 1, 2, 3, ... whichever server answers;
- the anonymous limit of one address is one count for both servers;
- a signed-out token is refused by both servers;
- a listing (its API answer and its page) and a category read (and kept) by one server show a
  change made through the other on the very next request.
Exits non-zero, naming the check, on the first that fails.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_server import DEMO_FARMER, SmsGateway, free_port  # noqa: E402

import http.server  # noqa: E402

ADMIN_PHONE = "13800000000"
ADMIN_PASSWORD = "two-servers-admin-password"
LIMIT_PER_MINUTE = 40
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def request(base, method, path, body=None, token=None, forwarded_for=None):
    """(status, headers, parsed JSON body or text) of one call; never raises on a status."""
    req = urllib.request.Request(
        base + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if forwarded_for:
        req.add_header("X-Forwarded-For", forwarded_for)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            status, headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        status, headers, raw = e.code, e.headers, e.read()
    try:
        parsed = json.loads(raw or b"null")
    except ValueError:
        parsed = raw.decode(errors="replace")
    return status, headers, parsed


def ok(base, method, path, body=None, token=None, **kw):
    status, _, parsed = request(base, method, path, body, token, **kw)
    if not 200 <= status < 300:
        fail(f"{method} {path} answered {status}: {parsed}")
    return parsed


def fail(message):
    raise SystemExit(f"two servers: FAILED: {message}")


def check(condition, message):
    if not condition:
        fail(message)
    print(f"ok: {message}", flush=True)


class Postgres:
    """A database of its own on the test server, dropped at the end."""

    def __init__(self, url):
        if not url.startswith("postgres"):
            fail(f"TEST_DATABASE_URL must name a PostgreSQL server, not {url!r}")
        self.admin_url = url
        self.name = f"shanhuo_two_servers_{uuid.uuid4().hex[:10]}"
        base = url.split("?")[0].rsplit("/", 1)[0]
        self.url = f"{base}/{self.name}"

    def __enter__(self):
        self._psql(f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *_):
        self._psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _psql(self, sql):
        done = subprocess.run(
            ["psql", self.admin_url, "-v", "ON_ERROR_STOP=1", "-qc", sql],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            fail(f"psql {sql!r}: {done.stderr}")


class Cluster:
    """The two servers and nginx in front of them."""

    def __init__(self, binary, database_url, redis_url):
        self.binary = binary
        self.dir = Path(tempfile.mkdtemp(prefix="shanhuo-two-servers-"))
        self.gateway = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SmsGateway)
        self.ports = [free_port(), free_port()]
        self.proxy_port = free_port()
        self.proxy = f"http://127.0.0.1:{self.proxy_port}"
        self.servers = [f"http://127.0.0.1:{p}" for p in self.ports]
        self.env = dict(
            os.environ,
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            SHANHUO_CACHE_PREFIX=f"two-servers:{uuid.uuid4().hex[:8]}:",
            # One key for both: a token one server signs, the other reads.
            SHANHUO_SECRET_KEY=uuid.uuid4().hex * 2,
            SHANHUO_PUBLIC_BASE_URL=self.proxy,
            SHANHUO_DATA_DIR=str(self.dir / "files"),
            SHANHUO_SMS_GATEWAY_URL=f"http://127.0.0.1:{self.gateway.server_address[1]}/send",
            SHANHUO_SMS_RESEND_AFTER_SECS="1",
            SHANHUO_TRUST_FORWARDED_FOR="true",
            SHANHUO_ANONYMOUS_REQUESTS_PER_MINUTE=str(LIMIT_PER_MINUTE),
            SHANHUO_LOG="warn",
        )
        self.processes = []

    def __enter__(self):
        threading.Thread(target=self.gateway.serve_forever, daemon=True).start()
        self._cli("migrate", "up")
        self._cli(
            "users", "create-admin", "--phone", ADMIN_PHONE, "--name", "管理员",
            input=ADMIN_PASSWORD + "\n",
        )
        try:
            # The first loads the demo county; the second finds it there.
            for i, port in enumerate(self.ports):
                env = dict(
                    self.env,
                    SHANHUO_LISTEN=f"127.0.0.1:{port}",
                    SHANHUO_SCAN_JOURNAL_DIR=str(self.dir / f"journal-{i}"),
                )
                self.processes.append(subprocess.Popen([self.binary, "serve"], env=env))
                self._wait_until_up(self.servers[i], self.processes[-1])
            self._start_nginx()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *_):
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.gateway.shutdown()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _cli(self, *args, input=None):
        done = subprocess.run(
            [self.binary, *args], env=self.env, input=input, text=True, capture_output=True
        )
        if done.returncode != 0:
            fail(f"shanhuo {' '.join(args)}: {done.stderr}")

    def _start_nginx(self):
        temp = self.dir / "nginx"
        temp.mkdir()
        upstreams = "\n".join(f"    server 127.0.0.1:{p};" for p in self.ports)
        conf = temp / "nginx.conf"
        conf.write_text(
            f"""
worker_processes 1;
daemon off;
pid {temp}/nginx.pid;
error_log {temp}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {temp}/body;
  proxy_temp_path {temp}/proxy;
  fastcgi_temp_path {temp}/fastcgi;
  uwsgi_temp_path {temp}/uwsgi;
  scgi_temp_path {temp}/scgi;
  upstream shanhuo {{
{upstreams}
  }}
  server {{
    listen 127.0.0.1:{self.proxy_port};
    location / {{
      proxy_pass http://shanhuo;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      add_header X-Upstream $upstream_addr always;
    }}
  }}
}}
"""
        )
        self.processes.append(
            subprocess.Popen([NGINX, "-p", str(temp), "-c", str(conf), "-e", str(temp / "error.log")])
        )
        self._wait_until_up(self.proxy, self.processes[-1])

    @staticmethod
    def _wait_until_up(base, process):
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                return
            except OSError:
                if process.poll() is not None:
                    fail(f"{base} stopped while starting")
                time.sleep(0.5)
        fail(f"{base} did not answer within 5 minutes")

    def sign_in(self, phone):
        for _ in range(10):
            status, _, answer = request(
                self.proxy, "POST", "/api/v1/auth/sms/send", {"phone": phone}
            )
            if status != 429:
                break
            # A code was sent a moment ago: as a person would, wait and ask again.
            time.sleep((answer.get("details") or {}).get("retry_after_seconds", 1) + 0.2)
        if not 200 <= status < 300:
            fail(f"sending a sign-in code answered {status}: {answer}")
        code = SmsGateway.codes[phone]
        return ok(
            self.proxy, "POST", "/api/v1/auth/login/sms", {"phone": phone, "code": code}
        )["access_token"]

    def admin_token(self):
        return ok(
            self.proxy,
            "POST",
            "/api/v1/auth/login/password",
            {"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD},
        )["access_token"]


def round_robin(cluster):
    seen = set()
    for _ in range(6):
        status, headers, _ = request(cluster.proxy, "GET", "/healthz")
        check_status = status == 200
        if not check_status:
            fail(f"/healthz through the proxy answered {status}")
        seen.add(headers.get("X-Upstream"))
    check(len(seen) == 2, f"both servers answer through the proxy ({sorted(seen)})")


def scans(cluster, farmer):
    categories = ok(cluster.proxy, "GET", "/api/v1/categories")
    today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600))
    batch = ok(
        cluster.proxy, "POST", "/api/v1/batches",
        {"category_id": categories[0]["id"], "quantity": 10, "produced_on": today}, farmer,
    )
    run = ok(cluster.proxy, "POST", f"/api/v1/batches/{batch['id']}/code-runs", {"count": 1}, farmer)
    _, _, csv = request(
        cluster.proxy, "GET", f"/api/v1/batches/{batch['id']}/code-runs/{run['id']}/codes",
        token=farmer,
    )
    code = csv.strip().split("\n")[1].split(",")[1]
    counts, upstreams = [], set()
    for i in range(12):
        # Each scan from an address of its own, so no limit is reached.
        status, headers, verdict = request(
            cluster.proxy, "GET", f"/api/v1/trace/{code}", forwarded_for=f"120.{i}.1.1"
        )
        if status != 200:
            fail(f"scan {i + 1} answered {status}: {verdict}")
        counts.append(verdict["scan_count"])
        upstreams.add(headers.get("X-Upstream"))
    check(
        counts == list(range(1, 13)) and len(upstreams) == 2,
        f"twelve scans through both servers count 1 to 12 ({counts})",
    )
    # Each server alone goes on from the same count.
    after = [
        request(base, "GET", f"/api/v1/trace/{code}", forwarded_for="121.0.0.1")[2]["scan_count"]
        for base in cluster.servers
    ]
    check(after == [13, 14], f"each server alone goes on counting ({after})")


def rate_limit(cluster):
    # Well inside one minute's window, so the count is not reset half-way.
    while time.time() % 60 > 40:
        time.sleep(1)
    address = "203.0.113.77"
    statuses, upstreams = [], set()
    for _ in range(LIMIT_PER_MINUTE + 5):
        status, headers, _ = request(
            cluster.proxy, "GET", "/api/v1/categories", forwarded_for=address
        )
        statuses.append(status)
        upstreams.add(headers.get("X-Upstream"))
    allowed = statuses.count(200)
    check(
        allowed == LIMIT_PER_MINUTE
        and statuses[LIMIT_PER_MINUTE:] == [429] * 5
        and len(upstreams) == 2,
        f"one address gets {LIMIT_PER_MINUTE} requests a minute from both servers together, "
        f"then 429 ({allowed} allowed)",
    )
    # Another address is not held back.
    status, _, _ = request(cluster.proxy, "GET", "/api/v1/categories", forwarded_for="198.51.100.1")
    check(status == 200, "another address is served")


def logout(cluster):
    token = cluster.sign_in(DEMO_FARMER)
    before = [request(base, "GET", "/api/v1/my/listings", token=token)[0] for base in cluster.servers]
    check(before == [200, 200], "a signed-in farmer is known to both servers")
    ok(cluster.servers[0], "POST", "/api/v1/auth/logout", token=token)
    after = [request(base, "GET", "/api/v1/my/listings", token=token)[0] for base in cluster.servers]
    check(after == [401, 401], f"signed out on one server, refused by both ({after})")


def changes_show_everywhere(cluster, farmer, admin):
    first, second = cluster.servers
    mine = ok(first, "GET", "/api/v1/my/listings?limit=100", token=farmer)["items"]
    listing = next(item for item in mine if item["status"] == "on_sale")
    path = f"/api/v1/listings/{listing['id']}"
    page = f"/m/listings/{listing['id']}"
    for base in cluster.servers:
        ok(base, "GET", path)
        request(base, "GET", page)
    new_price = listing["price_fen"] + 100
    ok(first, "PATCH", path, {"price_fen": new_price}, farmer)
    seen = ok(second, "GET", path)["price_fen"]
    check(seen == new_price, f"a listing's new price shows on the other server ({seen})")
    _, _, html = request(second, "GET", page)
    yuan = f"{new_price / 100:.2f}"
    check(isinstance(html, str) and yuan in html, f"and on its page there (¥{yuan})")

    category = ok(second, "GET", "/api/v1/categories")[0]
    renamed = category["name_zh"] + "（新）"
    ok(first, "PATCH", f"/api/v1/categories/{category['id']}", {"name_zh": renamed}, admin)
    names = [c["name_zh"] for c in ok(second, "GET", "/api/v1/categories")]
    check(renamed in names, f"a renamed category shows on the other server ({renamed})")


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: two_servers.py SHANHUO_BINARY")
    database = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    redis = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
    with Postgres(database) as db, Cluster(sys.argv[1], db.url, redis) as cluster:
        round_robin(cluster)
        farmer = cluster.sign_in(DEMO_FARMER)
        admin = cluster.admin_token()
        scans(cluster, farmer)
        logout(cluster)
        changes_show_everywhere(cluster, farmer, admin)
        rate_limit(cluster)
    print("two servers: all checks passed", flush=True)


if __name__ == "__main__":
    main()
