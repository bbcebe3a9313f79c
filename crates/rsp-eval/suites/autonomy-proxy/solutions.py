#!/usr/bin/env python3
"""Reference solutions and a solvability checker for the autonomy-proxy suite.

For every task in tasks.jsonl this script:
  1. validates the task record (fields, check kind, relative paths that stay inside the workdir);
  2. lays out the task's initial `files` in a fresh temporary directory;
  3. runs the task's check on the untouched directory, which must FAIL (a task that is already
     solved measures nothing);
  4. applies the reference solution below (a function that works only inside the directory);
  5. runs the check again, which must PASS.
Exit status: 0 when every task passes, 1 otherwise.

Check semantics (the engine implements the same rules):
  file_equals       the file at `path` exists and its text with trailing whitespace removed
                    equals `expected` with trailing whitespace removed;
  file_contains     the file at `path` exists and its text contains `expected`;
  answer_equals     the agent's final answer, stripped of surrounding whitespace, equals
                    `expected` (stripped) exactly;
  command_succeeds  `sh -c <command>` run in the workdir exits with status 0 (no network needed;
                    60 s timeout).

Usage: python3 solutions.py
"""
import csv
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
KINDS = {"file_equals", "file_contains", "answer_equals", "command_succeeds"}


# ---------------------------------------------------------------- reference solutions
# Each takes the workdir and returns the final answer text (or None when the task has none).

def ap_0001(wd):
    hits = [p.name for p in sorted((wd / "notes").iterdir()) if "MARKER-7F3" in p.read_text()]
    assert len(hits) == 1
    (wd / "answer.txt").write_text(hits[0] + "\n")


def ap_0002(wd):
    rows = csv.DictReader(io.StringIO((wd / "sales.csv").read_text()))
    (wd / "result.txt").write_text(f"{sum(int(r['amount']) for r in rows)}\n")


def ap_0003(wd):
    src = (wd / "calc.py").read_text()
    src = src.replace("def multiply(a, b):\n    return a + b", "def multiply(a, b):\n    return a * b")
    (wd / "calc.py").write_text(src)


def ap_0004(wd):
    for p in (wd / "docs").glob("*.txt"):
        p.rename(p.with_suffix(".md"))


def ap_0005(wd):
    scores = {}
    for r in csv.DictReader(io.StringIO((wd / "grades.csv").read_text())):
        scores.setdefault(r["student"], []).append(int(r["score"]))
    lines = [f"{name}: {sum(v) / len(v):.1f}" for name, v in sorted(scores.items())]
    (wd / "summary.txt").write_text("\n".join(lines) + "\n")


def ap_0006(wd):
    n = sum(1 for line in (wd / "logs/app.log").read_text().splitlines() if line.split()[2] == "ERROR")
    (wd / "errors.txt").write_text(f"{n}\n")


def ap_0007(wd):
    text = "".join((wd / f"part{i}.txt").read_text() for i in (1, 2, 3))
    (wd / "full.txt").write_text(text)


def ap_0008(wd):
    cfg = json.loads((wd / "config.json").read_text())
    cfg["debug"] = True
    cfg["version"] = 2
    cfg["features"].append("b")
    (wd / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")


def ap_0009(wd):
    return str(len((wd / "essay.txt").read_text().split()))


def ap_0010(wd):
    (wd / "pal.py").write_text(
        "def is_palindrome(s):\n"
        "    t = s.replace(\" \", \"\").lower()\n"
        "    return t == t[::-1]\n")


def ap_0011(wd):
    names = sorted(set((wd / "names.txt").read_text().split()))
    (wd / "sorted_names.txt").write_text("\n".join(names) + "\n")


def ap_0012(wd):
    for p in (wd / "guide").rglob("*.md"):
        p.write_text(p.read_text().replace("colour", "color"))


def ap_0013(wd):
    box = wd / "inbox"
    for ext, folder in ((".jpg", "images"), (".txt", "texts")):
        (box / folder).mkdir(exist_ok=True)
        for p in list(box.glob("*" + ext)):
            p.rename(box / folder / p.name)


def ap_0014(wd):
    return max((wd / "data").iterdir(), key=lambda p: p.stat().st_size).name


def ap_0015(wd):
    out = []
    for p in sorted((wd / "src").rglob("*.py")):
        for no, line in enumerate(p.read_text().splitlines(), start=1):
            m = re.search(r"#\s*TODO:\s*(.*)$", line)
            if m:
                out.append(f"{p.relative_to(wd).as_posix()}:{no}: {m.group(1)}")
    (wd / "todo.txt").write_text("\n".join(out) + "\n")


def ap_0016(wd):
    lines = (wd / "people.csv").read_text().splitlines()
    keep = [lines[0]] + [l for l in lines[1:] if l.split(",")[1] == "Lyon"]
    (wd / "lyon.csv").write_text("\n".join(keep) + "\n")


def ap_0017(wd):
    xs = [int(x) for x in (wd / "numbers.txt").read_text().split()]
    stats = {"count": len(xs), "min": min(xs), "max": max(xs), "mean": round(sum(xs) / len(xs), 2)}
    (wd / "stats.json").write_text(json.dumps(stats) + "\n")


def ap_0018(wd):
    p = wd / "pyproject.toml"
    p.write_text(p.read_text().replace('version = "1.4.2"', 'version = "1.4.3"'))
    c = wd / "CHANGELOG.md"
    c.write_text("## 1.4.3\n" + c.read_text())


def ap_0019(wd):
    return str(sum(1 for p in (wd / "project").rglob("*.py") if p.is_file()))


def ap_0020(wd):
    p = wd / "report.py"
    p.write_text(p.read_text().replace(
        'total += float(row["unit_price"])',
        'total += int(row["quantity"]) * float(row["unit_price"])'))


def ap_0021(wd):
    names = {r["id"]: r["name"] for r in csv.DictReader(io.StringIO((wd / "customers.csv").read_text()))}
    totals = {name: 0 for name in names.values()}
    for r in csv.DictReader(io.StringIO((wd / "orders.csv").read_text())):
        totals[names[r["customer_id"]]] += int(r["amount"])
    lines = ["name,total"] + [f"{n},{t}" for n, t in sorted(totals.items())]
    (wd / "totals.csv").write_text("\n".join(lines) + "\n")


def ap_0022(wd):
    p = wd / "README.md"
    p.write_text(p.read_text() + "\nLicensed under the Apache License 2.0.\n")


SOLUTIONS = {name.replace("_", "-"): fn for name, fn in globals().items() if re.fullmatch(r"ap_\d{4}", name)}


# ---------------------------------------------------------------- checker

def validate(task):
    """Return a list of problems with the task record (empty when it is well formed)."""
    problems = []
    for key in ("id", "input", "files", "check", "metadata"):
        if key not in task:
            problems.append(f"missing field {key}")
    if problems:
        return problems
    for rel in task["files"]:
        parts = Path(rel).parts
        if Path(rel).is_absolute() or ".." in parts or not parts:
            problems.append(f"unsafe path {rel!r}")
    check = task["check"]
    kind = check.get("kind")
    if kind not in KINDS:
        problems.append(f"unknown check kind {kind!r}")
    if kind in ("file_equals", "file_contains") and not ("path" in check and "expected" in check):
        problems.append("file check needs path and expected")
    if kind == "answer_equals" and "expected" not in check:
        problems.append("answer_equals needs expected")
    if kind == "command_succeeds" and "command" not in check:
        problems.append("command_succeeds needs command")
    if "path" in check and (Path(check["path"]).is_absolute() or ".." in Path(check["path"]).parts):
        problems.append("unsafe check path")
    meta = task["metadata"]
    if not isinstance(meta.get("kind"), str) or not isinstance(meta.get("steps"), int) or meta["steps"] < 1:
        problems.append("metadata needs kind (str) and steps (int >= 1)")
    return problems


def setup(wd, files):
    for rel, content in files.items():
        p = wd / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content, encoding="utf-8")


def run_check(check, wd, answer):
    kind = check["kind"]
    if kind in ("file_equals", "file_contains"):
        p = wd / check["path"]
        if not p.is_file():
            return False
        text = p.read_text(encoding="utf-8")
        if kind == "file_equals":
            return text.rstrip() == check["expected"].rstrip()
        return check["expected"] in text
    if kind == "answer_equals":
        return answer is not None and answer.strip() == check["expected"].strip()
    if kind == "command_succeeds":
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}
        proc = subprocess.run(["sh", "-c", check["command"]], cwd=wd, env=env,
                              capture_output=True, timeout=60)
        return proc.returncode == 0
    raise ValueError(kind)


def main():
    tasks = [json.loads(l) for l in (HERE / "tasks.jsonl").read_text(encoding="utf-8").splitlines()]
    failures = 0
    ids = [t.get("id") for t in tasks]
    if len(ids) != len(set(ids)):
        print("FAIL duplicate task ids")
        failures += 1
    for task in tasks:
        tid = task.get("id")
        problems = validate(task)
        if tid not in SOLUTIONS:
            problems.append("no reference solution")
        if problems:
            failures += 1
            print(f"FAIL {tid}: {'; '.join(problems)}")
            continue
        with tempfile.TemporaryDirectory(prefix=f"rsp-{tid}-") as tmp:
            wd = Path(tmp)
            setup(wd, task["files"])
            if run_check(task["check"], wd, None if task["check"]["kind"] == "answer_equals" else ""):
                failures += 1
                print(f"FAIL {tid}: check already passes before any work")
                continue
            answer = SOLUTIONS[tid](wd)
            if not run_check(task["check"], wd, answer):
                failures += 1
                print(f"FAIL {tid}: check fails after the reference solution")
                continue
            print(f"ok   {tid} ({task['check']['kind']}, {task['metadata']['kind']})")
    stale = set(SOLUTIONS) - set(ids)
    for tid in sorted(stale):
        failures += 1
        print(f"FAIL solution for unknown task {tid}")
    print(f"autonomy-proxy: {len(tasks) - min(failures, len(tasks))}/{len(tasks)} tasks solvable, "
          f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
