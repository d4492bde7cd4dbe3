"""Schemathesis hooks for the enrol API (docs/api.md, "What the schema cannot say").

The OpenAPI document says what JSON Schema can say. A few rules of the server
it cannot: each is listed in docs/api.md, and here each is handled in one of
two ways, preferring the first:

1. Generated data is made valid for the rule, in positive mode only (negative
   data is left as generated): a national ID gets a birth date that exists and
   its check character; `round` names a round that was opened; a policy file
   is a real one; `applicant_id` is the signed-in citizen.
2. A "schema-valid request rejected" failure is dropped only when the server's
   422 names a field and reason listed in RULES below: rules that depend on
   what is stored (a sealed seed matches the commitment made when the round
   was opened) or formats this document does not repeat (a corrected registry
   record's own shape, registries.md).

Nothing else is filtered: every other failure of the checks fails the run.
"""

import calendar
import hashlib
import json
import os
import re
import sys

import schemathesis

# As in the OpenAPI document's `NationalId`.
NATIONAL_ID = re.compile(r"^[0-9]{6}(18|19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]$")
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"

# The rounds .ci/schemathesis/setup.py opened, and the citizen of schemathesis.toml.
ROUNDS = ["2027-primary", "2027-junior"]
CITIZEN = "37081119880501303X"
POLICY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "policies", "2027-junior.toml")


def real_national_id(value):
    """The ID with its day moved into its month and its check character computed."""
    year, month, day = int(value[6:10]), int(value[10:12]), int(value[12:14])
    day = min(day, calendar.monthrange(year, month)[1])
    first17 = f"{value[:12]}{day:02d}{value[14:17]}"
    return first17 + CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


def real_ids(value):
    """Every string the schema's NationalId pattern matches, made a real ID."""
    if isinstance(value, str):
        return real_national_id(value) if NATIONAL_ID.match(value) else value
    if isinstance(value, list):
        return [real_ids(v) for v in value]
    if isinstance(value, dict):
        return {k: real_ids(v) for k, v in value.items()}
    return value


def pick(choices, seed):
    """One of `choices`, chosen by the generated value it replaces (so the run stays reproducible)."""
    digest = hashlib.sha256(json.dumps(seed, sort_keys=True, default=str).encode()).digest()
    return choices[digest[0] % len(choices)]


def policy_for(generated):
    """A real policy file (the junior fixture) under a round id drawn from the generated text."""
    with open(POLICY, encoding="utf-8") as f:
        text = f.read()
    round_id = "st-" + hashlib.sha256(generated.encode()).hexdigest()[:12]
    return text.replace('id = "2027-junior"', f'id = "{round_id}"', 1)


@schemathesis.hook
def map_case(context, case):
    meta = case.meta
    if meta is not None and meta.generation.mode.is_positive:
        made_valid(case)
    return case


@schemathesis.hook
def before_add_examples(context, examples):
    """The schema's examples are positive data too (the examples phase applies no `map_case`)."""
    for case in examples:
        made_valid(case)


def made_valid(case):
    """`case` with the rules of the module's docstring kept (1.), in place."""
    path, method = case.operation.path, case.method.upper()
    if isinstance(case.query, dict) and "person" in case.query:
        case.query = real_ids(case.query)
    if isinstance(case.body, dict):
        body = real_ids(case.body)
        if path in ("/v1/applications", "/v1/prechecks") and "round" in body:
            body["round"] = pick(ROUNDS, body["round"])
        if path == "/v1/applications" and method == "POST":
            body["applicant_id"] = CITIZEN
        if path == "/v1/rounds" and method == "POST" and isinstance(body.get("policy_toml"), str):
            body["policy_toml"] = policy_for(body["policy_toml"])
        case.body = body


# (method, path, field of the 422 problem, words of its detail): each a rule of
# docs/api.md's "What the schema cannot say" that generated data cannot be made
# to keep.
RULES = [
    # Whether a reveal is needed, and whether it matches, depends on how the
    # round was opened.
    ("POST", "/v1/rounds/{round}/allocate", "sealed_seed", "does not match the commitment"),
    ("POST", "/v1/rounds/{round}/allocate", "sealed_seed", "took its seed whole"),
    ("POST", "/v1/rounds/{round}/allocate", "sealed_seed", "a live round needs"),
    # A corrected record is in its registry's own format (registries.md).
    ("POST", "/v1/rounds/{round}/applications/{application_id}/replay", "records", ""),
]


def problem_of(response):
    try:
        return json.loads(response.content)
    except (ValueError, TypeError):
        return {}


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """False (drop it) only for a schema-valid request refused under one of RULES."""
    if type(failure).__name__ != "RejectedPositiveData" or response.status_code != 422:
        return True
    problem = problem_of(response)
    for method, path, field, words in RULES:
        if (
            case.method.upper() == method
            and case.operation.path == path
            and problem.get("field") == field
            and words in (problem.get("detail") or "")
        ):
            print(f"dropped as docs/api.md says: {method} {path}: 422 {field}", file=sys.stderr)
            return False
    return True
