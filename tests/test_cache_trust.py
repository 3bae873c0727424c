"""A cache you can trust (issue 12, item 4), through the real CLI: planted or changed entries never
change a verdict, directories of another user, writable by others or reached through a symlink
are not used (one line on stderr says why; the run goes on uncached), and pruning never touches
anything outside the real cache root. We run as root here: "another user" is a real chown."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

from conftest import write

OTHER_UID = 65534
SEVEN = "\n".join(f'resource "aws_ecr_repository" "r{i}" {{\n  name                 = "r{i}"\n'
                  f'  image_tag_mutability = "MUTABLE"\n  tags                 = {{ Environment = "prod" }}\n}}'
                  for i in range(7)) + "\n"


def run(stack, cache) -> tuple[int, dict, str]:
    done = subprocess.run([sys.executable, "-m", "ecr_lint", str(stack), "--select", "ECR003", "--format", "json"],
                          capture_output=True, text=True, env={**os.environ, "XDG_CACHE_HOME": str(cache)}, timeout=120)
    assert done.returncode in (1, 2), done.stderr
    return done.returncode, json.loads(done.stdout), done.stderr


def failed(data: dict) -> set[str]:
    return {f["address"] for f in data["findings"] if f["status"] == "fail"}


def snapshot(directory) -> dict[str, bytes]:
    out = {}
    for current, dirs, files in os.walk(directory):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(current, d))]:
            path = os.path.join(current, name)
            out[os.path.relpath(path, directory)] = os.readlink(path) if os.path.islink(path) else open(path, "rb").read()
    return out


def _stack_entry(root) -> str:
    """The one stack-result entry of a single-stack run."""
    [entry] = [os.path.join(d, f) for d, _, files in os.walk(root / "stack") for f in files]
    return entry


def _planted_stack_entry(entry: str, stack) -> str:
    """A stack entry at the right key whose outcome has no results: old-format JSON."""
    from ecr_lint import __version__

    key = os.path.basename(os.path.dirname(entry)) + os.path.basename(entry)[:-5]
    outcome = {"root": str(stack), "kind": "hcl", "resources": 0, "results": [], "errors": [], "spans": [],
               "exports": [], "imports": [], "secrets": []}
    return json.dumps({"key": key, "tool": __version__, "data": {"manifest": {}, "outcome": outcome}})


def test_a_planted_parse_entry_cannot_change_a_verdict(tmp_path):
    from ecr_lint import __version__
    from ecr_lint.cache import encode, parse_key
    from ecr_lint.loaders.module import parse_text

    stack = tmp_path / "stack"
    write(stack, {"main.tf": SEVEN})
    cache = tmp_path / "cache"
    root = cache / "ecr-lint" / "v1"
    assert len(failed(run(stack, cache)[1])) == 7
    raw = (stack / "main.tf").read_bytes()
    key = parse_key(str(stack / "main.tf"), raw)  # predictable: tool, parser and content
    body = json.dumps({"key": key, "tool": __version__,
                       "data": encode(parse_text("main.tf", raw.replace(b'"MUTABLE"', b'"IMMUTABLE"')))})
    for planted in (body, "0" * 64 + "\n" + body):  # as old versions wrote it; with a forged HMAC
        shutil.rmtree(root / "stack")  # so that the parse cache is asked
        entry = root / "ast" / key[:2] / (key[2:] + ".json")
        entry.write_text(planted)
        code, data, stderr = run(stack, cache)
        assert code == 1 and len(failed(data)) == 7 and stderr == ""
        assert entry.read_text() != planted  # rewritten


def test_a_planted_stack_entry_cannot_change_a_verdict(tmp_path):
    stack = tmp_path / "stack"
    write(stack, {"main.tf": SEVEN})
    cache = tmp_path / "cache"
    root = cache / "ecr-lint" / "v1"
    code, data, _ = run(stack, cache)
    assert data["summary"]["failed"] == 7
    entry = _stack_entry(root)
    planted = _planted_stack_entry(entry, stack)
    for content in (planted, "f" * 64 + "\n" + planted):
        with open(entry, "w", encoding="utf-8") as handle:
            handle.write(content)
        code, data, stderr = run(stack, cache)
        assert (code, data["summary"]["failed"], stderr) == (1, 7, "")


def _warm_cache_with_a_planted_entry(tmp_path):
    """A warm cache whose stack entry was replaced by one with no results (at the right key)."""
    stack = tmp_path / "stack"
    write(stack, {"main.tf": SEVEN})
    cache = tmp_path / "cache"
    run(stack, cache)
    entry = _stack_entry(cache / "ecr-lint" / "v1")
    with open(entry, "w", encoding="utf-8") as handle:
        handle.write(_planted_stack_entry(entry, stack))
    return stack, cache


def test_a_cache_of_another_user_is_not_used(tmp_path):
    stack, cache = _warm_cache_with_a_planted_entry(tmp_path)
    for current, dirs, files in os.walk(cache / "ecr-lint"):  # as if another user of a shared cache made it
        for name in dirs + files:
            os.chown(os.path.join(current, name), OTHER_UID, OTHER_UID)
    os.chown(cache / "ecr-lint", OTHER_UID, OTHER_UID)
    before = snapshot(cache)
    code, data, stderr = run(stack, cache)
    assert (code, data["summary"]["failed"]) == (1, 7)
    assert stderr == (f"ecr-lint: cache not used: {cache}/ecr-lint belongs to uid {OTHER_UID}, "
                      f"not to this user (uid {os.geteuid()})\n")
    assert snapshot(cache) == before  # nothing read from it, written to it or deleted


def test_a_cache_writable_by_others_is_not_used(tmp_path):
    stack, cache = _warm_cache_with_a_planted_entry(tmp_path)
    os.chmod(cache / "ecr-lint" / "v1", 0o777)
    code, data, stderr = run(stack, cache)
    assert (code, data["summary"]["failed"]) == (1, 7)
    assert stderr == f"ecr-lint: cache not used: {cache}/ecr-lint/v1 is writable by group or others (mode 777)\n"


def test_symlinked_cache_directories_are_not_followed_and_prune_stays_inside(tmp_path):
    stack = tmp_path / "stack"
    write(stack, {"main.tf": SEVEN})
    elsewhere = tmp_path / "elsewhere"
    write(elsewhere, {"keep.txt": "someone's file", "ast/ab/old.tmp": "left by nobody"})
    stale = time.time() - 7200  # a .tmp older than an hour: what prune deletes in the real cache
    os.utime(elsewhere / "ast" / "ab" / "old.tmp", (stale, stale))
    before = snapshot(elsewhere)
    for link, target in (("ecr-lint/v1", elsewhere), ("ecr-lint", elsewhere), ("ecr-lint/v1/ast", elsewhere / "ast")):
        cache = tmp_path / f"cache-{link.replace('/', '-')}"
        os.makedirs(os.path.dirname(cache / link), mode=0o700)
        os.symlink(target, cache / link)
        code, data, stderr = run(stack, cache)
        assert (code, data["summary"]["failed"]) == (1, 7), link
        assert stderr == f"ecr-lint: cache not used: {cache}/{link} is a symlink: not followed\n", link
        assert snapshot(elsewhere) == before, link  # nothing written there, nothing pruned there


def test_cache_directories_are_private_and_old_ones_are_tightened(tmp_path):
    stack = tmp_path / "stack"
    write(stack, {"main.tf": SEVEN})
    cache = tmp_path / "cache"
    (cache / "ecr-lint" / "v1").mkdir(parents=True, mode=0o755)  # as an older ecr-lint made them
    os.chmod(cache / "ecr-lint", 0o755)
    os.chmod(cache / "ecr-lint" / "v1", 0o755)
    code, data, stderr = run(stack, cache)
    assert (code, data["summary"]["failed"], stderr) == (1, 7, "")
    modes = {}
    for current, dirs, files in os.walk(cache / "ecr-lint"):
        modes[os.path.relpath(current, cache)] = os.stat(current).st_mode & 0o777
        for name in files:
            modes[os.path.relpath(os.path.join(current, name), cache)] = os.stat(os.path.join(current, name)).st_mode & 0o777
    assert modes["ecr-lint/v1/key"] == 0o600
    assert {mode for path, mode in modes.items() if os.path.isdir(cache / path)} == {0o700}
    assert {mode for path, mode in modes.items() if not os.path.isdir(cache / path)} == {0o600}
    key = (cache / "ecr-lint" / "v1" / "key").read_bytes()
    assert run(stack, cache)[1]["summary"]["failed"] == 7
    assert (cache / "ecr-lint" / "v1" / "key").read_bytes() == key  # made once, kept
