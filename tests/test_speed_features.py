"""Parse cache, result cache and worker processes: faster, never different."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from click.testing import CliRunner

from ecr_lint.cache import Store
from ecr_lint.cli import main

from conftest import REPO, SHARED, write


def run(*args, cache_home):
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    result = CliRunner(env=env).invoke(main, [*args, "--format", "json"])
    assert result.exit_code in (0, 1, 2), result.output
    data = json.loads(result.output)
    return result.exit_code, data


def cache_files(cache_home):
    return sorted(os.path.join(d, f) for d, _, files in os.walk(cache_home) for f in files)


def test_warm_run_gives_the_same_report_and_uses_the_cache(tmp_path):
    cold = run(os.path.join(REPO, "fixtures"), cache_home=tmp_path)
    entries = cache_files(tmp_path)
    assert any("/ast/" in e for e in entries) and any("/stack/" in e for e in entries)
    warm = run(os.path.join(REPO, "fixtures"), cache_home=tmp_path)
    assert warm == cold
    assert cache_files(tmp_path) == entries  # nothing new was written


def test_corrupt_and_foreign_entries_are_ignored_and_rewritten(tmp_path):
    cold = run(os.path.join(REPO, "fixtures", "policies"), cache_home=tmp_path)
    entries = cache_files(tmp_path)
    for i, path in enumerate(entries):
        with open(path, "w", encoding="utf-8") as handle:
            if i % 3 == 0:
                handle.write("{not json")
            elif i % 3 == 1:
                handle.write(json.dumps({"key": "someone-else", "tool": "9.9", "data": {"n": "os.system"}}))
            else:
                handle.write(json.dumps({"key": os.path.basename(path)[:-5], "tool": "0", "data": [1, 2]}))
    again = run(os.path.join(REPO, "fixtures", "policies"), cache_home=tmp_path)
    assert again == cold
    for path in entries:  # every bad entry was replaced by a good one: "<hmac>\n<json>"
        if os.path.basename(path) == "key":
            continue  # the HMAC key, overwritten above with junk: replaced by a new one
        with open(path, encoding="utf-8") as handle:
            mac, body = handle.read().split("\n", 1)
            assert len(mac) == 64 and json.loads(body)["tool"] != "9.9"


def test_a_change_anywhere_the_stack_reads_invalidates_it(tmp_path):
    stack = tmp_path / "stack"
    write(stack, {"main.tf": 'module "m" {\n  source = "./mod"\n}\n',
                  "mod/main.tf": 'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n}\n'})
    cache = tmp_path / "cache"
    assert run(str(stack), "--select", "ECR010", cache_home=cache)[0] == 0
    write(stack, {"mod/extra.tf": 'resource "aws_kms_key" "added" {}\n'})  # a new file in the module
    code, data = run(str(stack), "--select", "ECR010", cache_home=cache)
    assert code == 1 and {f["address"] for f in data["findings"]} == {"module.m.aws_kms_key.added"}
    os.remove(stack / "mod" / "extra.tf")
    write(stack, {"mod/main.tf": 'resource "aws_kms_key" "k" {\n  enable_key_rotation = false\n}\n'})
    code, data = run(str(stack), "--select", "ECR010", cache_home=cache)
    assert code == 1 and {f["address"] for f in data["findings"]} == {"module.m.aws_kms_key.k"}


def test_no_cache_writes_nothing(tmp_path):
    run(os.path.join(REPO, "fixtures", "policies"), "--no-cache", cache_home=tmp_path)
    assert cache_files(tmp_path) == []


def test_concurrent_runs_share_the_cache_safely(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    cmd = [sys.executable, "-m", "ecr_lint", os.path.join(REPO, "fixtures"), "--format", "json", "--jobs", "1"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode in (0, 1, 2) for p in procs)
    assert len({o for o in outputs}) == 1
    assert not any(f.endswith(".tmp") for f in cache_files(tmp_path))


def test_the_cache_is_bounded(tmp_path):
    store = Store(str(tmp_path), max_bytes=20_000)
    for i in range(50):
        store.put("ast", f"{i:064x}", {"n": "Lit", "f": ["x" * 1000]})
    store.prune()
    total = sum(os.path.getsize(f) for f in cache_files(tmp_path))
    assert total <= 20_000
    assert store.get("ast", f"{49:064x}") is not None  # the newest entries stay


def test_output_is_identical_whatever_the_number_of_jobs(tmp_path):
    targets = [os.path.join(REPO, "fixtures"), os.path.join(REPO, "terraform")]
    least = 12  # the project's own stacks; with the corpus of ../shared beside it, many more
    if os.path.isdir(os.path.join(SHARED, "corpus", "realworld")):
        targets.append(os.path.join(SHARED, "corpus", "realworld"))
        least = 20
    outputs = {jobs: run(*targets, "--jobs", str(jobs), "--no-cache", cache_home=tmp_path) for jobs in (1, 2, 4)}
    assert outputs[1] == outputs[2] == outputs[4]
    assert outputs[1][1]["summary"]["stacks"] > least


def _imported_modules(*args: str) -> set[str]:
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "ecr_lint", *args], capture_output=True, text=True,
                         env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    return {line.split("|")[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}


def test_version_loads_only_what_it_needs():
    modules = _imported_modules("--version")
    for heavy in ("lark", "hcl2", "networkx", "jsonschema", "yaml", "ecr_lint.api"):
        assert heavy not in modules, heavy


def test_a_warm_run_parses_nothing(tmp_path):
    env_home = {"XDG_CACHE_HOME": str(tmp_path)}
    args = [sys.executable, "-X", "importtime", "-m", "ecr_lint", os.path.join(REPO, "terraform", "ecr"), "--jobs", "1"]
    subprocess.run(args, capture_output=True, env={**os.environ, **env_home})
    warm = subprocess.run(args, capture_output=True, text=True, env={**os.environ, **env_home})
    modules = {line.split("|")[-1].strip() for line in warm.stderr.splitlines() if line.startswith("import time:")}
    assert "lark" not in modules and "networkx" not in modules


def test_output_does_not_depend_on_the_hash_seed(tmp_path):
    """Two stacks calling one module give results that differ only in their stack: their order
    must not come from a set's iteration order, which changes with PYTHONHASHSEED."""
    module = 'resource "aws_ecr_repository" "this" {\n  name = var.name\n}\nvariable "name" {}\n'
    files = {"modules/repo/main.tf": module}
    for name in ("a", "b", "c", "d"):
        files[f"stacks/{name}/main.tf"] = f'module "repo" {{\n  source = "../../modules/repo"\n  name = "{name}"\n}}\n'
    write(tmp_path, files)
    outputs = set()
    for seed, jobs in (("1", "1"), ("2", "2"), ("3", "1"), ("4", "2")):
        out = subprocess.run([sys.executable, "-m", "ecr_lint", ".", "--format", "json", "--no-cache",
                              "--jobs", jobs], capture_output=True, text=True, cwd=tmp_path,
                             env={**os.environ, "PYTHONHASHSEED": seed})
        assert out.returncode == 1, out.stderr
        outputs.add(out.stdout)
    assert len(outputs) == 1
    stacks = [r["stack"] for r in json.loads(outputs.pop())["findings"] if r["rule_id"] == "ECR001"]
    assert stacks == ["stacks/a", "stacks/b", "stacks/c", "stacks/d"]


def test_default_jobs_follow_the_cpus_this_process_may_use(tmp_path, monkeypatch):
    import concurrent.futures

    from ecr_lint import cli

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)
    assert cli._usable_cpus() == 1

    def no_pool(*args, **kwargs):
        raise AssertionError("one usable CPU: no worker processes")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_pool)
    exit_code, data = run(os.path.join(REPO, "fixtures"), "--no-cache", cache_home=tmp_path)
    assert data["summary"]["stacks"] > 5
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert cli._usable_cpus() == 3
