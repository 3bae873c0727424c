"""The reading gate (issue 12, items 2, 3 and 5), through the real CLI: nothing outside the tree
is read or echoed, no device or FIFO is read, fileset() stays in the tree and is bounded, and the
result cache sees every file and glob a stack's evaluation touched."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import write

SECRET = "s3cr3t-VALUE-never-printed"


def cli(*args: str, cache: str | None = None, cwd: str | None = None, timeout: int = 60) -> tuple[int, dict, str]:
    """ecr-lint in a subprocess (a hang is a failure after `timeout`): exit code, JSON, stderr."""
    env = {**os.environ, "XDG_CACHE_HOME": cache or os.environ["XDG_CACHE_HOME"]}
    extra = [] if cache else ["--no-cache"]
    done = subprocess.run([sys.executable, "-m", "ecr_lint", *args, "--format", "json", *extra], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=timeout)
    assert done.returncode in (0, 1, 2), done.stderr
    return done.returncode, json.loads(done.stdout), done.stderr


def failed(data: dict, rule: str) -> set[str]:
    return {f["address"] for f in data["findings"] if f["rule_id"] == rule and f["status"] == "fail"}


def errors(data: dict, base, cwd: str | None = None) -> set[tuple[str, str]]:
    """(file relative to `base`, message) of every error; `cwd` is where ecr-lint ran."""
    return {(os.path.relpath(os.path.join(cwd or os.getcwd(), e["file"]), str(base)), e["message"])
            for e in data["errors"]}


REPO_TF = '''
variable "environment" {
  default = "dev"
}
variable "auths" {
  default = {}
}
resource "aws_ecr_repository" "r" {
  name                 = jsonencode(var.auths)
  image_tag_mutability = var.environment == "prod" ? "MUTABLE" : "IMMUTABLE"
  tags                 = { Environment = var.environment }
}
'''


def _outside(tmp_path) -> str:
    outside = os.path.realpath(tmp_path / "outside")
    write(outside, {
        "secret.txt": 'environment = "prod"\n',
        "credentials": f"aws_access_key_id = AKIA{SECRET}\naws_secret_access_key = {SECRET}\n",
        "docker/config.json": json.dumps({"auths": {"registry.example.com": {"auth": SECRET}}}),
    })
    return str(outside)


def test_tfvars_symlinked_out_of_the_tree_are_not_read_nor_echoed(tmp_path):
    outside = _outside(tmp_path)
    tree = tmp_path / "tree"
    write(tree, {"env/main.tf": REPO_TF, "creds/main.tf": REPO_TF, "docker/main.tf": REPO_TF})
    os.symlink(os.path.join(outside, "secret.txt"), tree / "env" / "terraform.tfvars")
    os.symlink(os.path.join(outside, "credentials"), tree / "creds" / "x.auto.tfvars")
    os.symlink(os.path.join(outside, "docker", "config.json"), tree / "docker" / "terraform.tfvars.json")
    done = subprocess.run([sys.executable, "-m", "ecr_lint", str(tree), "--select", "ECR003,ECR008", "--no-cache"],
                          capture_output=True, text=True, timeout=60)
    assert SECRET not in done.stdout + done.stderr  # the text report, where CI logs show it
    code, data, stderr = cli(str(tree), "--select", "ECR003,ECR008")
    assert code == 2
    assert SECRET not in json.dumps(data) + stderr
    why = "outside the linted tree and its repository: not read"
    assert errors(data, tree) == {
        ("env/terraform.tfvars", f"symlink to {outside}/secret.txt, {why}"),
        ("creds/x.auto.tfvars", f"symlink to {outside}/credentials, {why}"),
        ("docker/terraform.tfvars.json", f"symlink to {outside}/docker/config.json, {why}"),
    }
    assert failed(data, "ECR003") == set()  # the verdict is the tree's own (environment "dev")


def test_config_var_files_are_read_only_inside_the_tree_but_var_file_is_trusted(tmp_path):
    outside = _outside(tmp_path)
    tree = tmp_path / "tree"
    write(tree, {"stack/main.tf": REPO_TF, "stack/inside.tfvars": 'environment = "staging"\n',
                 ".ecr-lint.toml": f'var_files = ["{outside}/secret.txt", "../outside/credentials", '
                                   '"stack/inside.tfvars"]\n'})
    code, data, stderr = cli(str(tree), "--select", "ECR003,ECR008", cwd=str(tree))
    assert code == 2 and SECRET not in json.dumps(data) + stderr
    why = "outside the linted tree and its repository: not read"
    expected = {("../outside/secret.txt", why), ("../outside/credentials", why)}
    assert errors(data, tree, str(tree)) == expected
    assert failed(data, "ECR003") == set()
    # The same file named on the command line: the person running ecr-lint vouches for it.
    code, data, _ = cli(str(tree), "--select", "ECR003", "--var-file", f"{outside}/secret.txt", cwd=str(tree))
    assert failed(data, "ECR003") == {"aws_ecr_repository.r"}
    assert errors(data, tree, str(tree)) == {("../outside/credentials", why)}


def test_devices_and_fifos_are_never_read(tmp_path):
    stack = tmp_path / "stack"
    write(stack, {"main.tf": REPO_TF + 'locals {\n  data = file("${path.module}/data.fifo")\n}\n'
                  'resource "aws_kms_key" "k" {\n  description         = local.data\n  enable_key_rotation = true\n}\n'})
    os.symlink("/dev/zero", stack / "zero.tf")
    os.symlink("/dev/zero", stack / "zero.auto.tfvars")
    os.mkfifo(stack / "fifo.tf")
    os.mkfifo(stack / "pipe.auto.tfvars")
    os.mkfifo(stack / "data.fifo")
    cache = str(tmp_path / "cache")
    for run in ("cold", "warm", "uncached"):  # the result cache's manifest reads nothing unbounded either
        code, data, _ = cli(str(stack), "--select", "ECR003,ECR010", "--var-file", "/dev/urandom",
                            cache=None if run == "uncached" else cache)
        assert code == 2
        assert errors(data, stack) == {
            ("zero.tf", "symlink to /dev/zero, outside the linted tree and its repository: not read"),
            ("zero.auto.tfvars", "symlink to /dev/zero, outside the linted tree and its repository: not read"),
            ("fifo.tf", "not a regular file (a FIFO): not read"),
            ("pipe.auto.tfvars", "not a regular file (a FIFO): not read"),
            (os.path.relpath("/dev/urandom", stack), "not a regular file (a character device): not read"),
        }, run
        assert {(r["rule_id"], r["status"]) for r in data["results"] if r["address"] == "aws_kms_key.k"} == \
            {("ECR010", "pass")}


def _repositories(data: dict) -> set[str]:
    return {r["address"] for r in data["results"] if r["rule_id"] == "ECR003"}


def _fileset_repository(name: str, pattern: str) -> str:
    return (f'resource "aws_ecr_repository" "{name}" {{\n  for_each             = fileset(path.module, "{pattern}")\n'
            '  name                 = "x"\n  image_tag_mutability = "IMMUTABLE"\n}\n')


def test_fileset_never_loops_and_stays_inside_the_tree(tmp_path):
    outside = os.path.realpath(tmp_path / "outside")
    write(outside, {"leak.json": "{}", "x.conf": ""})
    loops = tmp_path / "loops"
    write(loops, {"main.tf": _fileset_repository("r", "**"), "repos/a.json": "{}", "repos/sub/b.json": "{}",
                  ".hidden.json": "{}"})
    for name in ("l1", "l2", "l3"):
        os.symlink(".", loops / name)  # three links to `.`: exponential for a walk that follows them
    escape = tmp_path / "escape"
    write(escape, {"main.tf": _fileset_repository("up", "../../../../../../**/*.conf")
                   + _fileset_repository("ext", "ext/*.json") + _fileset_repository("leak", "repos/*.json"),
                   "repos/a.json": "{}"})
    os.symlink(outside, escape / "ext")
    os.symlink(f"{outside}/leak.json", escape / "repos" / "leak.json")
    code, data, _ = cli(str(loops), str(escape), "--select", "ECR003,ECR000")
    assert _repositories(data) == {
        'aws_ecr_repository.r[".hidden.json"]', 'aws_ecr_repository.r["main.tf"]',
        'aws_ecr_repository.r["repos/a.json"]', 'aws_ecr_repository.r["repos/sub/b.json"]',
        "aws_ecr_repository.up", "aws_ecr_repository.ext", "aws_ecr_repository.leak"}
    why = "outside the linted tree and its repository: not read"
    reasons = {f["address"]: f["message"] for f in data["findings"] if f["rule_id"] == "ECR000"}
    tail = "; checked as one instance, whatever number Terraform creates"
    assert reasons == {
        "aws_ecr_repository.up": "aws_ecr_repository.up: for_each is unknown: fileset('.', "
                                 f"'../../../../../../**/*.conf'): {why}{tail}",
        "aws_ecr_repository.ext": f"aws_ecr_repository.ext: for_each is unknown: fileset('.', 'ext/*.json'): "
                                  f"symlink to {outside}, {why}{tail}",
        "aws_ecr_repository.leak": "aws_ecr_repository.leak: for_each is unknown: fileset('.', 'repos/*.json'): "
                                   f"{escape}/repos/leak.json: symlink to {outside}/leak.json, {why}{tail}"}
    # The only input error: discovery reports the symlinked directory that leads out of the tree
    # (it is not searched); the rest are unknown verdicts, which are warnings.
    assert [(e["file"].rsplit("/", 2)[-2:], e["message"]) for e in data["errors"]] == [
        (["escape", "ext"], "symlinked directory leads out of the paths given and their repository: not read")]
    assert code == 2


def test_fileset_past_its_bound_is_an_error_not_a_hang(tmp_path):
    stack = tmp_path / "stack"
    write(stack, {"main.tf": 'resource "aws_ecr_repository" "r" {\n  for_each = fileset(path.module, "**")\n'
                             '  name     = "x"\n}\n'})
    os.mkdir(stack / "many")
    for i in range(50_001):
        os.close(os.open(stack / "many" / f"{i}.json", os.O_CREAT | os.O_WRONLY, 0o644))
    code, data, _ = cli(str(stack), "--select", "ECR003")
    assert code == 2
    assert errors(data, stack) == {
        ("main.tf", "evaluation budget exceeded: fileset() visited more than 50000 directory entries: stopped")}


DATA_STACK = '''
resource "aws_ecr_repository" "r" {
  for_each             = { for f in fileset(path.module, "repos/*.json") : f => jsondecode(file("${path.module}/${f}")) }
  name                 = each.value.name
  image_tag_mutability = each.value.mutability
  tags                 = { Environment = "prod" }
}
resource "aws_ecr_repository" "flag" {
  name                 = "flag"
  image_tag_mutability = fileexists("${path.module}/immutable.flag") ? "IMMUTABLE" : "MUTABLE"
  tags                 = { Environment = var.environment }
}
resource "aws_ecr_repository" "settings" {
  name                 = "settings"
  image_tag_mutability = jsondecode(file("${path.module}/settings.json")).mutability
  tags                 = { Environment = "prod" }
}
variable "environment" {
  default = "dev"
}
'''


def test_the_result_cache_sees_every_file_and_glob_the_stack_touched(tmp_path):
    stack = tmp_path / "stack"
    write(stack, {"main.tf": DATA_STACK, "repos/a.json": '{"name": "a", "mutability": "IMMUTABLE"}',
                  "immutable.flag": "", "settings.json": '{"mutability": "IMMUTABLE"}',
                  "dev.tfvars": 'environment = "dev"\n', "prod.tfvars": 'environment = "prod"\n'})
    os.symlink("dev.tfvars", stack / "terraform.tfvars")
    var_file = tmp_path / "elsewhere.tfvars"
    var_file.write_text('environment = "dev"\n')
    cache = str(tmp_path / "cache")

    def check(expected: set[str]) -> None:
        warm = cli(str(stack), "--select", "ECR003", "--var-file", str(var_file), cache=cache)
        cold = cli(str(stack), "--select", "ECR003", "--var-file", str(var_file))
        assert failed(warm[1], "ECR003") == failed(cold[1], "ECR003") == expected
        assert warm[1]["findings"] == cold[1]["findings"]

    check(set())
    check(set())  # warm, from the cache
    write(stack, {"repos/b.json": '{"name": "b", "mutability": "MUTABLE"}'})  # a new glob match
    check({'aws_ecr_repository.r["repos/b.json"]'})
    os.remove(stack / "repos" / "b.json")
    check(set())
    write(stack, {"repos/a.json": '{"name": "a", "mutability": "MUTABLE"}'})  # a data file's content
    check({'aws_ecr_repository.r["repos/a.json"]'})
    write(stack, {"repos/a.json": '{"name": "a", "mutability": "IMMUTABLE"}', "settings.json": '{"mutability": "MUTABLE"}'})
    check({"aws_ecr_repository.settings"})
    write(stack, {"settings.json": '{"mutability": "IMMUTABLE"}'})
    os.remove(stack / "immutable.flag")  # a fileexists() answer
    var_file.write_text('environment = "prod"\n')  # a var file outside the tree, named on the command line
    check({"aws_ecr_repository.flag"})
    var_file.write_text('environment = "dev"\n')
    check(set())
    os.remove(stack / "terraform.tfvars")  # a tfvars symlink pointed elsewhere (listing unchanged)
    os.symlink("prod.tfvars", stack / "terraform.tfvars")
    os.remove(var_file)
    var_file.write_text("")
    check({"aws_ecr_repository.flag"})


def test_a_config_file_that_is_a_device_or_fifo_is_refused_not_read(tmp_path):
    os.mkfifo(tmp_path / "fifo.toml")
    stack = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures", "seed_as_written")
    for config, kind in (("/dev/zero", "a character device"), (str(tmp_path / "fifo.toml"), "a FIFO")):
        done = subprocess.run([sys.executable, "-m", "ecr_lint", stack, "--config", config], capture_output=True,
                              text=True, timeout=60)
        assert (done.returncode, done.stdout) == (2, "")
        assert done.stderr == f"ecr-lint: {config}: not a regular file ({kind}): not read\n"
