#!/usr/bin/env python3
"""Fuzz the server against the committed OpenAPI document with schemathesis.

Starts the server on its demo county (`demo_server.py`); signs in as each role (admin by
password, the others by SMS code, as their phones do); then runs schemathesis against
`mobile-contract/openapi.json` once anonymously and once as each role, with a bounded number of
examples per operation, every check schemathesis has (`--checks all`: no 5xx, statuses,
types, headers and bodies as documented, data the document allows accepted and data it forbids
refused, `Allow` on 405, authentication not ignored) and the examples, coverage and fuzzing
phases. Its settings beyond the command line are in `schemathesis.toml` beside this script.
Fails when any check fails for any role.

Usage: contract_fuzz.py SHANHUO_BINARY [--max-examples N]
"""

import argparse
import subprocess
import sys
from pathlib import Path

from demo_server import BUYER_PHONE, DEMO_FARMER, OFFICIALS, DemoServer

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "mobile-contract" / "openapi.json"
CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--max-examples", type=int, default=5)
    args = parser.parse_args()

    with DemoServer(args.binary) as demo:
        tokens = {"admin": demo.admin_token()}
        for role, (phone, _, _) in OFFICIALS.items():
            tokens[role] = demo.sms_sign_in(phone)
        tokens["farmer"] = demo.sms_sign_in(DEMO_FARMER)
        tokens["buyer"] = demo.sms_sign_in(BUYER_PHONE)
        # The least powerful first: officials change and disable accounts, which ends the
        # sessions of those whose turn would come after.
        order = [
            "buyer", "farmer", "village_cadre", "township_official", "county_official", "admin",
        ]

        failed = []
        for role, token in [("anonymous", None), *((r, tokens[r]) for r in order)]:
            print(f"\n==== schemathesis as {role} ====", flush=True)
            command = [
                "schemathesis", "--config-file", str(CONFIG), "run", str(DOCUMENT),
                "--url", demo.api,
                "--checks", "all",
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


if __name__ == "__main__":
    sys.exit(main())
