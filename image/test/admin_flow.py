#!/usr/bin/env python3
"""Drives the admin API (docs/admin-api.md) from the host, as the web UI would.

  admin_flow.py probe URL                 -> prints "present" or "absent"
  admin_flow.py setup URL SETUP_CODE      -> first-run setup, cloud sign-in, registration
  admin_flow.py check URL                 -> after a reboot: still set up and registered
  admin_flow.py kerberos URL KEYTAB SID   -> keytab upload, the group SID authorized (exchange)
  admin_flow.py reboot URL                -> sign in and ask the appliance to restart (202)
Exits non-zero with the API's error on failure."""
import http.cookiejar
import json
import ssl
import sys
import urllib.error
import urllib.request

ADMIN_USER = "admin"
ADMIN_PASSWORD = "appliance-test-Passw0rd!"
# The stand-in's built-in tenant administrator (as in tests/demo.sh).
CLOUD_USER = "admin@contoso.test"
CLOUD_PASSWORD = "Adm1n&<>\"'pass"
CONNECTOR_NAME = "rmsconnector.contoso.test"


class Api:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        context = ssl.create_default_context()
        # The appliance's admin certificate is self-signed until one is uploaded.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context),
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = ""

    def call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("content-type", "application/json")
        if self.csrf:
            request.add_header("x-csrf-token", self.csrf)
        try:
            with self.opener.open(request, timeout=60) as response:
                text = response.read().decode() or "null"
                return response.status, json.loads(text)
        except urllib.error.HTTPError as error:
            text = error.read().decode() or "null"
            try:
                return error.code, json.loads(text)
            except json.JSONDecodeError:
                return error.code, {"error": "non_json", "message": text[:200]}

    def upload(self, path: str, data: bytes):
        request = urllib.request.Request(self.base + path, data=data, method="PUT")
        request.add_header("content-type", "application/octet-stream")
        request.add_header("x-csrf-token", self.csrf)
        try:
            with self.opener.open(request, timeout=60) as response:
                return json.loads(response.read().decode() or "null")
        except urllib.error.HTTPError as error:
            raise SystemExit(f"PUT {path}: {error.code} {error.read().decode()[:300]}")

    def login(self):
        answer = self.must("POST", "/api/v1/session",
                           {"username": ADMIN_USER, "password": ADMIN_PASSWORD})
        self.csrf = answer.get("csrf_token", "")

    def must(self, method: str, path: str, body=None):
        status, answer = self.call(method, path, body)
        if status >= 300:
            raise SystemExit(f"{method} {path}: {status} {answer}")
        return answer


def main() -> int:
    action, base = sys.argv[1], sys.argv[2]
    api = Api(base)
    if action == "probe":
        try:
            status, _ = api.call("GET", "/api/v1/session")
            print("present" if status < 500 else "absent")
        except OSError:
            print("absent")
        return 0
    if action == "setup":
        answer = api.must("POST", "/api/v1/setup", {
            "setup_code": sys.argv[3], "username": ADMIN_USER, "password": ADMIN_PASSWORD})
        api.csrf = answer.get("csrf_token", "")
        api.must("POST", "/api/v1/signin/password",
                 {"username": CLOUD_USER, "password": CLOUD_PASSWORD})
        status = api.must("POST", "/api/v1/registration", {"connector_name": CONNECTOR_NAME})
        print(json.dumps(status)[:300])
        return 0
    if action == "check":
        session = api.must("GET", "/api/v1/session")
        if session.get("state") == "setup_required":
            raise SystemExit("the admin password was lost: setup is required again")
        api.login()
        status = api.must("GET", "/api/v1/status")
        text = json.dumps(status)
        if CONNECTOR_NAME not in text:
            raise SystemExit(f"registration lost after reboot: {text[:300]}")
        print("kept: signed in again and still registered")
        return 0
    if action == "kerberos":
        keytab, sid = sys.argv[3], sys.argv[4]
        api.login()
        with open(keytab, "rb") as f:
            status = api.upload("/api/v1/keytab", f.read())
        if not status.get("active"):
            raise SystemExit(f"keytab stored but not active: {status}")
        api.must("POST", "/api/v1/authorized", {
            "account": "CONTOSO\\Exchange Servers", "sid": sid, "kind": "group",
            "role": "exchange"})
        print(f"keytab {status.get('principal')} kvno {status.get('kvno')}; Exchange Servers authorized")
        return 0
    if action == "reboot":
        api.login()
        status, answer = api.call("POST", "/api/v1/maintenance/reboot")
        if status != 202:
            raise SystemExit(f"POST /api/v1/maintenance/reboot: {status} {answer}")
        print("reboot accepted (202)")
        return 0
    raise SystemExit(f"unknown action {action}")


if __name__ == "__main__":
    sys.exit(main())
