"""ecr-lint benchmark harness (not a test): generates synthetic inputs, times ecr-lint
(cold and warm cache) against checkov on them, prints a table and writes bench/RESULTS.md.

    .venv/bin/python bench/run.py                     # full run (~15-20 min on 2 cores)
    .venv/bin/python bench/run.py --quick             # 1 run of everything
    .venv/bin/python bench/run.py --sizes 1,100 --plan-sizes 1000 --no-checkov

See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
VENV_BIN = os.path.dirname(os.path.abspath(sys.executable))
ECR_LINT = os.path.join(VENV_BIN, "ecr-lint")
CHECKOV_SPEC = "checkov==3.3.30"       # pinned: the version `pip install "checkov==3.*"` gave on 2026-11-26
BIG_STACKS = 1000                      # inputs this large or larger get --checkov-big-runs runs of checkov
BIG_PLAN = 10000


def rel(path: str) -> str:
    try:
        return os.path.relpath(path, ROOT)
    except ValueError:
        return path


# ---------------------------------------------------------------------------- measuring
@dataclass
class Run:
    wall: float
    peak_kb: int
    cpu: float
    rc: int
    ok: bool
    note: str = ""


@dataclass
class Measure:
    input: str
    tool: str
    mode: str
    command: str
    runs: list[Run] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def good(self) -> list[Run]:
        return [r for r in self.runs if r.ok]

    @property
    def wall(self) -> float | None:
        return statistics.median(r.wall for r in self.good) if self.good else None

    @property
    def peak_mb(self) -> float | None:
        return statistics.median(r.peak_kb for r in self.good) / 1024 if self.good else None

    @property
    def cpu(self) -> float | None:
        return statistics.median(r.cpu for r in self.good) if self.good else None


# The measured command is started by this small launcher, not by the harness: a process's
# ru_maxrss counts the memory of the process it was forked from (Linux keeps the high-water
# mark across exec), so forking the tool from the harness (100+ MB after generating plans)
# would put a floor of the harness's size under every peak. The launcher is ~10 MB.
LAUNCHER = r"""
import json, os, sys, time
stats, cmd = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(cmd[0], cmd)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(stats, "w") as handle:
    json.dump({"wall": wall, "maxrss": ru.ru_maxrss, "cpu": ru.ru_utime + ru.ru_stime,
               "rc": os.waitstatus_to_exitcode(status)}, handle)
"""


LOADS: list[float] = []    # 1-min load average before each measured run


def timed(cmd: list[str], env: dict | None = None, stdout_path: str | None = None,
          timeout: float = 1800) -> tuple[float, int, float, int, str]:
    """Run CMD; return (wall s, peak RSS KB of the largest process in its tree, user+sys s, exit
    code, stderr tail). Peak RSS and CPU are the wait4() rusage of the command's process (its
    waited-for children included), taken by LAUNCHER."""
    LOADS.append(os.getloadavg()[0])
    base = stdout_path or os.path.join(BENCH, ".work", "last")
    stats, err_path = base + ".stats", base + ".stderr"
    if os.path.exists(stats):
        os.remove(stats)
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    with open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", LAUNCHER, stats, *cmd], stdout=out,
                                stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=ROOT, start_new_session=True)
        try:
            proc.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            timed_out = True
        outer = time.perf_counter() - start
    if stdout_path:
        out.close()
    with open(err_path, "rb") as handle:
        tail = handle.read()[-600:].decode("utf-8", "replace").strip()
    try:
        with open(stats) as handle:
            st = json.load(handle)
    except (OSError, ValueError):
        st = {"wall": outer, "maxrss": 0, "cpu": 0.0, "rc": proc.returncode}
    if timed_out:
        return outer, 0, 0.0, -9, f"timed out after {timeout:.0f} s. {tail}"
    return st["wall"], st["maxrss"], st["cpu"], st["rc"], tail


def tool_env(**extra: str) -> dict:
    """Environment of every measured command: byte code is cached (in bench/.work/pycache, not in
    the source tree) even when the caller sets PYTHONDONTWRITEBYTECODE, as it would be after a
    pip install; otherwise each run would recompile ecr-lint's modules (~70 ms)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = os.path.join(BENCH, ".work", "pycache")
    env.update(extra)
    return env


def log(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------------------- environment
def machine() -> dict:
    info = {"cpu": "?", "cores": os.cpu_count(), "usable cores": len(os.sched_getaffinity(0)), "ram": "?"}
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal"):
                    info["ram"] = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    info["python"] = platform.python_version()
    info["os"] = f"{platform.system()} {platform.release()}"
    return info


def pkg_version(python: str, dist: str) -> str:
    code = f"import importlib.metadata as m\ntry: print(m.version({dist!r}))\nexcept Exception: print('absent')"
    res = subprocess.run([python, "-c", code], capture_output=True, text=True)
    return res.stdout.strip() or "?"


def ensure_checkov(work: str, spec: str) -> tuple[str | None, str]:
    """Create or reuse work/checkov-venv (checkov must not share ecr-lint's venv: it vendors a
    fork of the HCL parser). Returns (checkov path or None, version or why unavailable)."""
    venv = os.path.join(work, "checkov-venv")
    exe = os.path.join(venv, "bin", "checkov")
    wanted = spec.split("==", 1)[1] if "==" in spec and "*" not in spec else None
    if os.path.exists(exe):
        have = pkg_version(os.path.join(venv, "bin", "python"), "checkov")
        if wanted is None or have == wanted:
            return exe, have
        log(f"checkov-venv has checkov {have}, want {wanted}: reinstalling")
    log(f"creating {rel(venv)} and installing {spec} (a few minutes)")
    logf = os.path.join(work, "checkov-install.log")
    with open(logf, "w") as handle:
        steps = [[sys.executable, "-m", "venv", "--clear", venv],
                 [os.path.join(venv, "bin", "python"), "-m", "pip", "install", "-q", "--upgrade", "pip"],
                 [os.path.join(venv, "bin", "python"), "-m", "pip", "install", "-q", spec]]
        for step in steps:
            if subprocess.run(step, stdout=handle, stderr=subprocess.STDOUT).returncode != 0:
                return None, f"install failed: see {rel(logf)}"
    if not os.path.exists(exe):
        return None, "install produced no checkov executable"
    return exe, pkg_version(os.path.join(venv, "bin", "python"), "checkov")


def git_state() -> str:
    """HEAD, and whether the code being measured (ecr_lint/, rules/, pyproject.toml) has local changes."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          cwd=ROOT).stdout.strip() or "?"
    changed = subprocess.run(["git", "status", "--porcelain", "--", "ecr_lint", "rules", "pyproject.toml"],
                             capture_output=True, text=True, cwd=ROOT).stdout.splitlines()
    return f"{head} + {len(changed)} uncommitted file(s) under ecr_lint/, rules/" if changed else head


def lint_options() -> tuple[list[str], list[str]]:
    """Extra ecr-lint options this version supports (--jobs), and notes about it."""
    res = subprocess.run([ECR_LINT, "lint", "--help"], capture_output=True, text=True)
    extra, notes = [], []
    if "--jobs" in res.stdout:
        extra += ["--jobs", str(len(os.sched_getaffinity(0)))]
        notes.append(f"`--jobs {len(os.sched_getaffinity(0))}` passed (one per usable core).")
    else:
        notes.append("`ecr-lint lint` has no `--jobs` option in this version: runs are single-process.")
    if "--no-cache" in res.stdout or "--cache" in res.stdout:
        notes.append("ecr-lint has cache options; cold = fresh empty `XDG_CACHE_HOME`, not `--no-cache`.")
    else:
        notes.append("ecr-lint has no cache option in this version (`--no-cache` missing).")
    return extra, notes


# ---------------------------------------------------------------------------- the tools
def dir_stats(path: str) -> tuple[int, int]:
    files = size = 0
    for dirpath, _dirs, names in os.walk(path):
        for name in names:
            files += 1
            size += os.path.getsize(os.path.join(dirpath, name))
    return files, size


def check_ecr_output(path: str, rc: int, tail: str) -> tuple[bool, str]:
    if rc not in (0, 1):
        return False, f"exit {rc}: {tail[-300:]}"
    try:
        with open(path) as handle:
            summary = json.load(handle)["summary"]
    except Exception as exc:  # noqa: BLE001
        return False, f"exit {rc} but unreadable JSON report: {exc}"
    note = (f"exit {rc}; {summary.get('stacks')} stacks, {summary.get('failed')} failed / "
            f"{summary.get('passed')} passed / {summary.get('unknown')} unknown")
    if summary.get("errors"):
        note += f"; {summary['errors']} INPUT ERRORS"
    return True, note


def check_checkov_output(path: str, rc: int, tail: str) -> tuple[bool, str]:
    if rc not in (0, 1):
        return False, f"exit {rc}: {tail[-300:]}"
    try:
        with open(path) as handle:
            data = json.load(handle)
    except Exception as exc:  # noqa: BLE001
        return False, f"exit {rc} but unreadable JSON: {exc}"
    reports = data if isinstance(data, list) else [data]
    summary = {k: sum(int(r.get("summary", {}).get(k, 0) or 0) for r in reports)
               for k in ("passed", "failed", "parsing_errors", "resource_count")}
    if not summary["resource_count"] or not (summary["passed"] + summary["failed"]):
        return False, f"exit {rc} but checkov scanned nothing: {summary}"
    note = (f"exit {rc}; {summary['resource_count']} resources, {summary['failed']} failed / "
            f"{summary['passed']} passed")
    if summary["parsing_errors"]:
        note += f"; {summary['parsing_errors']} PARSING ERRORS"
    return True, note


def bench_ecr(name: str, target: str, reps: int, extra: list[str], work: str, timeout: float) -> list[Measure]:
    base = [ECR_LINT, "lint", target, "--format", "json", *extra]
    shown = shlex.join([rel(ECR_LINT), "lint", rel(target), *base[3:]]) + " > report.json"
    cold = Measure(name, "ecr-lint", "cold", "XDG_CACHE_HOME=<fresh empty dir> " + shown)
    warm = Measure(name, "ecr-lint", "warm", "XDG_CACHE_HOME=<the cold run's dir> " + shown)
    for rep in range(reps):
        cache = os.path.join(work, "cache", f"{name}-{rep}")
        shutil.rmtree(cache, ignore_errors=True)
        os.makedirs(cache)
        env = tool_env(XDG_CACHE_HOME=cache)
        for measure in (cold, warm):
            out = os.path.join(work, "out", f"ecr-{name}-{measure.mode}.json")
            wall, peak, cpu, rc, tail = timed(base, env, out, timeout)
            ok, note = check_ecr_output(out, rc, tail)
            measure.runs.append(Run(wall, peak, cpu, rc, ok, note))
            log(f"  ecr-lint {measure.mode:4} {name:14} run {rep + 1}/{reps}: {wall:7.2f} s "
                f"{peak / 1024:7.1f} MB  {note}")
        files, size = dir_stats(cache)
        if rep == 0:
            cold.notes.append(f"cache after the cold run: {files} files, {size / 1024:.0f} KiB"
                              + (" (ecr-lint wrote no cache: warm = cold + OS page cache)" if not files else ""))
    return [cold, warm]


def bench_checkov(name: str, target: str, is_plan: bool, reps: int, checkov: str, work: str,
                  timeout: float) -> Measure:
    flag, framework = ("-f", "terraform_plan") if is_plan else ("-d", "terraform")
    cmd = [checkov, flag, target, "--framework", framework, "--quiet", "--compact", "-o", "json", "--skip-download"]
    measure = Measure(name, "checkov", "-", shlex.join([rel(checkov), flag, rel(target), *cmd[3:]]) + " > report.json")
    out = os.path.join(work, "out", f"checkov-{name}.json")
    for rep in range(reps):
        wall, peak, cpu, rc, tail = timed(cmd, tool_env(), out, timeout)
        ok, note = check_checkov_output(out, rc, tail)
        measure.runs.append(Run(wall, peak, cpu, rc, ok, note))
        log(f"  checkov       {name:14} run {rep + 1}/{reps}: {wall:7.2f} s {peak / 1024:7.1f} MB  {note}")
    return measure


def bench_version(reps: int) -> Measure:
    measure = Measure("-", "ecr-lint", "--version", f"{rel(ECR_LINT)} --version")
    for rep in range(reps):
        wall, peak, cpu, rc, tail = timed([ECR_LINT, "--version"], tool_env())
        measure.runs.append(Run(wall, peak, cpu, rc, rc == 0, tail))
    log(f"  ecr-lint --version: {measure.wall:.3f} s {measure.peak_mb:.1f} MB")
    return measure


def importtime(reps: int) -> dict:
    """python -X importtime -c 'import ecr_lint.cli', restricted to the subtree of ecr_lint.cli
    (interpreter start-up excluded): median total, the top 5 modules by self time and the top 5
    third-party packages by cumulative time (medians over REPS runs)."""
    totals, selfs, cumuls = [], {}, {}
    for _ in range(reps):
        res = subprocess.run([sys.executable, "-X", "importtime", "-c", "import ecr_lint.cli"],
                             capture_output=True, text=True, cwd=ROOT, env=tool_env())
        rows = []
        for line in res.stderr.splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
            if m:
                rows.append((int(m[1]), int(m[2]), len(m[3]), m[4]))
        top = next((i for i, r in enumerate(rows) if r[3] == "ecr_lint.cli"), None)
        if top is None:
            continue
        totals.append(rows[top][1])
        subtree = [rows[top]]
        for row in reversed(rows[:top]):       # children are printed before their parent
            if row[2] <= rows[top][2]:
                break
            subtree.append(row)
        for self_us, cum_us, _indent, mod in subtree:
            selfs.setdefault(mod, []).append(self_us)
            if "." not in mod and not mod.startswith(("ecr_lint", "_")):
                cumuls.setdefault(mod, []).append(cum_us)
    med = {k: statistics.median(v) for k, v in selfs.items()}
    medc = {k: statistics.median(v) for k, v in cumuls.items()}
    top_self = sorted(med.items(), key=lambda kv: -kv[1])[:5]
    top_cum = sorted(medc.items(), key=lambda kv: -kv[1])[:5]
    result = {"total_ms": statistics.median(totals) / 1000 if totals else None,
              "top_self": [(k, v / 1000) for k, v in top_self],
              "top_cumulative": [(k, v / 1000) for k, v in top_cum]}
    log(f"  import ecr_lint.cli: {fmt(result['total_ms'], '.0f')} ms; top self: "
        + ", ".join(f"{k} {v:.1f} ms" for k, v in result["top_self"]))
    return result


# ---------------------------------------------------------------------------- report
def fmt(value: float | None, spec: str = ".2f") -> str:
    return "n/a" if value is None else format(value, spec)


def fx(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}x"


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def build_report(ctx: dict) -> str:
    measures: list[Measure] = ctx["measures"]
    by = {(m.input, m.tool, m.mode): m for m in measures}
    get = lambda i, t, mode: by.get((i, t, mode))  # noqa: E731
    wall = lambda i, t, mode: get(i, t, mode).wall if get(i, t, mode) else None  # noqa: E731
    L = []
    L.append("# ecr-lint benchmark results\n")
    L.append(f"Generated by `bench/run.py` on {ctx['date']} (total harness time {ctx['elapsed'] / 60:.1f} min). "
             "Regenerate with the command under *Commands*; the *Profile* section is kept across runs.\n")
    L.append("## Machine\n")
    m = ctx["machine"]
    L.append(f"* CPU: {m['cpu']}, {m['cores']} cores ({m['usable cores']} usable)\n* RAM: {m['ram']}\n"
             f"* Python: {m['python']} ({m['os']})\n"
             f"* Load average (1 min) at start / end: {ctx['load'][0]:.2f} / {ctx['load'][1]:.2f}; before the "
             f"measured runs: median {statistics.median(LOADS or [0]):.2f}, max {max(LOADS or [0]):.2f} (the "
             "harness itself keeps it near 1-2 on 2 cores; other work on the machine, e.g. test runs, "
             "inflates the timings)\n")
    L.append("## Versions\n")
    v = ctx["versions"]
    if ctx["git_end"] != v["git"]:
        L.append(f"* **The code changed during the run**: git {v['git']} at start, {ctx['git_end']} at end.")
    L.append(f"* ecr-lint: {v['ecr-lint']} (git {v['git']})\n* python-hcl2: {v['python-hcl2']} (ecr-lint's venv)\n"
             f"* checkov: {v['checkov']} (own venv `bench/.work/checkov-venv`, spec `{ctx['checkov_spec']}`; "
             f"its HCL parser bc-python-hcl2 {v['bc-python-hcl2']})\n")
    L.append("## Inputs\n")
    L.append("| input | what | size |\n|---|---|---|")
    for row in ctx["inputs"]:
        L.append(f"| {row['name']} | {row['what']} | {row['size']} |")
    L.append("")
    L.append("## Commands\n")
    L.append("```sh\n" + ctx["argv"] + "\n```\n")
    L.append("Each measurement, run from the repository root (`report.json` is `bench/.work/out/...`):\n")
    L.append("```sh")
    seen = set()
    for meas in measures:
        if meas.command not in seen:
            seen.add(meas.command)
            L.append(meas.command)
    L.append(f"{rel(sys.executable)} -X importtime -c 'import ecr_lint.cli'")
    L.append("```\n")
    L.append(f"* Runs: {ctx['runs']} per measurement (median reported), except checkov on the big inputs "
             f"(>= {BIG_STACKS} stacks, >= {BIG_PLAN} resources): {ctx['checkov_big_runs']} "
             "(each takes minutes). ecr-lint cold/warm: each repetition makes a fresh empty "
             "`XDG_CACHE_HOME`, runs once (cold) and again with the same directory (warm).")
    L.append("* Before timing, each tool ran once untimed on the shipped stack and the fixture plan (byte code "
             "compiled, files in the OS page cache): *cold* means ecr-lint's own cache is empty, not a cold "
             "machine. The measured commands run without `PYTHONDONTWRITEBYTECODE` (this workplace sets it) "
             "and with `PYTHONPYCACHEPREFIX=bench/.work/pycache`, so byte code is reused as after a pip install "
             "instead of being recompiled on every run.")
    L.append("* Each command is forked by a ~7 MB launcher (not by the harness, whose size Linux would count "
             "in the child's peak RSS). Wall time: `perf_counter()` from fork to exit. Peak memory: "
             "`ru_maxrss` from `wait4()`, i.e. the peak RSS of the largest single process of the tree "
             "(ecr-lint's `--jobs` workers and checkov's workers are not summed). CPU: user+sys of the "
             "process and its waited-for children (cpu above wall = parallel work).")
    L.append("* ecr-lint exits 1 when it finds problems and checkov exits 1 when a check fails: both count "
             "as successful runs; every report is parsed and its summary checked (below).")
    for note in ctx["lint_notes"]:
        L.append(f"* {note}")
    if ctx["checkov_note"]:
        L.append(f"* {ctx['checkov_note']}")
    L.append("")
    L.append("## Results\n")
    L.append("| input | tool | mode | runs | median wall s | peak MB | cpu s | notes |\n|---|---|---|---|---|---|---|---|")
    for meas in measures:
        notes = meas.good[-1].note if meas.good else ("; ".join(r.note for r in meas.runs) or "not run")
        notes = "; ".join([notes, *meas.notes]).replace("|", "\\|").replace("\n", " ")
        L.append(f"| {meas.input} | {meas.tool} | {meas.mode} | {len(meas.good)}/{len(meas.runs)} | "
                 f"{fmt(meas.wall, '.3f')} | {fmt(meas.peak_mb, '.1f')} | {fmt(meas.cpu, '.2f')} | {notes} |")
    L.append("")
    imp = ctx["importtime"]
    L.append(f"`python -X importtime -c 'import ecr_lint.cli'`: {fmt(imp['total_ms'], '.0f')} ms total "
             f"(median of {ctx['runs']}).\n")
    L.append("| top 5 by self time | ms | | top 5 packages by cumulative time | ms |\n|---|---|---|---|---|")
    for i in range(max(len(imp["top_self"]), len(imp["top_cumulative"]))):
        a = imp["top_self"][i] if i < len(imp["top_self"]) else ("", None)
        b = imp["top_cumulative"][i] if i < len(imp["top_cumulative"]) else ("", None)
        L.append(f"| {a[0]} | {fmt(a[1], '.1f')} | | {b[0]} | {fmt(b[1], '.1f')} |")
    L.append("")
    L.append("## Ratios against checkov\n")
    L.append("checkov median wall time / ecr-lint median wall time (above 1: ecr-lint is faster); memory likewise.\n")
    L.append("| input | checkov s | ecr-lint cold s | speed-up cold | ecr-lint warm s | speed-up warm | "
             "checkov MB / ecr-lint cold MB |\n|---|---|---|---|---|---|---|")
    for name in ctx["input_names"]:
        ck, cold, warm = get(name, "checkov", "-"), get(name, "ecr-lint", "cold"), get(name, "ecr-lint", "warm")
        if not cold:
            continue
        L.append(f"| {name} | {fmt(ck.wall if ck else None)} | {fmt(cold.wall)} | "
                 f"{fx(ratio(ck.wall if ck else None, cold.wall))} | {fmt(warm.wall)} | "
                 f"{fx(ratio(ck.wall if ck else None, warm.wall))} | "
                 f"{fx(ratio(ck.peak_mb if ck else None, cold.peak_mb))} |")
    L.append("")
    ck_one, ck_big = wall("shipped", "checkov", "-"), wall(f"monorepo-{BIG_STACKS}", "checkov", "-")
    L.append(f"Issue 5's checkov reference: 3.2 s for one stack, 14.6 s for 1,000 small stacks (~6,000 resources); "
             f"measured here: {fmt(ck_one)} s and {fmt(ck_big)} s.\n")
    L.append("## Time per stack\n")
    per = {}
    version = by.get(("-", "ecr-lint", "--version"))
    startup = version.wall if version else None
    L.append("*s per stack* is the raw wall time / N (the issue's measure); *marginal* is (wall time - the same "
             "tool's time on the one shipped stack) / (N - 1), i.e. the cost of each stack beyond the first, "
             "without start-up and fixed costs (process start, imports, worker pool).\n")
    L.append("| N | tool | cold s | s per stack | marginal s per stack | (s - `--version`) per stack |\n"
             "|---|---|---|---|---|---|")
    marginal = {}
    for n in ctx["mono_sizes"]:
        for tool, mode in (("ecr-lint", "cold"), ("checkov", "-")):
            w = wall(f"monorepo-{n}", tool, mode)
            if w is None:
                continue
            per[(n, tool)] = w / n
            one_stack = wall("shipped", tool, mode)
            if one_stack is not None and n > 1:
                marginal[(n, tool)] = (w - one_stack) / (n - 1)
            adj = (w - startup) / n if (startup and tool == "ecr-lint") else None
            mg = marginal.get((n, tool))
            L.append(f"| {n} | {tool} | {w:.2f} | {w / n * 1000:.1f} ms | "
                     f"{fmt(mg * 1000 if mg else None, '.1f')}{' ms' if mg else ''} | "
                     f"{fmt(adj * 1000 if adj else None, '.1f')}{' ms' if adj else ''} |")
    lin, lin_marginal = {}, {}
    for tool in ("ecr-lint", "checkov"):
        a, b = per.get((100, tool)), per.get((1000, tool))
        if a and b:
            lin[tool] = b / a
        a, b = marginal.get((100, tool)), marginal.get((1000, tool))
        if a and b:
            lin_marginal[tool] = b / a
    L.append("")
    for tool, r in lin.items():
        L.append(f"* {tool}: per-stack time at N=1,000 / at N=100 = {r:.2f} "
                 f"({abs(r - 1) * 100:.0f}% {'more' if r > 1 else 'less'} per stack at N=1,000); marginal: "
                 f"{fmt(lin_marginal.get(tool))}.")
    L.append("")
    # targets
    L.append("## Targets\n")
    one = "shipped"
    big = f"monorepo-{BIG_STACKS}"
    plan_big = f"plan-{BIG_PLAN}"
    ck1, c1 = wall(one, "checkov", "-"), wall(one, "ecr-lint", "cold")
    ckb, cb, wb = wall(big, "checkov", "-"), wall(big, "ecr-lint", "cold"), wall(big, "ecr-lint", "warm")
    pm = get(plan_big, "ecr-lint", "cold")
    plan_size = ctx["plan_bytes"].get(plan_big)
    rows = [
        ("one stack (shipped) cold <= 0.4 s", f"{fmt(c1, '.3f')} s", c1 is not None and c1 <= 0.4 if c1 else None),
        ("one stack cold >= 8x faster than checkov", fx(ratio(ck1, c1)),
         ratio(ck1, c1) >= 8 if ratio(ck1, c1) else None),
        (f"{BIG_STACKS:,} stacks cold >= 2x faster than checkov", fx(ratio(ckb, cb)),
         ratio(ckb, cb) >= 2 if ratio(ckb, cb) else None),
        (f"warm ({BIG_STACKS:,} stacks) <= 1.5 s", f"{fmt(wb, '.2f')} s", wb <= 1.5 if wb else None),
        (f"warm ({BIG_STACKS:,} stacks) >= 10x faster than checkov", fx(ratio(ckb, wb)),
         ratio(ckb, wb) >= 10 if ratio(ckb, wb) else None),
        (f"{BIG_PLAN:,}-resource plan cold <= 3 s", f"{fmt(pm.wall if pm else None)} s",
         pm.wall <= 3 if pm and pm.wall else None),
        (f"{BIG_PLAN:,}-resource plan peak memory <= 5x file size",
         f"{fmt(pm.peak_mb if pm else None, '.0f')} MB vs 5 x {fmt(plan_size / 2**20 if plan_size else None, '.1f')} MB"
         f" = {fx(ratio(pm.peak_mb if pm else None, plan_size / 2**20 if plan_size else None))}",
         (pm.peak_mb <= 5 * plan_size / 2**20) if pm and pm.peak_mb and plan_size else None),
        ("per-stack time at N=100 and N=1,000 differ by < 25% of the N=100 figure (cold, raw wall / N)",
         _linearity(per.get((100, "ecr-lint")), per.get((1000, "ecr-lint"))),
         abs(lin["ecr-lint"] - 1) < 0.25 if "ecr-lint" in lin else None),
        ("the same on the marginal cost per stack (informative)", f"ratio {fmt(lin_marginal.get('ecr-lint'))}",
         abs(lin_marginal["ecr-lint"] - 1) < 0.25 if "ecr-lint" in lin_marginal else None),
    ]
    L.append("| target | measured | verdict |\n|---|---|---|")
    for label, measured, ok in rows:
        L.append(f"| {label} | {measured} | {verdict(ok)} |")
    L.append("")
    L.append("The warm targets are read as \"a second run over the 1,000-stack monorepo with the cache the first "
             "run left\"; the memory target as the median peak RSS of the cold run over the plan file's size on "
             "disk (compact JSON, as `terraform show -json` writes it).\n")
    L.append(ctx["profile"])
    return "\n".join(L) + "\n"


def _linearity(small: float | None, big: float | None) -> str:
    """Both readings of "differ by less than 25%": against the N=100 figure and against N=1,000."""
    if not small or not big:
        return "n/a"
    return (f"{small * 1000:.1f} vs {big * 1000:.1f} ms per stack: ratio {big / small:.2f}; the gap is "
            f"{abs(small - big) / small * 100:.0f}% of the N=100 figure, {abs(small - big) / big * 100:.0f}% of the "
            f"N=1,000 one" + (" (cheaper per stack at N=1,000: fixed costs amortised)" if big < small else ""))


PROFILE_PLACEHOLDER = "## Profile\n\n_To be filled in by the lead (kept by `bench/run.py` when it rewrites this file)._\n"


def existing_profile(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return PROFILE_PLACEHOLDER
    m = re.search(r"^## Profile\n.*?(?=^## |\Z)", text, re.S | re.M)
    return m.group(0).rstrip() + "\n" if m else PROFILE_PLACEHOLDER


def print_table(measures: list[Measure]) -> None:
    print()
    print(f"{'input':16} {'tool':9} {'mode':10} {'runs':5} {'wall s':>9} {'peak MB':>9} {'cpu s':>8}")
    for m in measures:
        print(f"{m.input:16} {m.tool:9} {m.mode:10} {len(m.good)}/{len(m.runs):<3} {fmt(m.wall, '.3f'):>9} "
              f"{fmt(m.peak_mb, '.1f'):>9} {fmt(m.cpu, '.2f'):>8}")
    print()


# ---------------------------------------------------------------------------- main
def report_only(work: str, results: str) -> int:
    with open(os.path.join(work, "results.json"), encoding="utf-8") as handle:
        ctx = json.load(handle)
    ctx["measures"] = [Measure(**{**m, "runs": [Run(**r) for r in m["runs"]]}) for m in ctx["measures"]]
    LOADS[:] = ctx.pop("loads", [])
    ctx["profile"] = existing_profile(results)
    print_table(ctx["measures"])
    with open(results, "w", encoding="utf-8") as handle:
        handle.write(build_report(ctx))
    log(f"rewrote {rel(results)} from {rel(os.path.join(work, 'results.json'))}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="ecr-lint vs checkov benchmark (see bench/README.md)")
    parser.add_argument("--sizes", default="1,100,1000",
                        help="stacks per input: 1 = the shipped stack, N > 1 = a generated monorepo")
    parser.add_argument("--plan-sizes", default="1000,10000", help="resources per generated plan")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median reported)")
    parser.add_argument("--checkov-big-runs", type=int, default=1,
                        help=f"runs of checkov on inputs of >= {BIG_STACKS} stacks or >= {BIG_PLAN} resources")
    parser.add_argument("--quick", action="store_true", help="1 run of everything")
    parser.add_argument("--no-checkov", action="store_true", help="skip checkov")
    parser.add_argument("--checkov-spec", default=CHECKOV_SPEC)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    parser.add_argument("--work", default=os.path.join(BENCH, ".work"))
    parser.add_argument("--results", default=os.path.join(BENCH, "RESULTS.md"))
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite RESULTS.md from the last run's bench/.work/results.json, measuring nothing")
    args = parser.parse_args()
    if args.report_only:
        return report_only(os.path.abspath(args.work), args.results)
    if args.quick:
        args.runs = args.checkov_big_runs = 1
    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    for sub in ("inputs", "out", "cache"):
        shutil.rmtree(os.path.join(work, sub), ignore_errors=True)
        os.makedirs(os.path.join(work, sub))
    if not os.path.exists(ECR_LINT):
        sys.exit(f"no ecr-lint at {ECR_LINT}: run with the dev venv's python (.venv/bin/python bench/run.py)")

    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    plan_sizes = sorted({int(s) for s in args.plan_sizes.split(",") if s.strip()})
    mono_sizes = [n for n in sizes if n > 1]

    checkov, checkov_version, checkov_note = None, "unavailable", ""
    if args.no_checkov:
        checkov_note = "checkov skipped (--no-checkov)."
    else:
        checkov, checkov_version = ensure_checkov(work, args.checkov_spec)
        if not checkov:
            checkov_note = f"checkov unavailable ({checkov_version}): only ecr-lint was measured."
            log(checkov_note)
            checkov_version = "unavailable"
    versions = {
        "ecr-lint": subprocess.run([ECR_LINT, "--version"], capture_output=True, text=True).stdout.strip(),
        "git": git_state(),
        "python-hcl2": pkg_version(sys.executable, "python-hcl2"),
        "checkov": checkov_version,
        "bc-python-hcl2": pkg_version(os.path.join(os.path.dirname(checkov), "python"), "bc-python-hcl2")
        if checkov else "n/a",
    }
    log(f"versions: {versions}")

    # inputs
    log("generating inputs")
    inputs_dir = os.path.join(work, "inputs")
    inputs: list[tuple[str, str, bool, bool]] = []   # name, path, is_plan, big
    input_rows, plan_bytes = [], {}
    if 1 in sizes:
        path = gen.copy_shipped(os.path.join(inputs_dir, "shipped"))
        files, size = dir_stats(path)
        inputs.append(("shipped", path, False, False))
        input_rows.append({"name": "shipped", "what": "copy of `terraform/ecr` (the fileflow stack: 10 resources)",
                           "size": f"{files} files, {size / 1024:.0f} KiB"})
    for n in mono_sizes:
        path, st = gen.make_monorepo(inputs_dir, n)
        files, size = dir_stats(path)
        kinds = ", ".join(f"{v} {k}" for k, v in sorted(st.kinds.items()))
        inputs.append((f"monorepo-{n}", path, False, n >= BIG_STACKS))
        input_rows.append({"name": f"monorepo-{n}", "what": (
            f"{n} stacks ({kinds}; {st.extra_iam} with extra IAM role/policy/attachment) + shared "
            f"`modules/ecr-repo` (3 resources) called by {st.module_blocks} stacks; "
            f"{st.resource_blocks / n:.1f} resource blocks + {st.module_blocks / n:.2f} module calls per stack, "
            f"{st.instances / n:.1f} resource instances per stack after for_each/modules"),
            "size": f"{files} files, {size / 2**20:.1f} MiB"})
    if plan_sizes:
        path = gen.copy_fixture_plan(inputs_dir)
        plan_bytes["plan-fixture"] = os.path.getsize(path)
        inputs.append(("plan-fixture", path, True, False))
        input_rows.append({"name": "plan-fixture", "what": "`fixtures/plans/fileflow.plan.json` (10 resources, "
                           "real `terraform show -json`), alone in its directory",
                           "size": f"{plan_bytes['plan-fixture'] / 1024:.0f} KiB (indent=1)"})
    for n in plan_sizes:
        path, total = gen.make_plan(inputs_dir, n)
        name = f"plan-{total}"
        plan_bytes[name] = os.path.getsize(path)
        inputs.append((name, path, True, total >= BIG_PLAN))
        input_rows.append({"name": name, "what": f"{total} managed resources: the fixture plan's 10 replicated "
                           f"{total // 10}x with renamed addresses, no .tf beside it",
                           "size": f"{plan_bytes[name] / 2**20:.1f} MiB (compact JSON)"})

    extra, lint_notes = lint_options()
    log("; ".join(lint_notes))
    log("warm-up (untimed): byte code compiled, files in the page cache")
    warm_dir = os.path.join(work, "cache", "warmup")
    warm_stack = next((p for _n, p, is_plan, _b in inputs if not is_plan), os.path.join(ROOT, "terraform", "ecr"))
    warm_plan = next((p for _n, p, is_plan, _b in inputs if is_plan), None)
    for target in filter(None, (warm_stack, warm_plan)):
        timed([ECR_LINT, "lint", target, "--format", "json"], tool_env(XDG_CACHE_HOME=warm_dir),
              os.path.join(work, "out", "warmup.json"))
        if checkov:
            flag, framework = ("-f", "terraform_plan") if target == warm_plan else ("-d", "terraform")
            timed([checkov, flag, target, "--framework", framework, "--quiet", "--compact", "-o", "json",
                   "--skip-download"], tool_env(), os.path.join(work, "out", "warmup-ck.json"))
    subprocess.run([sys.executable, "-c", "import ecr_lint.cli"], env=tool_env(), cwd=ROOT)

    measures: list[Measure] = []
    log("ecr-lint --version / import time")
    measures.append(bench_version(args.runs))
    imp = importtime(args.runs)
    for name, path, is_plan, big in inputs:
        log(f"{name}")
        measures += bench_ecr(name, path, args.runs, extra, work, args.timeout)
        if checkov:
            measures.append(bench_checkov(name, path, is_plan, args.checkov_big_runs if big else args.runs,
                                          checkov, work, args.timeout))
    print_table(measures)

    ctx = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "elapsed": time.perf_counter() - started,
        "machine": machine(), "versions": versions, "checkov_spec": args.checkov_spec,
        "inputs": input_rows, "input_names": [i[0] for i in inputs], "mono_sizes": mono_sizes,
        "plan_bytes": plan_bytes, "measures": measures, "importtime": imp,
        "runs": args.runs, "checkov_big_runs": args.checkov_big_runs,
        "lint_notes": lint_notes, "checkov_note": checkov_note,
        "argv": shlex.join([rel(sys.executable), rel(os.path.abspath(sys.argv[0])), *sys.argv[1:]]),
        "profile": existing_profile(args.results),
        "load": (load_start, os.getloadavg()[0]), "git_end": git_state(),
    }
    with open(os.path.join(work, "results.json"), "w", encoding="utf-8") as handle:
        json.dump({**{k: v for k, v in ctx.items() if k not in ("measures", "profile")},
                   "measures": [asdict(m) for m in measures], "loads": LOADS}, handle, indent=1)
    report = build_report(ctx)
    with open(args.results, "w", encoding="utf-8") as handle:
        handle.write(report)
    log(f"wrote {rel(args.results)} ({ctx['elapsed'] / 60:.1f} min)")
    failed = [m for m in measures if len(m.good) != len(m.runs)]
    for m in failed:
        log(f"ERROR: {m.tool} {m.mode} on {m.input}: " + "; ".join(r.note for r in m.runs if not r.ok))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
