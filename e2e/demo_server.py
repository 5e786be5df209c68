#!/usr/bin/env python3
"""The server on its demo county, for tests that drive it from outside: the contract fuzzer and
the browser walk.

Starts the server binary on a fresh embedded database (which loads the demo county, its
registry, market and traceable goods), with a small local SMS gateway that keeps the sign-in
codes it is asked to send; makes an admin (by password) and invites a county official, a
village cadre and a township official (sign-in by SMS code, as their phones do).

As a script it prints one JSON line — the server's address, the gateway's, the accounts — and
serves until its standard input closes:

    demo_server.py SHANHUO_BINARY

The gateway answers `GET /codes/{phone}` with the last code sent to that phone.

A stand-in for WeChat's Official Account answers as WeChat does (the authorisation page sends
the browser straight back with a code for the WeChat user `GET /as/{name}` named last; the code
exchange, user info, access token and JS-SDK ticket), so pages opened with WeChat's user agent
sign in through WeChat; other browsers never meet it.
"""

import datetime
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ADMIN_PHONE = "13800000000"
ADMIN_PASSWORD = "demo-admin-password-2026"
COUNTY = "500235"
DEMO_FARMER = "19900010000"
# Another of the demo's farmers, who may sign in on the same phone.
OTHER_FARMER = "19900010001"
BUYER_PHONE = "13700000001"
# A third of the demo's farmers, who opens their pages inside WeChat.
WECHAT_FARMER = "19900010002"
OFFICIALS = {
    "county_official": ("13900000001", "county-official", COUNTY),
    "village_cadre": ("13900000002", "village-cadre", "500235101201"),
    # A township whose households the demo has part-way through the exit procedure.
    "township_official": ("13900000003", "township-official", "500235104000"),
}


class SmsGateway(http.server.BaseHTTPRequestHandler):
    """Answers as an SMS gateway does and remembers the last code sent to each phone."""

    codes: dict = {}

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        SmsGateway.codes[body["phone"]] = body["params"]["code"]
        self._answer(200, {"ok": True})

    def do_GET(self):
        phone = self.path.rsplit("/", 1)[-1]
        if self.path.startswith("/codes/") and phone in SmsGateway.codes:
            self._answer(200, {"code": SmsGateway.codes[phone]})
        else:
            self._answer(404, {"error": "no code was sent to this phone"})

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_):
        pass


class OfficialAccount(http.server.BaseHTTPRequestHandler):
    """WeChat's Official Account as the server calls it, and its authorisation page."""

    APPID = "wx-demo-oa"
    SECRET = "wx-demo-oa-secret"
    user = "walk-buyer"
    issued = 0

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path.startswith("/as/"):
            OfficialAccount.user = url.path[4:]
            return self._answer({"ok": True})
        if url.path == "/connect/oauth2/authorize":
            OfficialAccount.issued += 1
            code = f"oa-{OfficialAccount.user}.{OfficialAccount.issued}.{q['scope']}"
            back = q["redirect_uri"]
            back += ("&" if "?" in back else "?") + urllib.parse.urlencode(
                {"code": code, "state": q.get("state", "")}
            )
            self.send_response(302)
            self.send_header("Location", back)
            self.end_headers()
            return None
        if url.path == "/sns/oauth2/access_token":
            name, _, scope = q["code"][3:].split(".")
            answer = {"access_token": f"web-{name}", "expires_in": 7200,
                      "openid": f"oa-openid-{name}", "scope": scope}
            if scope == "snsapi_userinfo":
                answer["unionid"] = f"unionid-{name}"
            return self._answer(answer)
        if url.path == "/sns/userinfo":
            name = q["access_token"][4:]
            return self._answer({"openid": f"oa-openid-{name}", "nickname": "山里人家",
                                 "unionid": f"unionid-{name}"})
        if url.path == "/cgi-bin/token":
            return self._answer({"access_token": "demo-token", "expires_in": 7200})
        if url.path == "/cgi-bin/ticket/getticket":
            return self._answer({"errcode": 0, "errmsg": "ok", "ticket": "demo-ticket",
                                 "expires_in": 7200})
        return self._answer({"errcode": 40001, "errmsg": "unknown"})

    def _answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None, token=None):
    request = urllib.request.Request(
        base + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{method} {path}: {e.code} {e.read().decode()}") from e


class DemoServer:
    """`with DemoServer(binary) as demo:` — the server is up, the accounts exist."""

    def __init__(self, binary):
        self.binary = binary
        self.gateway = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SmsGateway)
        self.wechat = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OfficialAccount)
        wechat = f"http://127.0.0.1:{self.wechat.server_address[1]}"
        data = tempfile.mkdtemp(prefix="shanhuo-demo-")
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.api = f"{self.base}/api/v1"
        year = datetime.date.today().year
        self.env = dict(
            os.environ,
            # The demo county's plan: the people and villages to be out by each year's end.
            SHANHUO_YEARLY_GOAL_PEOPLE=f"{year}=80000,{year + 1}=110000,{year + 2}=135000",
            SHANHUO_YEARLY_GOAL_VILLAGES=f"{year}=70,{year + 1}=120,{year + 2}=162",
            SHANHUO_LISTEN=f"127.0.0.1:{port}",
            SHANHUO_PUBLIC_BASE_URL=self.base,
            DATABASE_URL=f"sqlite://{data}/demo.db?mode=rwc",
            SHANHUO_DATA_DIR=data,
            SHANHUO_SMS_GATEWAY_URL=f"http://127.0.0.1:{self.gateway.server_address[1]}/send",
            SHANHUO_SMS_RESEND_AFTER_SECS="1",
            SHANHUO_WECHAT_OA_APPID=OfficialAccount.APPID,
            SHANHUO_WECHAT_OA_SECRET=OfficialAccount.SECRET,
            SHANHUO_WECHAT_BASE_URL=wechat,
            SHANHUO_WECHAT_AUTHORIZE_URL=f"{wechat}/connect/oauth2/authorize",
            # Thousands of requests from one address in a few minutes: no per-address limits.
            SHANHUO_ANONYMOUS_REQUESTS_PER_MINUTE="0",
            SHANHUO_LOG="warn",
        )
        self.env.pop("REDIS_URL", None)
        self.server = None

    def __enter__(self):
        threading.Thread(target=self.gateway.serve_forever, daemon=True).start()
        threading.Thread(target=self.wechat.serve_forever, daemon=True).start()
        self._cli("migrate", "up")
        self._cli(
            "users", "create-admin", "--phone", ADMIN_PHONE, "--name", "演示管理员",
            input=ADMIN_PASSWORD + "\n",
        )
        self.server = subprocess.Popen([self.binary, "serve"], env=self.env)
        try:
            self._wait_until_up()
            for phone, cli_role, area in OFFICIALS.values():
                self._cli(
                    "users", "invite", "--phone", phone, "--name", "演示干部",
                    "--role", cli_role, "--area", area,
                )
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *_):
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=30)
        self.gateway.shutdown()
        self.wechat.shutdown()

    def _cli(self, *args, input=None):
        done = subprocess.run(
            [self.binary, *args], env=self.env, input=input, text=True, capture_output=True
        )
        if done.returncode != 0:
            raise SystemExit(f"shanhuo {' '.join(args)} failed: {done.stderr}")

    def _wait_until_up(self):
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=1)
                return
            except OSError:
                if self.server.poll() is not None:
                    raise SystemExit("the server stopped while starting")
                time.sleep(0.5)
        raise SystemExit("the server did not answer within 5 minutes")

    def sms_sign_in(self, phone):
        """An access token for the phone, signed in by texted code."""
        call(self.api, "POST", "/auth/sms/send", {"phone": phone})
        code = SmsGateway.codes[phone]
        return call(self.api, "POST", "/auth/login/sms", {"phone": phone, "code": code})[
            "access_token"
        ]

    def admin_token(self):
        return call(
            self.api,
            "POST",
            "/auth/login/password",
            {"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD},
        )["access_token"]

    def description(self):
        return {
            "base": self.base,
            "gateway": f"http://127.0.0.1:{self.gateway.server_address[1]}",
            "wechat": f"http://127.0.0.1:{self.wechat.server_address[1]}",
            "wechat_farmer": WECHAT_FARMER,
            "admin": {"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD},
            "farmer": DEMO_FARMER,
            "other_farmer": OTHER_FARMER,
            "buyer": BUYER_PHONE,
            "officials": {role: phone for role, (phone, _, _) in OFFICIALS.items()},
        }


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: demo_server.py SHANHUO_BINARY")
    with DemoServer(sys.argv[1]) as demo:
        print(json.dumps(demo.description()), flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    sys.exit(main())
