"""`ecr-lint fix` (issue 15): edits at the origin of the value, proven by re-lint, real
`terraform fmt -check` and real `terraform validate`; refusals that say why; safe writes; the
edits in JSON and SARIF; the pre-commit hook; each rule file's fix example, run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import yaml
from click.testing import CliRunner

from ecr_lint.catalog import load_rules
from ecr_lint.cli import main
from ecr_lint.fix import FIXERS

from conftest import REPO, SHARED, write

FIX = os.path.join(REPO, "fixtures", "fix")
FIXABLE = "ECR001,ECR002,ECR003,ECR007,ECR010,ECR011,ECR012,ECR013"


def cli(*args: str, cwd: str | None = None):
    old = os.getcwd()
    os.chdir(cwd or REPO)
    try:
        return CliRunner().invoke(main, list(args))
    finally:
        os.chdir(old)


def copy(name: str, tmp_path) -> str:
    target = str(tmp_path / name)
    shutil.copytree(os.path.join(REPO, "fixtures", name) if name == "seed_as_written" else os.path.join(FIX, name),
                    target)
    return target


def snapshot(directory: str) -> dict[str, str]:
    out = {}
    for current, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if d != ".terraform"]
        for name in files:
            if not name.startswith(".terraform"):
                path = os.path.join(current, name)
                with open(path, encoding="utf-8") as handle:
                    out[os.path.relpath(path, directory)] = handle.read()
    return out


def findings(path: str, *args: str) -> set[tuple[str, str, str]]:
    result = cli(path, "--no-cache", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    return {(f["rule_id"], f["address"], f["stack"].rsplit("/", 1)[-1]) for f in json.loads(result.output)["findings"]}


def terraform(stack: str, *args: str) -> subprocess.CompletedProcess:
    import tfharness

    return subprocess.run(["terraform", *args, "-no-color"], cwd=stack, env=tfharness._scrubbed_env(),
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def proven(tree: str, roots: list[str]) -> None:
    """terraform fmt -check over the tree, and init + validate in every root stack."""
    fmt = terraform(tree, "fmt", "-check", "-recursive", "-diff")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    import tfharness

    for root in roots:
        stack = os.path.join(tree, root)
        init = terraform(stack, "init", "-input=false", "-backend=false", f"-plugin-dir={tfharness.plugin_dir()}")
        assert init.returncode == 0, init.stdout + init.stderr
        valid = terraform(stack, "validate")
        assert valid.returncode == 0, valid.stdout + valid.stderr


# --- the seed as written: one edit, the variable default ------------------------------------------

def test_the_seed_as_written_gets_a_one_line_change_of_the_variable_default():
    result = cli("fix", "fixtures/seed_as_written", "--diff")
    assert result.exit_code == 1, result.output
    diff = result.stdout
    assert [line for line in diff.splitlines() if line.startswith(("-", "+"))] == [
        "--- a/fixtures/seed_as_written/variables.tf", "+++ b/fixtures/seed_as_written/variables.tf",
        '-  default     = "MUTABLE"', '+  default     = "IMMUTABLE"']
    assert "@@ -37,7 +37,7 @@" in diff


def test_diff_is_the_default_when_not_a_terminal_and_it_applies_with_git(tmp_path):
    stack = copy("seed_as_written", tmp_path)
    result = cli("fix", "seed_as_written", cwd=str(tmp_path))
    assert result.exit_code == 1 and result.stdout.startswith("--- a/seed_as_written/variables.tf\n")
    before = snapshot(stack)
    applied = subprocess.run(["git", "apply", "-p1", "-"], input=result.stdout, text=True, cwd=str(tmp_path),
                             capture_output=True)
    assert applied.returncode == 0, applied.stderr
    after = snapshot(stack)
    assert {k for k in before if before[k] != after[k]} == {"variables.tf"}
    assert findings(stack, "--select", "ECR003") == set()


def test_fix_write_on_the_seed_is_proven_by_relint_fmt_and_validate(tmp_path, tf_required):
    stack = copy("seed_as_written", tmp_path)
    before = findings(stack)
    result = cli("fix", stack, "--write", "--no-cache")
    assert result.exit_code == 1, result.output
    assert result.stdout == f"wrote {stack}/variables.tf\n"
    assert findings(stack) == before - {("ECR003", "aws_ecr_repository.fileflow", "seed_as_written")}
    proven(stack, ["."])


# --- every fixable rule, and every kind of origin -----------------------------------------------------

CASES = [
    # (fixture, extra args, rules, files changed, root stacks to validate)
    ("tfvars", ["--var-file", "{dir}/prod.tfvars"], "ECR003", {"prod.tfvars"}, ["."]),
    ("ternary", [], "ECR003", {"main.tf"}, ["."]),
    ("module_caller", [], "ECR003", {"stacks/prod/main.tf", "stacks/prod-eu/main.tf"},
     ["stacks/prod", "stacks/prod-eu", "stacks/dev"]),
    ("shared_locals", ["--config", "{dir}/ecr-lint.toml"], "ECR007", {"locals.tf"}, ["."]),
    ("tags_absent", ["--config", "{dir}/ecr-lint.toml"], "ECR007", {"main.tf"}, ["."]),
    ("default_tags", ["--config", "{dir}/ecr-lint.toml"], "ECR007", {"versions.tf"}, ["."]),
    ("rules", [], FIXABLE, {"repositories.tf", "keys.tf", "policies.tf"}, ["."]),
    ("exclusion_all", [], "ECR003", {"main.tf"}, ["."]),
]


@pytest.mark.parametrize("name,extra,select,changed,roots", CASES, ids=[c[0] for c in CASES])
def test_fix_write_is_proven_by_relint_fmt_and_validate(tmp_path, tf_required, name, extra, select, changed, roots):
    stack = copy(name, tmp_path)
    extra = [a.replace("{dir}", stack) for a in extra]
    before_files = snapshot(stack)
    before = findings(stack, *extra, "--select", select)
    assert before, "the fixture must fail first"
    result = cli("fix", stack, "--write", "--no-cache", "--select", select, *extra)
    assert result.exit_code == 1, result.output
    assert "not fixed" not in result.stderr, result.stderr
    after_files = snapshot(stack)
    assert {k for k in after_files if after_files[k] != before_files.get(k)} == changed
    assert findings(stack, *extra, "--select", select) == set()            # every finding fixed
    assert findings(stack, *extra) <= findings_of_copy(name, tmp_path, extra)   # and no new one, any rule
    proven(stack, roots)


def test_exclusion_filters_that_match_release_tags_are_narrowed(tmp_path, tf_required):
    """Only the wide filter goes; the narrow one, its comment-free neighbours and the layout stay.
    The provider on this machine (hashicorp/aws 5.100) predates the exclusion filter block, so
    `terraform validate` must fail before and after on that block alone, and on nothing else."""
    stack = copy("exclusion_narrow", tmp_path)
    assert findings(stack, "--select", "ECR003") == {("ECR003", "aws_ecr_repository.app", "exclusion_narrow")}
    before_errors = _validate_errors(stack)
    result = cli("fix", stack, "--write", "--no-cache", "--select", "ECR003")
    assert result.exit_code == 1, result.output
    assert 'remove the exclusion filter(s) "v*" of aws_ecr_repository.app' in result.stderr
    with open(os.path.join(stack, "main.tf"), encoding="utf-8") as handle:
        text = handle.read()
    assert 'filter      = "latest"' in text and '"v*"' not in text and "\n\n\n" not in text
    assert findings(stack, "--select", "ECR003") == set()
    assert findings(stack) <= findings_of_copy("exclusion_narrow", tmp_path, [])
    fmt = terraform(stack, "fmt", "-check", "-diff")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    assert _validate_errors(stack) <= before_errors


def _validate_errors(stack: str) -> set[str]:
    """The summaries of `terraform validate`'s errors, except the provider not knowing the
    exclusion filter block (an older provider than the rule targets)."""
    import tfharness

    init = terraform(stack, "init", "-input=false", "-backend=false", f"-plugin-dir={tfharness.plugin_dir()}")
    assert init.returncode == 0, init.stdout + init.stderr
    valid = subprocess.run(["terraform", "validate", "-json"], cwd=stack, env=tfharness._scrubbed_env(),
                           capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    diagnostics = json.loads(valid.stdout)["diagnostics"]
    return {f"{d['summary']}: {d.get('detail', '')}" for d in diagnostics if d["severity"] == "error"
            and 'Blocks of type "image_tag_mutability_exclusion_filter" are not expected here' not in d.get("detail", "")}


def findings_of_copy(name: str, tmp_path, extra: list[str]) -> set:
    pristine = copy(name, tmp_path / "pristine")
    return findings(pristine, *[a.replace(str(tmp_path / name), pristine) for a in extra])


def test_the_rules_fixture_has_one_finding_per_fixable_rule_and_kind():
    assert findings(os.path.join(FIX, "rules"), "--select", FIXABLE) == {
        ("ECR001", "aws_ecr_repository.bare", "rules"), ("ECR001", "aws_ecr_repository.old", "rules"),
        ("ECR002", "aws_ecr_repository.bare", "rules"), ("ECR002", "aws_ecr_repository.old", "rules"),
        ("ECR003", "aws_ecr_repository.old", "rules"), ("ECR011", "aws_ecr_repository.bare", "rules"),
        ("ECR010", "aws_kms_key.logs", "rules"), ("ECR010", "aws_kms_key.backups", "rules"),
        ("ECR012", "aws_iam_policy.pull", "rules"), ("ECR012", "aws_iam_policy.login", "rules"),
        ("ECR013", "aws_iam_policy.push", "rules"), ("ECR013", "aws_iam_policy.pull_one_line", "rules"),
        ("ECR012", "data.aws_iam_policy_document.ci", "rules"), ("ECR013", "data.aws_iam_policy_document.ci", "rules")}


def test_the_dev_caller_is_left_alone_and_comments_and_layout_are_kept(tmp_path):
    stack = copy("module_caller", tmp_path)
    cli("fix", stack, "--write", "--no-cache", "--select", "ECR003")
    with open(os.path.join(stack, "stacks", "dev", "main.tf"), encoding="utf-8") as handle:
        assert 'repository_image_tag_mutability = "MUTABLE"' in handle.read()
    tfvars = copy("tfvars", tmp_path / "t")
    cli("fix", tfvars, "--write", "--no-cache", "--select", "ECR003", "--var-file", f"{tfvars}/prod.tfvars")
    with open(os.path.join(tfvars, "prod.tfvars"), encoding="utf-8") as handle:
        assert handle.read() == ('environment          = "prod"\n'
                                 'image_tag_mutability = "IMMUTABLE" # overridden for the migration\n')


# --- no edit, and why -------------------------------------------------------------------------------

def test_a_default_shared_with_a_dev_stack_is_not_edited_and_the_caller_argument_is_named(tmp_path):
    stack = copy("shared_default", tmp_path)
    before = snapshot(stack)
    result = cli("fix", stack, "--write", "--no-cache", "--select", "ECR003")
    assert result.exit_code == 1 and snapshot(stack) == before
    assert ("not fixed: " in result.stderr and "ECR003  module.ecr.aws_ecr_repository.this" in result.stderr
            and "also feeds module.ecr.aws_ecr_repository.this in" in result.stderr
            and "stacks/dev, which has no such finding" in result.stderr
            and 'pass repository_image_tag_mutability = "IMMUTABLE" in the call of module.ecr in' in result.stderr)


def test_an_installed_registry_module_is_not_edited_and_the_reason_is_given(tmp_path, tf_required):
    from test_installed_modules import git_module, init

    url = git_module(tmp_path / "repo", {"main.tf": '''variable "name" {}
variable "mutability" {
  default = "MUTABLE"
}
resource "aws_ecr_repository" "this" {
  name                 = var.name
  image_tag_mutability = var.mutability
}
'''})
    stack = tmp_path / "stack"
    write(stack, {"main.tf": f'module "ecr" {{\n  source = "git::{url}?ref=v1"\n  name   = "x"\n}}\n'})
    init(stack)
    before = snapshot(str(stack))
    result = cli("fix", str(stack), "--write", "--no-cache", "--select", "ECR002,ECR003", "--environment", "prod")
    assert result.exit_code == 1 and snapshot(str(stack)) == before
    lines = [line for line in result.stderr.splitlines() if "not fixed" in line]
    assert len(lines) == 2 and all("installed" in line and "module call" in line for line in lines), result.stderr
    # The caller passes the value: that argument is in the stack, and is edited.
    write(stack, {"main.tf": f'module "ecr" {{\n  source     = "git::{url}?ref=v1"\n  name       = "x"\n'
                             '  mutability = "MUTABLE"\n}\n'})
    result = cli("fix", str(stack), "--write", "--no-cache", "--select", "ECR003", "--environment", "prod")
    assert result.exit_code == 1, result.output
    assert (stack / "main.tf").read_text().count('mutability = "IMMUTABLE"') == 1
    proven(str(stack), ["."])


def test_values_from_the_command_line_and_without_tag_values_are_explained(tmp_path):
    stack = copy("tfvars", tmp_path)
    result = cli("fix", stack, "--diff", "--no-cache", "--select", "ECR003,ECR007", "--var", "environment=prod",
                 "--var", "image_tag_mutability=MUTABLE")
    assert result.stdout == ""
    assert "given on the command line (-var image_tag_mutability=... on the command line)" in result.stderr
    assert "no value for Owner, CostCenter, Lifecycle, DataClass, Service in the config's fix.tag_values" in result.stderr


# --- writing safely -------------------------------------------------------------------------------

def test_a_symlinked_origin_is_not_written(tmp_path):
    stack = copy("seed_as_written", tmp_path)
    os.mkdir(os.path.join(stack, "shared"))
    real = os.path.join(stack, "shared", "variables.tf.txt")
    shutil.move(os.path.join(stack, "variables.tf"), real)
    os.symlink(real, os.path.join(stack, "variables.tf"))  # inside the tree: read, never written through
    before = open(real, encoding="utf-8").read()
    result = cli("fix", stack, "--write", "--no-cache", "--select", "ECR003")
    assert result.exit_code == 1 and result.stdout == ""
    assert open(real, encoding="utf-8").read() == before and os.path.islink(os.path.join(stack, "variables.tf"))
    assert "not fixed" in result.stderr and "reached through a symbolic link" in result.stderr
    # A symlink out of the tree is not even read (the gate refuses it): exit 2, nothing written.
    outside = tmp_path / "elsewhere.tf"
    shutil.move(real, outside)
    os.remove(os.path.join(stack, "variables.tf"))
    os.symlink(outside, os.path.join(stack, "variables.tf"))
    result = cli("fix", stack, "--write", "--no-cache", "--select", "ECR003")
    assert result.exit_code == 2 and result.stdout == "" and outside.read_text() == before


def test_a_module_outside_the_linted_tree_is_not_written(tmp_path):
    shutil.copytree(os.path.join(FIX, "shared_default"), tmp_path / "repo")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path / "repo", check=True)  # the module is read (same repository)
    module = tmp_path / "repo" / "modules" / "ecr" / "main.tf"
    original = module.read_text()
    result = cli("fix", str(tmp_path / "repo" / "stacks" / "prod"), "--write", "--no-cache", "--select", "ECR002")
    assert module.read_text() == original and result.exit_code == 1 and result.stdout == ""
    assert "ECR002  module.ecr.aws_ecr_repository.this" in result.stderr
    assert "is not edited: it is outside the linted tree" in result.stderr


def test_a_file_changed_since_it_was_read_is_not_touched(tmp_path):
    from ecr_lint.config import Config
    from ecr_lint.fix import make_plan
    from ecr_lint.fix.write import write as write_plan

    stack = copy("seed_as_written", tmp_path)
    plan = make_plan([stack], Config(select=frozenset({"ECR003"})), load_rules(), cache=False)
    assert [os.path.basename(p) for p in plan.changed_files()] == ["variables.tf"]
    path = os.path.join(stack, "variables.tf")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("# edited by someone else meanwhile\n")
    changed = open(path, encoding="utf-8").read()
    written, skipped = write_plan(plan)
    assert written == [] and [(os.path.basename(p), why.split(":")[0]) for p, why in skipped] == \
        [("variables.tf", "it changed since ecr-lint read it")]
    assert open(path, encoding="utf-8").read() == changed
    assert not [n for n in os.listdir(stack) if n.endswith(".ecr-lint-fix")]  # no temporary file left


def test_nothing_to_fix_is_exit_zero_and_no_output(tmp_path):
    result = cli("fix", "terraform/ecr/fileflow", "--diff", "--no-cache")
    assert (result.exit_code, result.stdout) == (0, "")


# --- edits for other tools: JSON and SARIF ---------------------------------------------------------

def test_json_edits_apply_to_the_files_as_read(tmp_path):
    stack = copy("rules", tmp_path)
    result = cli("fix", stack, "--format", "json", "--no-cache", "--select", FIXABLE)
    data = json.loads(result.stdout)
    fixed = [f for f in data["findings"] if "fix" in f]
    assert {f["rule_id"] for f in fixed} == set(FIXABLE.split(",")) - {"ECR007"}  # default_tags hold every tag
    texts = {name: open(os.path.join(stack, name), encoding="utf-8").read() for name in os.listdir(stack)
             if name.endswith(".tf")}
    edits = {}
    for finding in fixed:
        for edit in finding["fix"]["edits"]:
            edits[(edit["file"], edit["offset"], edit["length"], edit["text"])] = edit
    for (file, offset, length, text) in sorted(edits, key=lambda e: e[1], reverse=True):
        name = os.path.basename(file)
        texts[name] = texts[name][:offset] + text + texts[name][offset + length:]
    combined = {name: open(os.path.join(stack, name), encoding="utf-8").read() for name in texts}
    for edit in sorted(data["edits"], key=lambda e: e["offset"], reverse=True):  # all at once, as --write
        name = os.path.basename(edit["file"])
        combined[name] = combined[name][:edit["offset"]] + edit["text"] + combined[name][edit["offset"] + edit["length"]:]
    cli("fix", stack, "--write", "--no-cache", "--select", FIXABLE)
    assert {n: open(os.path.join(stack, n), encoding="utf-8").read() for n in texts} == texts == combined
    assert sorted(os.path.basename(p) for p in data["fixed_files"]) == ["keys.tf", "policies.tf", "repositories.tf"]


def test_sarif_carries_fixes_with_artifact_changes(tmp_path):
    result = cli("fix", "fixtures/seed_as_written", "--format", "sarif", "--no-cache", "--select", "ECR003")
    data = json.loads(result.stdout)
    [finding] = data["runs"][0]["results"]
    assert finding["fixes"] == [{
        "description": {"text": 'set default of var.image_tag_mutability to "IMMUTABLE" '
                                "(fixtures/seed_as_written/variables.tf:40)"},
        "artifactChanges": [{
            "artifactLocation": {"uri": "fixtures/seed_as_written/variables.tf"},
            "replacements": [{"deletedRegion": {"startLine": 40, "startColumn": 1, "endLine": 41, "endColumn": 1,
                                                "charOffset": finding["fixes"][0]["artifactChanges"][0]["replacements"]
                                                [0]["deletedRegion"]["charOffset"], "charLength": 26},
                              "insertedContent": {"text": '  default     = "IMMUTABLE"\n'}}]}]}]
    schema = os.path.join(SHARED, "schemas", "sarif-schema-2.1.0.json")
    if os.path.exists(schema):
        import jsonschema

        with open(schema, encoding="utf-8") as handle:
            jsonschema.Draft7Validator(json.load(handle)).validate(data)


# --- the rule files say whether they are fixable, and their examples run ---------------------------

def test_every_rule_file_says_whether_it_is_fixable_and_fixable_means_a_fixer():
    rules = load_rules()
    assert all(r.fix for r in rules)
    assert {r.id for r in rules if r.fix["fixable"]} == set(FIXERS)


@pytest.mark.parametrize("rule_id", sorted(FIXERS))
def test_each_rule_files_fix_example_is_what_fix_writes(tmp_path, rule_id):
    with open(os.path.join(REPO, "rules", f"{rule_id}.yaml"), encoding="utf-8") as handle:
        example = yaml.safe_load(handle)["fix"]["example"]
    files = {"main.tf": example["before"]}
    args = []
    if example.get("tag_values"):
        values = "\n".join(f'{k} = "{v}"' for k, v in example["tag_values"].items())
        files["fix.toml"] = f"[fix.tag_values]\n{values}\n"
        args = ["--config", str(tmp_path / "fix.toml")]
    write(tmp_path, files)
    result = cli("fix", str(tmp_path), "--write", "--no-cache", "--select", rule_id, *args)
    assert result.exit_code == 1, result.output
    assert (tmp_path / "main.tf").read_text() == example["after"]
    assert findings(str(tmp_path), "--select", rule_id, *args) == set()


def test_docs_show_the_fix():
    with open(os.path.join(REPO, "docs", "rules", "ECR003.md"), encoding="utf-8") as handle:
        text = handle.read()
    assert "## `ecr-lint fix`" in text and 'default = "IMMUTABLE" # set once for a migration' in text


# --- the pre-commit hook -----------------------------------------------------------------------------

def test_the_pre_commit_hook_fixes_the_staged_stack(tmp_path):
    from test_precommit import PRE_COMMIT, _git

    if not os.path.exists(PRE_COMMIT):
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    repo = tmp_path / "infra"
    shutil.copytree(os.path.join(REPO, "fixtures", "seed_as_written"), repo / "ecr")
    write(repo, {".ecr-lint.toml": 'select = ["ECR003"]\n'})
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "initial")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "home")}
    done = subprocess.run([PRE_COMMIT, "try-repo", REPO, "ecr-lint-fix", "--verbose", "--files", "ecr/main.tf"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "files were modified by this hook" in done.stdout
    assert 'default     = "IMMUTABLE"' in (repo / "ecr" / "variables.tf").read_text()
    again = subprocess.run([PRE_COMMIT, "try-repo", REPO, "ecr-lint-fix", "--files", "ecr/main.tf"],
                           cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_sensitive_value_near_an_edit_is_never_shown_but_the_file_is_written_whole(tmp_path):
    stack = copy("tfvars", tmp_path)
    secret = "Sup3rS3cret-918273645"
    with open(os.path.join(stack, "prod.tfvars"), "a", encoding="utf-8") as handle:
        handle.write(f'db_password          = "{secret}"\n')
    with open(os.path.join(stack, "variables.tf"), "a", encoding="utf-8") as handle:
        handle.write('\nvariable "db_password" {\n  type      = string\n  sensitive = true\n}\n')
    args = ["--no-cache", "--select", "ECR003", "--var-file", f"{stack}/prod.tfvars"]
    for fmt in ("text", "json", "sarif"):
        result = cli("fix", stack, "--diff", "--format", fmt, *args)
        assert result.exit_code == 1 and secret not in result.output and secret not in result.stderr, fmt
    assert "(a sensitive variable's value, not shown)" in cli("fix", stack, "--diff", *args).stdout
    cli("fix", stack, "--write", *args)
    with open(os.path.join(stack, "prod.tfvars"), encoding="utf-8") as handle:
        assert handle.read() == ('environment          = "prod"\n'
                                 'image_tag_mutability = "IMMUTABLE" # overridden for the migration\n'
                                 f'db_password          = "{secret}"\n')


def test_a_file_with_control_characters_is_not_edited(tmp_path):
    stack = copy("seed_as_written", tmp_path)
    path = os.path.join(stack, "variables.tf")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('# \x1b[2J a comment that would clear the terminal\n')
    before = open(path, encoding="utf-8").read()
    result = cli("fix", stack, "--write", "--no-cache", "--select", "ECR003")
    assert open(path, encoding="utf-8").read() == before and "holds control or invisible characters" in result.stderr


def test_the_real_registry_module_installed_by_terraform_init(tmp_path, tf_required):
    """terraform-aws-modules/ecr/aws v2.4.0 from ../shared (a git source, installed by a real
    `terraform init`): what comes from the caller is edited there; what comes from the module's
    own defaults is not edited, and the finding says why."""
    from test_installed_modules import LIFECYCLE, REGISTRY, _registry_stack, init

    if not os.path.isdir(REGISTRY):
        pytest.skip(f"{REGISTRY} is not here (it lives in ../shared beside the repository)")
    stack = _registry_stack(tmp_path, "v2.4.0", f'''module "defaults" {{
  source          = "SOURCE"
  repository_name = "defaults"
  repository_lifecycle_policy = {LIFECYCLE}
}}

module "kms" {{
  source                          = "SOURCE"
  repository_name                 = "kms"
  repository_encryption_type      = "KMS"
  repository_kms_key              = "arn:aws:kms:ap-northeast-2:111122223333:key/0f3b5b4e-1234-4d2a-9b1c-2c4d5e6f7a8b"
  repository_image_tag_mutability = "MUTABLE" # the caller's choice: edited here
  repository_lifecycle_policy = {LIFECYCLE}
}}
''')
    assert terraform(str(stack), "fmt", "-check").returncode == 0  # clean before: fix must keep it so
    init(stack)
    args = ["--no-cache", "--select", "ECR001,ECR003", "--environment", "prod"]
    result = cli("fix", str(stack), "--write", *args)
    assert result.exit_code == 1, result.output
    text = (stack / "main.tf").read_text()
    assert 'repository_image_tag_mutability = "IMMUTABLE" # the caller\'s choice: edited here' in text
    assert [line.split("  ")[1:3] for line in result.stderr.splitlines() if line.startswith("ecr-lint: fixed")] == \
        [["ECR003", "module.kms.aws_ecr_repository.this[0]: set argument repository_image_tag_mutability of "
                    f"module.kms to \"IMMUTABLE\" ({stack}/main.tf:15)"]]
    [refused] = [line for line in result.stderr.splitlines() if "not fixed" in line]
    assert "ECR001  module.defaults.aws_ecr_repository.this[0]" in refused and "installed" in refused
    assert findings(str(stack), *args[1:]) == {("ECR001", "module.defaults.aws_ecr_repository.this[0]", "stack")}
    proven(str(stack), ["."])


def test_each_value_of_a_module_call_is_fixed_in_its_for_each_element(tmp_path, tf_required):
    write(tmp_path, {
        "modules/ecr/main.tf": '''variable "name" {
  type = string
}

variable "mutability" {
  type = string
}

resource "aws_ecr_repository" "this" {
  name                 = var.name
  image_tag_mutability = var.mutability
}
''',
        "main.tf": '''module "ecr" {
  source = "./modules/ecr"
  for_each = {
    api     = "IMMUTABLE"
    scratch = "MUTABLE" # to be reviewed
  }
  name       = each.key
  mutability = each.value
}
'''})
    args = ["--no-cache", "--select", "ECR003", "--environment", "prod"]
    result = cli("fix", str(tmp_path), "--write", *args)
    assert result.exit_code == 1 and 'set scratch of for_each of module.ecr to "IMMUTABLE"' in result.stderr
    assert '    scratch = "IMMUTABLE" # to be reviewed\n' in (tmp_path / "main.tf").read_text()
    assert findings(str(tmp_path), *args[1:]) == set()
    proven(str(tmp_path), ["."])


# --- a hostile review of fix (helper-14's findings; each failed before its fix) -----------------------

def test_under_pre_commit_a_module_default_shared_with_an_unlinted_stack_is_not_edited(tmp_path):
    """--changed-files lints only the changed stack, but may write anywhere below the working
    directory: the other callers of an edited module are proven against too."""
    from test_precommit import _git

    repo = copy("module_caller", tmp_path)
    module = os.path.join(repo, "modules", "ecr", "main.tf")
    with open(module, encoding="utf-8") as handle:
        text = handle.read()
    with open(module, "w", encoding="utf-8") as handle:
        handle.write(text.replace('default = "IMMUTABLE"', 'default = "MUTABLE"'))
    for stack in ("prod", "prod-eu", "dev"):  # every caller takes the module's default
        path = os.path.join(repo, "stacks", stack, "main.tf")
        with open(path, encoding="utf-8") as handle:
            lines = [line for line in handle if "repository_image_tag_mutability" not in line]
        with open(path, "w", encoding="utf-8") as handle:
            handle.writelines(lines)
    _git(repo, "init", "-q")
    before = snapshot(repo)
    result = cli("fix", "--write", "--changed-files", "stacks/prod/main.tf", "--select", "ECR003", "--no-cache",
                 cwd=repo)
    assert result.exit_code == 1, result.output
    assert snapshot(repo) == before
    assert "also feeds module.ecr.aws_ecr_repository.this in stacks/dev, which has no such finding" in result.stderr


def test_a_value_a_provider_or_an_output_also_reads_is_not_edited(tmp_path):
    write(tmp_path, {"main.tf": """\
        locals {
          flag  = false
          other = local.flag
        }

        provider "aws" {
          region                      = "ap-northeast-2"
          skip_credentials_validation = local.other
        }

        resource "aws_ecr_repository" "app" {
          name                 = "app"
          image_tag_mutability = "IMMUTABLE"
          image_scanning_configuration {
            scan_on_push = local.flag
          }
          tags = { Environment = "prod" }
        }
        """})
    result = cli("fix", str(tmp_path), "--write", "--no-cache", "--select", "ECR002")
    assert result.exit_code == 1 and "wrote" not in result.stdout
    assert "the value's origin also feeds provider aws (" in result.stderr and "main.tf:6)" in result.stderr
    (tmp_path / "main.tf").write_text((tmp_path / "main.tf").read_text().replace(
        "skip_credentials_validation = local.other", "skip_credentials_validation = true") + """
output "flag" {
  value = local.flag
}
""")
    result = cli("fix", str(tmp_path), "--write", "--no-cache", "--select", "ECR002")
    assert "the value's origin also feeds output flag (" in result.stderr and "wrote" not in result.stdout


def test_a_sensitive_variable_assigned_near_an_edit_is_hidden_in_the_diff(tmp_path):
    stack = copy("tfvars", tmp_path)
    with open(os.path.join(stack, "variables.tf"), "a", encoding="utf-8") as handle:
        handle.write('\nvariable "db_password" {\n  type      = string\n  sensitive = true\n}\n')
    with open(os.path.join(stack, "prod.tfvars"), "a", encoding="utf-8") as handle:
        handle.write('db_password          = "hunter2"\n')
    result = cli("fix", stack, "--diff", "--no-cache", "--select", "ECR003", "--var-file", f"{stack}/prod.tfvars")
    assert result.exit_code == 1, result.output
    assert "hunter2" not in result.output
    assert " db_password          = (a sensitive variable's value, not shown)\n" in result.stdout
    assert '+image_tag_mutability = "IMMUTABLE" # overridden for the migration\n' in result.stdout


def test_nothing_from_the_tree_or_the_config_reaches_the_diff_raw(tmp_path):
    stack = copy("tfvars", tmp_path)
    with open(os.path.join(stack, "prod.tfvars"), "a", encoding="utf-8") as handle:
        handle.write("# ##[add-matcher]/tmp/evil.json\n")
    result = cli("fix", stack, "--diff", "--no-cache", "--select", "ECR003", "--var-file", f"{stack}/prod.tfvars")
    assert result.stdout == "" and "holds control or invisible characters, or a CI log command" in result.stderr
    odd = tmp_path / "odd"
    write(odd, {"main.tf": 'resource "aws_ecr_repository" "app" {\n  name                 = "app"\n'
                           '  image_tag_mutability = var.m\n  tags                 = { Environment = "prod" }\n}\n',
                "v\n::error file=x::PWNED.tf": 'variable "m" {\n  default = "MUTABLE"\n}\n'})
    result = cli("fix", str(odd), "--diff", "--no-cache", "--select", "ECR003")
    assert result.stdout == "" and "::error" not in result.stderr.replace("\\n::error", "")
    tags = tmp_path / "tags"
    write(tags, {"main.tf": 'resource "aws_sns_topic" "alerts" {\n  name = "ecr-alerts"\n}\n',
                 "fix.toml": '[fix.tag_values]\nOwner = "a\\u001b[2J ##[group]x"\nCostCenter = "1\\u2028::warning::y"\n'
                             'Environment = "prod"\nLifecycle = "x"\nDataClass = "x"\nService = "s"\n'})
    result = cli("fix", str(tags), "--write", "--no-cache", "--select", "ECR007", "--config", str(tags / "fix.toml"))
    assert result.exit_code == 1, result.output
    text = (tags / "main.tf").read_text()
    assert 'Owner       = "a\\u001b[2J #\\u0023[group]x"' in text and 'CostCenter  = "1\\u2028::warning::y"' in text
    assert findings(str(tags), "--select", "ECR007", "--config", str(tags / "fix.toml")) == set()


def test_exclusion_filters_an_override_file_replaces_are_not_narrowed_here(tmp_path):
    stack = copy("exclusion_all", tmp_path)
    write(stack, {"main_override.tf": """\
        resource "aws_ecr_repository" "app" {
          image_tag_mutability_exclusion_filter {
            filter      = "v*"
            filter_type = "WILDCARD"
          }
        }
        """})
    before = snapshot(stack)
    result = cli("fix", stack, "--write", "--no-cache", "--select", "ECR003")
    assert result.exit_code == 1 and snapshot(stack) == before
    assert "main_override.tf overrides aws_ecr_repository app too" in result.stderr


def test_nothing_is_edited_while_an_input_cannot_be_read(tmp_path):
    block = 'resource "aws_ecr_repository" "app" {\n  name                 = "app"\n  image_tag_mutability = "MUTABLE"\n' \
            '  tags                 = { Environment = "prod" }\n}\n'
    write(tmp_path, {"a.tf": block, "b.tf": block})
    before = snapshot(str(tmp_path))
    result = cli("fix", str(tmp_path), "--write", "--no-cache", "--select", "ECR003")
    assert result.exit_code == 2 and snapshot(str(tmp_path)) == before
    assert "not edited: an input could not be read (" in result.stderr and "fix the input errors first" in result.stderr


def test_outside_git_the_changed_files_mode_proves_against_every_stack_below_the_working_directory(tmp_path):
    """Without a git repository, the other callers of an edited module are found in the tree fix
    may write to (the working directory under --changed-files), not skipped: here a module kept
    inside the prod stack that a dev stack also calls."""
    module = 'variable "mutability" {\n  default = "MUTABLE"\n}\n\nvariable "environment" {}\n\n' \
             'resource "aws_ecr_repository" "this" {\n  name                 = "r-${var.environment}"\n' \
             '  image_tag_mutability = var.mutability\n  tags                 = { Environment = var.environment }\n}\n'
    write(tmp_path, {
        "stacks/prod/main.tf": 'module "ecr" {\n  source      = "./modules/ecr"\n  environment = "prod"\n}\n',
        "stacks/prod/modules/ecr/main.tf": module,
        "stacks/dev/main.tf": 'module "ecr" {\n  source      = "../prod/modules/ecr"\n  environment = "dev"\n}\n',
    })
    before = snapshot(str(tmp_path))
    result = cli("fix", "--write", "--changed-files", "stacks/prod/main.tf", "--select", "ECR003", "--no-cache",
                 cwd=str(tmp_path))
    assert result.exit_code == 1, result.output
    assert snapshot(str(tmp_path)) == before
    assert "also feeds module.ecr.aws_ecr_repository.this in stacks/dev, which has no such finding" in result.stderr
