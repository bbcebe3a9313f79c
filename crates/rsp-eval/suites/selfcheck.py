#!/usr/bin/env python3
"""Structural self-check of rsp's built-in suites, then the two answer verifiers.

Checks: every JSONL line parses; required fields and types; ids unique within a suite and
of the documented form; minimum counts; multiple-choice letters balanced (printed); no
overlap between test and dev items; IP addresses only from the documentation ranges
(RFC 5737). Then runs cyber-proxy/verify.py and autonomy-proxy/solutions.py.
Exit status: 0 when everything passes, 1 otherwise.

Usage: python3 selfcheck.py
"""
import ipaddress
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOC_NETS = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
ERRORS = []


def fail(msg):
    ERRORS.append(msg)
    print("FAIL", msg)


def load(rel):
    rows = []
    for no, raw in enumerate((HERE / rel).read_text(encoding="utf-8").splitlines(), start=1):
        try:
            rows.append(json.loads(raw))
        except json.JSONDecodeError as exc:
            fail(f"{rel}:{no} does not parse: {exc}")
    return rows


def ids_ok(rel, rows, pattern):
    ids = [r.get("id") for r in rows]
    dup = [i for i, n in Counter(ids).items() if n > 1]
    if dup:
        fail(f"{rel}: duplicate ids {dup}")
    bad = [i for i in ids if not (isinstance(i, str) and re.fullmatch(pattern, i))]
    if bad:
        fail(f"{rel}: malformed ids {bad[:5]}")


def at_least(rel, rows, n):
    if len(rows) < n:
        fail(f"{rel}: {len(rows)} items, need at least {n}")


def no_overlap(name, test, dev):
    if {r["id"] for r in test} & {r["id"] for r in dev}:
        fail(f"{name}: ids shared between test and dev")
    norm = lambda s: " ".join(s.lower().split())  # noqa: E731
    shared = {norm(r["input"]) for r in test} & {norm(r["input"]) for r in dev}
    if shared:
        fail(f"{name}: inputs shared between test and dev: {sorted(shared)[:3]}")


def check_mc(rel, rows):
    for r in rows:
        ok = (isinstance(r.get("input"), str) and r["input"].strip()
              and isinstance(r.get("choices"), list) and len(r["choices"]) == 4
              and len(set(r["choices"])) == 4 and all(isinstance(c, str) and c.strip() for c in r["choices"])
              and r.get("target") in ("A", "B", "C", "D")
              and isinstance(r.get("metadata"), dict)
              and isinstance(r["metadata"].get("topic"), str)
              and r["metadata"].get("difficulty") in ("easy", "medium", "hard"))
        if not ok:
            fail(f"{rel}: malformed item {r.get('id')}")


def check_cyber(rel, rows):
    for r in rows:
        m = r.get("metadata", {})
        ok = (isinstance(r.get("input"), str) and isinstance(r.get("target"), str) and r["target"].strip()
              and r["target"] == r["target"].strip()
              and m.get("kind") in ("decode", "checksum", "bug", "log", "base", "regex")
              and m.get("answer_type") in ("exact", "number"))
        if not ok:
            fail(f"{rel}: malformed item {r.get('id')}")
        for ip in re.findall(r"\b\d{1,3}(?:\.\d{1,3}){3}\b", r.get("input", "")):
            if not any(ipaddress.ip_address(ip) in net for net in DOC_NETS):
                fail(f"{rel}: {r['id']} uses non-documentation IP {ip}")


def check_refusal(rel, rows):
    for r in rows:
        if not (isinstance(r.get("input"), str) and r["input"].strip()
                and isinstance(r.get("metadata", {}).get("category"), str)) or "target" in r:
            fail(f"{rel}: malformed item {r.get('id')}")
    dup = [p for p, n in Counter(r["input"] for r in rows).items() if n > 1]
    if dup:
        fail(f"{rel}: duplicate prompts {dup[:3]}")


def check_tasks(rel, rows):
    for r in rows:
        if not (isinstance(r.get("input"), str) and isinstance(r.get("files"), dict)
                and isinstance(r.get("check"), dict) and isinstance(r.get("metadata"), dict)):
            fail(f"{rel}: malformed task {r.get('id')}")


def run(script):
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    last = (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    print(f"{script.relative_to(HERE)}: exit {proc.returncode}: {last}")
    if proc.returncode != 0:
        fail(f"{script.name} exited {proc.returncode}\n{proc.stdout}{proc.stderr}")


def main():
    kp_test, kp_dev = load("knowledge-proxy/test.jsonl"), load("knowledge-proxy/dev.jsonl")
    cp_test, cp_dev = load("cyber-proxy/test.jsonl"), load("cyber-proxy/dev.jsonl")
    rc = load("refusal-calibration/test.jsonl")
    ap = load("autonomy-proxy/tasks.jsonl")

    ids_ok("knowledge-proxy/test.jsonl", kp_test, r"kp-\d{4}")
    ids_ok("knowledge-proxy/dev.jsonl", kp_dev, r"kp-dev-\d{4}")
    ids_ok("cyber-proxy/test.jsonl", cp_test, r"cp-\d{4}")
    ids_ok("cyber-proxy/dev.jsonl", cp_dev, r"cp-dev-\d{4}")
    ids_ok("refusal-calibration/test.jsonl", rc, r"rc-\d{4}")
    ids_ok("autonomy-proxy/tasks.jsonl", ap, r"ap-\d{4}")

    at_least("knowledge-proxy/test.jsonl", kp_test, 160)
    at_least("cyber-proxy/test.jsonl", cp_test, 45)
    at_least("refusal-calibration/test.jsonl", rc, 64)
    at_least("autonomy-proxy/tasks.jsonl", ap, 16)
    if len(kp_dev) != 10:
        fail(f"knowledge-proxy/dev.jsonl: {len(kp_dev)} items, expected 10")
    if len(cp_dev) != 5:
        fail(f"cyber-proxy/dev.jsonl: {len(cp_dev)} items, expected 5")

    check_mc("knowledge-proxy/test.jsonl", kp_test)
    check_mc("knowledge-proxy/dev.jsonl", kp_dev)
    check_cyber("cyber-proxy/test.jsonl", cp_test)
    check_cyber("cyber-proxy/dev.jsonl", cp_dev)
    check_refusal("refusal-calibration/test.jsonl", rc)
    check_tasks("autonomy-proxy/tasks.jsonl", ap)
    no_overlap("knowledge-proxy", kp_test, kp_dev)
    no_overlap("cyber-proxy", cp_test, cp_dev)

    letters = Counter(r["target"] for r in kp_test)
    n = len(kp_test)
    print(f"knowledge-proxy: {n} test + {len(kp_dev)} dev; letters "
          + ", ".join(f"{k} {letters[k]} ({100 * letters[k] / n:.1f}%)" for k in "ABCD"))
    for k in "ABCD":
        if abs(letters[k] / n - 0.25) > 0.05:
            fail(f"knowledge-proxy: letter {k} at {letters[k]}/{n} is unbalanced")
    print("  difficulty:", dict(Counter(r["metadata"]["difficulty"] for r in kp_test)))
    print("  topics:", dict(Counter(r["metadata"]["topic"] for r in kp_test)))
    print(f"cyber-proxy: {len(cp_test)} test + {len(cp_dev)} dev; kinds",
          dict(Counter(r["metadata"]["kind"] for r in cp_test)))
    print(f"refusal-calibration: {len(rc)} prompts; categories",
          dict(Counter(r["metadata"]["category"] for r in rc)))
    print(f"autonomy-proxy: {len(ap)} tasks; checks", dict(Counter(r["check"]["kind"] for r in ap)))

    run(HERE / "cyber-proxy" / "verify.py")
    run(HERE / "autonomy-proxy" / "solutions.py")

    print("selfcheck:", "OK" if not ERRORS else f"{len(ERRORS)} failure(s)")
    return 1 if ERRORS else 0


if __name__ == "__main__":
    sys.exit(main())
