#!/usr/bin/env python3
"""Recompute every answer of the cyber-proxy suite and compare it with the stored target.

Each item has an entry in CHECKS (or BUG_FIXES for the "find the buggy line" items). The
entry recomputes the answer *from the item's own text* (the quoted payload, the fenced log
or code block, the Python expression shown), so a typo in either the prompt or the target
is caught. Exit status: 0 when every item checks out, 1 otherwise.

Usage: python3 verify.py            (run from anywhere; reads test.jsonl and dev.jsonl beside it)
"""
import base64
import json
import re
import sys
import urllib.parse
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------- text helpers
def tick(inp, n=0):
    """The n-th inline `code` span of the input (fenced blocks excluded)."""
    text = re.sub(r"```.*?```", "", inp, flags=re.S)
    spans = re.findall(r"`([^`\n]+)`", text)
    return spans[n]


def fenced(inp):
    """The content of the single fenced block of the input."""
    m = re.search(r"```\n(.*?)\n```", inp, flags=re.S)
    if m is None:
        raise ValueError("no fenced block")
    return m.group(1)


def listed(inp):
    """Lines after the first line (items that list candidate strings one per line)."""
    return inp.split("\n")[1:]


def shift_of(inp):
    return int(re.search(r"shifted every letter (\d+) place", inp).group(1))


def unshift(s, k):
    return "".join(chr((ord(c) - 65 - k) % 26 + 65) if c.isupper() else c for c in s)


def rot13(s):
    import codecs
    return codecs.decode(s, "rot13")


def atbash(s):
    alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return s.translate(str.maketrans(alpha, alpha[::-1]))


def luhn_ok(number):
    """Standard Luhn validation of a full number (check digit last)."""
    digits = [int(c) for c in number][::-1]
    total = 0
    for i, d in enumerate(digits):
        if i % 2 == 1:
            d = d * 2
            d = d - 9 if d > 9 else d
        total += d
    return total % 10 == 0


def luhn_check_digit(payload):
    hits = [d for d in range(10) if luhn_ok(payload + str(d))]
    assert len(hits) == 1
    return hits[0]


def py_expr(inp, n=0):
    """Evaluate the n-th inline code span, which must be a re.* expression."""
    expr = tick(inp, n)
    assert expr.startswith(("re.", "len(re.")), expr
    return eval(expr, {"re": re, "len": len})  # noqa: S307 - our own fixed text


def unique_top(counter):
    (top, n), *rest = counter.most_common()
    assert all(m < n for _, m in rest), f"tie in most_common: {counter}"
    return top


def b64d(s):
    return base64.b64decode(s, validate=True).decode("utf-8")


# ---------------------------------------------------------------- per-item checks
CHECKS = {
    # decode
    "cp-0001": lambda t: b64d(tick(t)),
    "cp-0002": lambda t: b64d(tick(t)),
    "cp-0003": lambda t: b64d(tick(t)),
    "cp-0004": lambda t: bytes.fromhex(tick(t)).decode("ascii"),
    "cp-0005": lambda t: bytes.fromhex(tick(t)).decode("ascii"),
    "cp-0006": lambda t: rot13(tick(t)),
    "cp-0007": lambda t: rot13(tick(t)),
    "cp-0008": lambda t: unshift(tick(t), shift_of(t)),
    "cp-0009": lambda t: unshift(tick(t), shift_of(t)),
    "cp-0010": lambda t: unshift(tick(t), shift_of(t)),
    "cp-0011": lambda t: "".join(chr(int(g, 2)) for g in tick(t).split()),
    "cp-0012": lambda t: "".join(chr(int(g)) for g in tick(t).split()),
    "cp-0013": lambda t: urllib.parse.unquote(tick(t)),
    "cp-0014": lambda t: b64d(b64d(tick(t))),
    "cp-0015": lambda t: atbash(tick(t)),
    "cp-0016": lambda t: tick(t)[::-1],
    # checksum
    "cp-0017": lambda t: sum(tick(t).encode()) % 256,
    "cp-0018": lambda t: sum(tick(t).encode()) % 256,
    "cp-0019": lambda t: sum(tick(t).encode()) % 256,
    "cp-0020": lambda t: __import__("functools").reduce(lambda a, b: a ^ b, tick(t).encode()),
    "cp-0021": lambda t: luhn_check_digit(tick(t)),
    "cp-0022": lambda t: luhn_check_digit(tick(t)),
    "cp-0023": lambda t: "yes" if luhn_ok(tick(t)) else "no",
    "cp-0024": lambda t: "yes" if luhn_ok(tick(t)) else "no",
    "cp-0025": lambda t: next(p for p in "01" if (tick(t) + p).count("1") % 2 == 0),
    "cp-0026": lambda t: next(p for p in "01" if (tick(t) + p).count("1") % 2 == 1),
    "cp-0027": lambda t: bin(int(tick(t), 16)).count("1"),
    "cp-0028": lambda t: next(c for c in range(10)
                              if (sum((10 - i) * int(d) for i, d in enumerate(tick(t))) + c) % 11 == 0),
    "cp-0029": lambda t: sum(map(int, tick(t))),
    # base
    "cp-0030": lambda t: format(int(re.search(r"decimal number (\d+)", t).group(1)), "x"),
    "cp-0031": lambda t: int(tick(t), 2),
    "cp-0032": lambda t: int(tick(t), 16),
    "cp-0033": lambda t: format(int(re.search(r"decimal number (\d+)", t).group(1)), "b"),
    "cp-0034": lambda t: int(tick(t), 8),
    "cp-0035": lambda t: format(int(re.search(r"decimal number (\d+)", t).group(1)), "o"),
    "cp-0036": lambda t: format(int(tick(t), 2), "x"),
    "cp-0037": lambda t: format(int(re.search(r"decimal number (\d+)", t).group(1)), "x"),
    "cp-0038": lambda t: int.from_bytes(bytes([int(tick(t), 16)]), "big", signed=True),
    "cp-0039": lambda t: format(int(tick(t, 0), 2) + int(tick(t, 1), 2), "b"),
    "cp-0040": lambda t: format(sum(int(x, 16) for x in tick(t).split("+")), "x"),
    # log
    "cp-0051": lambda t: unique_top(Counter(
        l.rsplit(" ", 1)[1] for l in fenced(t).splitlines() if "Failed password" in l)),
    "cp-0052": lambda t: sum(1 for l in fenced(t).splitlines() if l.split()[2] == "ERROR"),
    "cp-0053": lambda t: [l.split()[1] for l in fenced(t).splitlines() if "disk full" in l][0],
    "cp-0054": lambda t: [l.split()[1] for l in fenced(t).splitlines() if l.split()[2] == "WARN"][-1],
    "cp-0055": lambda t: len({l.split()[0] for l in fenced(t).splitlines()}),
    "cp-0056": lambda t: unique_top(Counter(
        re.search(r'" (\d{3}) ', l).group(1) for l in fenced(t).splitlines())),
    "cp-0057": lambda t: sum(int(l.split()[-1]) for l in fenced(t).splitlines()),
    "cp-0058": lambda t: sum(1 for l in fenced(t).splitlines() if '"GET /index.html ' in l),
    "cp-0059": lambda t: unique_top(Counter(
        re.search(r"user=(\w+)", l).group(1) for l in fenced(t).splitlines() if " ok " in l)),
    # regex
    "cp-0060": lambda t: sum(1 for s in listed(t) if re.fullmatch(tick(t), s)),
    "cp-0061": lambda t: py_expr(t),
    "cp-0062": lambda t: py_expr(t),
    "cp-0063": lambda t: (lambda hits: hits[0] if len(hits) == 1 else f"AMBIGUOUS {hits}")(
        [s for s in [tick(t, i) for i in range(1, 5)] if re.fullmatch(tick(t, 0), s)]),
    "cp-0064": lambda t: len(py_expr(t)),
    "cp-0065": lambda t: len(py_expr(t, 1)),
    "cp-0066": lambda t: py_expr(t),
    "cp-0067": lambda t: len(py_expr(t)),
    "cp-0068": lambda t: sum(1 for s in listed(t) if re.fullmatch(tick(t), s)),
    # dev (few-shot) items
    "cp-dev-0001": lambda t: b64d(tick(t)),
    "cp-dev-0002": lambda t: format(int(re.search(r"decimal number (\d+)", t).group(1)), "x"),
    "cp-dev-0003": lambda t: sum(tick(t).encode()) % 256,
    "cp-dev-0004": lambda t: sum(1 for l in fenced(t).splitlines() if l.split()[1] == "ERROR"),
    "cp-dev-0005": lambda t: py_expr(t),
}

# "Find the buggy line" items: (corrected line, tests). The checker runs the function as
# shown (at least one test must fail), then with only the target line replaced by the
# correction (every test must pass). This proves the target line is a line whose fix
# makes the function meet its stated specification.
BUG_FIXES = {
    "cp-0041": ("    for i in range(1, n + 1):", ["sum_to(1) == 1", "sum_to(3) == 6", "sum_to(10) == 55"]),
    "cp-0042": ("    return items[len(items) - 1]", ["last([1, 2, 3]) == 3", "last([]) is None", "last(['x']) == 'x'"]),
    "cp-0043": ("    return n % 2 == 0", ["is_even(4) is True", "is_even(7) is False", "is_even(0) is True"]),
    "cp-0044": ("    return total / len(xs)", ["average([2, 4]) == 3", "average([5]) == 5", "average([1, 2, 3]) == 2"]),
    "cp-0045": ("    result = 1", ["factorial(0) == 1", "factorial(1) == 1", "factorial(5) == 120"]),
    "cp-0046": ("        if ch in \"aeiou\":", ["count_vowels('Umbrella') == 3", "count_vowels('sky') == 0", "count_vowels('AEIOU') == 5"]),
    "cp-0047": ("    best = xs[0]", ["max_value([-5, -2, -9]) == -2", "max_value([1, 7, 3]) == 7", "max_value([4]) == 4"]),
    "cp-0048": ("    while i >= 0:", ["countdown(3) == [3, 2, 1, 0]", "countdown(0) == [0]"]),
    "cp-0049": ("    return xs[:n]", ["first_n([1, 2, 3, 4], 2) == [1, 2]", "first_n([1, 2], 0) == []", "first_n([9], 1) == [9]"]),
    "cp-0050": ("        return hi", ["clamp(5, 0, 3) == 3", "clamp(-1, 0, 3) == 0", "clamp(2, 0, 3) == 2"]),
}


def run_tests(code, tests):
    ns = {}
    try:
        exec(code, ns)  # noqa: S102 - our own fixed snippets
    except Exception:
        return False
    for test in tests:
        try:
            if not eval(test, ns):  # noqa: S307
                return False
        except Exception:
            return False
    return True


def check_bug(item):
    fix, tests = BUG_FIXES[item["id"]]
    lines = [re.sub(r"^\d+ \| ", "", l) for l in fenced(item["input"]).splitlines()]
    numbers = [int(l.split(" | ")[0]) for l in fenced(item["input"]).splitlines()]
    if numbers != list(range(1, len(lines) + 1)):
        return "line numbers are not 1..n"
    if len(lines) > 10:
        return "function longer than 10 lines"
    target = int(item["target"])
    if run_tests("\n".join(lines), tests):
        return "the buggy function passes its tests"
    fixed = list(lines)
    fixed[target - 1] = fix
    if not run_tests("\n".join(fixed), tests):
        return "the corrected function still fails"
    return None


def main():
    failures = 0
    total = 0
    seen = set()
    for name in ("test.jsonl", "dev.jsonl"):
        for lineno, raw in enumerate((HERE / name).read_text(encoding="utf-8").splitlines(), 1):
            item = json.loads(raw)
            total += 1
            iid = item["id"]
            seen.add(iid)
            meta = item["metadata"]
            if meta["answer_type"] == "number":
                int(item["target"])  # must parse as an integer
            if meta["kind"] == "bug":
                err = check_bug(item)
                if err:
                    failures += 1
                    print(f"FAIL {name}:{lineno} {iid}: {err}")
                continue
            if iid not in CHECKS:
                failures += 1
                print(f"FAIL {name}:{lineno} {iid}: no check")
                continue
            try:
                got = str(CHECKS[iid](item["input"]))
            except Exception as exc:  # report and continue
                failures += 1
                print(f"FAIL {name}:{lineno} {iid}: check raised {exc!r}")
                continue
            if got != item["target"]:
                failures += 1
                print(f"FAIL {name}:{lineno} {iid}: target {item['target']!r} but recomputed {got!r}")
    stale = (set(CHECKS) | set(BUG_FIXES)) - seen
    for iid in sorted(stale):
        failures += 1
        print(f"FAIL check for unknown item {iid}")
    print(f"cyber-proxy: {total - failures if failures <= total else 0}/{total} items verified, {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
