#!/usr/bin/env python3
"""Fuzz the server against the committed OpenAPI document with schemathesis.

Starts the server binary on a fresh embedded database with the demo county, and a small local
SMS gateway that keeps the sign-in codes it is asked to send; signs in as each role (admin by
password, the others by SMS code, as their phones do); then runs schemathesis against
`mobile-contract/openapi.json` once anonymously and once as each role, with a bounded number of
examples per operation. Fails when any response is a 5xx or does not match the document.

Usage: contract_fuzz.py SHANHUO_BINARY [--max-examples N]
"""

import argparse
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
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "mobile-contract" / "openapi.json"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)
ADMIN_PHONE = "13800000000"
ADMIN_PASSWORD = "fuzz-admin-password-2026"
COUNTY = "500235"
DEMO_FARMER = "19900010000"
BUYER_PHONE = "13700000001"
OFFICIALS = [
    ("county_official", "13900000001", "county-official", COUNTY),
    ("village_cadre", "13900000002", "village-cadre", "500235101201"),
]


class SmsGateway(http.server.BaseHTTPRequestHandler):
    """Answers as an SMS gateway does and remembers the last code sent to each phone."""

    codes: dict = {}

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        SmsGateway.codes[body["phone"]] = body["params"]["code"]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok":true}')

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


def sms_sign_in(api, phone):
    call(api, "POST", "/auth/sms/send", {"phone": phone})
    code = SmsGateway.codes[phone]
    return call(api, "POST", "/auth/login/sms", {"phone": phone, "code": code})["access_token"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--max-examples", type=int, default=5)
    args = parser.parse_args()

    gateway = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SmsGateway)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()

    data = tempfile.mkdtemp(prefix="shanhuo-fuzz-")
    port = free_port()
    env = dict(
        os.environ,
        SHANHUO_LISTEN=f"127.0.0.1:{port}",
        SHANHUO_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        DATABASE_URL=f"sqlite://{data}/fuzz.db?mode=rwc",
        SHANHUO_DATA_DIR=data,
        SHANHUO_SMS_GATEWAY_URL=f"http://127.0.0.1:{gateway.server_address[1]}/send",
        SHANHUO_SMS_RESEND_AFTER_SECS="1",
        # Thousands of requests from one address in a few minutes: no per-address limits.
        SHANHUO_ANONYMOUS_REQUESTS_PER_MINUTE="0",
        SHANHUO_LOG="warn",
    )
    env.pop("REDIS_URL", None)
    subprocess.run([args.binary, "migrate", "up"], env=env, check=True, capture_output=True)
    admin = subprocess.run(
        [args.binary, "users", "create-admin", "--phone", ADMIN_PHONE, "--name", "测试管理员"],
        input=ADMIN_PASSWORD + "\n",
        text=True,
        env=env,
        capture_output=True,
    )
    if admin.returncode != 0:
        raise SystemExit(f"creating the admin failed: {admin.stderr}")
    server = subprocess.Popen([args.binary, "serve"], env=env)
    api = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit("the server stopped while starting")
                time.sleep(0.5)
        else:
            raise SystemExit("the server did not answer within 5 minutes")

        tokens = {
            "admin": call(
                api,
                "POST",
                "/auth/login/password",
                {"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD},
            )["access_token"]
        }
        for role, phone, cli_role, area in OFFICIALS:
            invited = subprocess.run(
                [args.binary, "users", "invite", "--phone", phone, "--name", "测试干部",
                 "--role", cli_role, "--area", area],
                env=env,
                capture_output=True,
                text=True,
            )
            if invited.returncode != 0:
                raise SystemExit(f"inviting the {role} failed: {invited.stderr}")
            tokens[role] = sms_sign_in(api, phone)
        tokens["farmer"] = sms_sign_in(api, DEMO_FARMER)
        tokens["buyer"] = sms_sign_in(api, BUYER_PHONE)
        # The least powerful first: officials change and disable accounts, which ends the
        # sessions of those whose turn would come after.
        order = ["buyer", "farmer", "village_cadre", "county_official", "admin"]

        failed = []
        for role, token in [("anonymous", None), *((r, tokens[r]) for r in order)]:
            print(f"\n==== schemathesis as {role} ====", flush=True)
            command = [
                "schemathesis", "run", str(DOCUMENT),
                "--url", api,
                "--checks", CHECKS,
                "--max-examples", str(args.max_examples),
                "--phases", "examples,coverage,fuzzing",
                "--seed", "2026",
                "--workers", "1",
                # A county's registry export is seconds of work on a debug build.
                "--request-timeout", "120",
                "--suppress-health-check", "all",
            ]
            if token:
                command += ["--header", f"Authorization: Bearer {token}"]
                # Signing out would end the session the rest of the run tests with.
                command += ["--exclude-operation-id", "logout_session"]
            if subprocess.run(command).returncode != 0:
                failed.append(role)
        if failed:
            raise SystemExit(f"schemathesis found failures as: {', '.join(failed)}")
        print("\nschemathesis: no failures for any role")
    finally:
        server.terminate()
        server.wait(timeout=30)
        gateway.shutdown()


if __name__ == "__main__":
    sys.exit(main())
