"""Puts the sample city's two rounds on a fresh `enrol serve --dev`, so that
Schemathesis reaches real rounds and applications, not only 404s:
2027-primary run to publication (reviews left unplaced), 2027-junior left open
with its applications. Usage: setup.py ORIGIN (the repository's root as cwd).
Standard library only."""

import json
import sys
import time
import urllib.request

ORIGIN = sys.argv[1]
OFFICER = {"Authorization": "Bearer dev-officer-token"}
APP_KEY = "dev-app-key"
SAMPLE = "fixtures/cities/sample"


def call(method, path, body=None, headers=None, expect=(200,)):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(ORIGIN + path, data=data, method=method)
    for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            status, text = answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    if status not in expect:
        sys.exit(f"setup: {method} {path} answered {status}: {text}")
    return json.loads(text) if text else None


def open_round(policy, applications):
    with open(policy, encoding="utf-8") as f:
        round_id = call("POST", "/v1/rounds", {"policy_toml": f.read(), "round_seed": "schemathesis"},
                        OFFICER, expect=(201,))["id"]
    with open(applications, encoding="utf-8") as f:
        for line in f:
            app = json.loads(line)
            call("POST", "/v1/applications", app,
                 {"X-Api-Key": APP_KEY, "X-Citizen-Id": app["applicant_id"]}, expect=(201,))
    return round_id


primary = open_round("fixtures/policies/2027-primary.toml", f"{SAMPLE}/applications.jsonl")
open_round("fixtures/policies/2027-junior.toml", f"{SAMPLE}/applications-junior.jsonl")

call("POST", f"/v1/rounds/{primary}/close", headers=OFFICER)
call("POST", f"/v1/rounds/{primary}/verify", {"leave_reviews_unplaced": True}, OFFICER, expect=(202,))
deadline = time.monotonic() + 120
while call("GET", f"/v1/rounds/{primary}", headers=OFFICER)["state"] != "verified":
    if time.monotonic() > deadline:
        sys.exit(f"setup: {primary} not verified after 120 s")
    time.sleep(0.5)
call("POST", f"/v1/rounds/{primary}/allocate", headers=OFFICER)
call("POST", f"/v1/rounds/{primary}/publish", headers=OFFICER)
print(f"setup: {primary} published, 2027-junior open")
