"""Peer parity: ecr-lint's verdicts next to checkov's, trivy's and KICS's on their own ECR fixtures.

Importable, not collected (tests/test_peer_parity.py asserts on it, scripts/gen_peer_parity.py
renders docs/peer-parity.md from it). The corpus under ../shared/corpus is data only: the peers'
fixtures and the verdicts their own tests expect (or, for checkov, that checkov 3.1.47 gave).

One row per (peer, fixture file, resource address, peer check). Every fixture file is linted on
its own, in a temporary directory of its own: peers keep several independent examples that
declare the same resource address side by side, which Terraform (and ecr-lint) would reject as
one directory. Support files go along (tfvars, local module directories).

Peer verdicts: pass, fail, skipped (checkov's own skip comment), unknown (checkov evaluated the
check but hides the UNKNOWN result; recorded in-process). ecr-lint verdicts: pass, fail,
unknown, suppressed, or missing (no result for that rule and address). They agree when equal,
skipped matching suppressed; anything else is a difference, which must be explained in
DELIBERATE or is an ecr-lint bug (KNOWN_BUGS; the test fails on those until they are fixed).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.normpath(os.path.join(REPO, "..", "shared"))
CORPUS = os.path.join(SHARED, "corpus")
DOC = os.path.join(REPO, "docs", "peer-parity.md")

PEERS = ("checkov", "trivy", "kics")

# The mapping this comparison was written against (issue 7 item 3). The rule files' `peers:`
# field is the source the rows use; test_peer_parity checks the two agree, so a change to
# either is a deliberate, visible act.
EXPECTED_MAPPING = {
    ("checkov", "CKV_AWS_136"): "ECR001",
    ("checkov", "CKV_AWS_163"): "ECR002",
    ("checkov", "CKV_AWS_51"): "ECR003",
    ("checkov", "CKV_AWS_32"): "ECR005",
    ("trivy", "AVD-AWS-0033"): "ECR001",
    ("trivy", "AVD-AWS-0030"): "ECR002",
    ("trivy", "AVD-AWS-0031"): "ECR003",
    ("trivy", "AVD-AWS-0032"): "ECR005",
    ("kics", "0e32d561-4b5a-4664-a6e3-a3fa85649157"): "ECR001",  # ecr_repository_not_encrypted
    ("kics", "9630336b-3fed-4096-8173-b9afdfe346a7"): "ECR002",  # unscanned_ecr_image
    ("kics", "d1846b12-20c5-4d45-8798-fc35b79268eb"): "ECR003",  # ecr_image_tag_not_immutable
    ("kics", "e86e26fc-489e-44f0-9bcd-97305e4ba69a"): "ECR005",  # ecr_repository_is_publicly_accessible
}

# Peer checks in the corpus with no ecr-lint counterpart: not compared, listed in the doc.
NO_EQUIVALENT = {
    ("kics", "69e7c320-b65d-41bb-be02-d63ecc0bcc9d"): (
        "ECR Repository Without Policy (ecr_repository_without_policy) requires every repository to "
        "have an `aws_ecr_repository_policy`. The checklist does not: a repository without a policy "
        "is reachable only through identity policies in its own account, which is what the checklist "
        "wants by default. ecr-lint judges the policies that exist (ECR005) and identity-policy "
        "wildcards (ECR004) instead."),
}

# Corpus content not compared, and why (shown in the doc).
NOT_COMPARED = [
    ("checkov", "upstream/tests/cloudformation/**",
     "CloudFormation templates: ecr-lint reads Terraform HCL and plan JSON only."),
    ("checkov", "upstream/tests/terraform/checks/resource/aws/example_IAMCredentialsExposure, "
                "checks/data/aws/example_CloudSplainingCredentialsExposure",
     "IAM-only fixtures: checkov's ECR checks (51, 136, 163, 32) report nothing there."),
    ("checkov", "upstream/tests/terraform/parser/resources/plan_tags/tfplan.json",
     "the ECR repository is only in `resource_changes`; checkov reports nothing on it."),
    ("checkov", "probes/p09_plan_json (variant runs)",
     "the EVAL_TF_PLAN_AFTER_UNKNOWN and --repo-root-for-plan-enrichment runs repeat the plain "
     "run's verdicts (the enrichment run only adds checkov skip comments from src/)."),
    ("checkov", "checks other than CKV_AWS_51/136/163/32 in the probe runs (IAM CKV_AWS_62/63/286-290/355, "
                "SSM CKV_AWS_337/CKV2_AWS_34, the probes' custom CKV2_ECRX_*)",
     "no rule file lists them as peers (ECR004, ECR007 and ECR008 have no checkov counterpart with the same "
     "intent), so there is no pair of verdicts to compare."),
    ("trivy", "rego-unit-inputs/*.json",
     "cloud-state JSON for trivy's Rego unit tests, not Terraform: ecr-lint cannot read them."),
]

STATUS_ORDER = {"fail": 4, "unknown": 3, "suppressed": 2, "pass": 1}
AGREEING = {("pass", "pass"), ("fail", "fail"), ("unknown", "unknown"), ("skipped", "suppressed")}


@dataclass(frozen=True)
class Row:
    peer: str
    fixture: str          # relative to corpus/<peer>/ (a variant is appended after " + ")
    address: str
    check: str            # the peer's check id (KICS: the query's folder name)
    peer_verdict: str     # pass | fail | skipped | unknown
    source: str           # where the peer verdict comes from
    rule: str             # the ecr-lint rule with the same intent
    verdict: str          # pass | fail | unknown | suppressed | missing
    message: str          # ecr-lint's message (or the input errors when the result is missing)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.peer, self.fixture, self.address, self.check)

    @property
    def agree(self) -> bool:
        return (self.peer_verdict, self.verdict) in AGREEING


# --------------------------------------------------------------------------------------------
# Known, explained differences. Key: (peer, fixture, address, peer check) -> reason.
# --------------------------------------------------------------------------------------------

_AWS_MANAGED = ("checkov passes `encryption_type = \"KMS\"` without `kms_key`; that is the AWS-managed key "
                "aws/ecr, not a customer-managed key, so ECR001 fails it (trivy AVD-AWS-0033 and KICS fail it too).")
_LITERAL_ACCOUNT = ("the policy names account 123456789012 by a literal ARN. ECR005 accepts this account as "
                    "`data.aws_caller_identity.<name>.account_id` and other accounts only when they are listed in "
                    "`allowed_accounts` (the checklist: cross-account access is added explicitly, for the accounts "
                    "that need it); a hard-coded account nobody allowed fails. CKV_AWS_32 only looks for public "
                    "principals.")
_UNDECLARED_LOCAL = ("the fixture uses `local.org_ids`, which it never declares; Terraform rejects the file "
                     "(\"Reference to undeclared local value\"), and ecr-lint reports unknown naming that reference "
                     "rather than guessing. ")
_CORP_PLAN = ("this terragoat plan sets `environment = \"corp\"` and the repository has no Environment tag: "
              "not production, so ECR003 (immutable tags in production) passes the MUTABLE repository. "
              "CKV_AWS_51 wants IMMUTABLE everywhere.")
_TRIVY_0032_GOOD = ("trivy's \"good\" example is not a valid policy: `\"Principal\": \"arn:aws:iam::...:root\"` is a "
                    "bare string, and IAM's grammar allows only `\"*\"` or an object such as `{\"AWS\": ...}`, so AWS "
                    "rejects it. It also uses `data.aws_caller_identity.current` without declaring it, which "
                    "Terraform rejects; ecr-lint reports unknown naming that undeclared reference. With the data "
                    "block added, ECR005 fails it (Principal must be `*` or an object): never a pass.")

DELIBERATE: dict[tuple[str, str, str, str], str] = {
    # ---- checkov -------------------------------------------------------------------------
    ("checkov", "derived/test_ECRRepositoryEncrypted/success/main.tf", "aws_ecr_repository.foo", "CKV_AWS_136"):
        _AWS_MANAGED + " Checkov's own test (test_ECRRepositoryEncrypted::test_success) asserts this pass.",
    ("checkov", "probes/p01_kms_variants/main.tf", "aws_ecr_repository.kms_aws_managed", "CKV_AWS_136"):
        _AWS_MANAGED,
    ("checkov", "probes/p09_plan_json/tfplan.json", "aws_ecr_repository.aws_managed", "CKV_AWS_136"):
        _AWS_MANAGED + " In the plan `kms_key` is only `after_unknown` (the provider fills it in); the plan's "
        "configuration has no `kms_key` expression, which settles it.",
    ("checkov", "probes/p01_kms_variants/main.tf", "aws_ecr_repository.kms_dsse_cmk", "CKV_AWS_136"):
        "`encryption_type = \"KMS_DSSE\"` with `kms_key = aws_kms_key.ecr.arn` is dual-layer encryption under a "
        "customer-managed key, so ECR001 passes it; checkov accepts only the exact string KMS (false positive; "
        "KICS's query would flag it the same way).",
    ("checkov", "probes/p01_kms_variants/main.tf", "aws_ecr_repository.kms_from_vars", "CKV_AWS_136"):
        "`kms_key = var.kms_key_arn` and the variable has no default: which key it is cannot be known until a "
        "value is given, so ECR001 reports unknown with that reason. Checkov passes on the mere presence of a "
        "`kms_key` expression.",
    ("checkov", "probes/p02_vars_conditionals/main.tf", "aws_ecr_repository.conditional_prod", "CKV_AWS_51"):
        "`var.environment == \"prod\" ? \"IMMUTABLE\" : \"MUTABLE\"` with environment defaulting to prod is "
        "IMMUTABLE; checkov renders the string ternary as 'False' and fails it (false positive). ECR003 "
        "evaluates it and passes.",
    ("checkov", "probes/p02_vars_conditionals/main.tf", "aws_ecr_repository.lookup_local", "CKV_AWS_51"):
        "`lookup(local.map, var.environment, \"MUTABLE\")` is IMMUTABLE for prod; checkov leaves the lookup "
        "unrendered and drops the result (an UNKNOWN it hides). ECR003 evaluates it and passes.",
    ("checkov", "probes/p02_vars_conditionals/main.tf", "aws_ecr_repository.immutable_with_exclusion", "CKV_AWS_51"):
        "IMMUTABLE_WITH_EXCLUSION with the single filter `latest*` keeps every other tag, the `v*` release tags "
        "among them, immutable. rules/ECR003.yaml accepts the mode with narrow filters (a bare `*` filter "
        "fails); checkov accepts only the exact string IMMUTABLE (the mode dates from 2025).",
    ("checkov", "probes/p05_iam_wildcards/main.tf", "aws_ecr_repository_policy.account_ecr_star", "CKV_AWS_32"):
        _LITERAL_ACCOUNT,
    ("checkov", "probes/p05_iam_wildcards/main.tf", "aws_ecr_repository_policy.from_policy_document", "CKV_AWS_32"):
        "`policy = data.aws_iam_policy_document.doc_public_principal.json`, a document granting AWS principal "
        "`*` with no condition: ecr-lint follows the reference and fails the public grant. Checkov cannot "
        "attribute the document to the repository policy and drops the result (an UNKNOWN it hides).",
    ("checkov", "upstream/tests/terraform/checks/resource/aws/example_ECRPolicy/main.tf",
     "aws_ecr_repository_policy.cond_any_pass", "CKV_AWS_32"):
        _UNDECLARED_LOCAL + "With `org_ids` declared, ECR005 judges the organizations it names, like "
        "`cond_equals_pass`: the public principal is narrowed by `ForAnyValue:StringEquals aws:PrincipalOrgID`.",
    ("checkov", "upstream/tests/terraform/checks/resource/aws/example_ECRPolicy/main.tf",
     "aws_ecr_repository_policy.cond_equals_pass", "CKV_AWS_32"):
        "`Principal \"*\"` narrowed by `StringEquals aws:PrincipalOrgID = \"o-xxxxxxxxxxx\"`, a literal "
        "organization. ECR005 compares it with this stack's own organization "
        "(`data.aws_organizations_organization.<name>.id`, `${aws:ResourceOrgID}`) and `allowed_organizations`: "
        "an organization nobody allowed lets every account in it pull, so it fails, naming the organization "
        "(issue 12 item 8). Checkov passes any organization ID.",
    ("checkov", "upstream/tests/terraform/checks/resource/aws/example_ECRPolicy/main.tf",
     "aws_ecr_repository_policy.pass_without_principal", "CKV_AWS_32"):
        _UNDECLARED_LOCAL + "With `org_ids` declared, ECR005 fails it: an Allow statement with no Principal is "
        "not valid in a repository policy (AWS rejects it), so checkov's pass is wrong either way.",
    ("checkov", "upstream/tests/terraform/checks/resource/aws/example_ECRPolicy/main.tf",
     "aws_ecr_repository_policy.empty", "CKV_AWS_32"):
        "`policy = \"\"` is not a policy (AWS rejects it: the policy text is required JSON), so ECR005 fails it "
        "as not valid JSON; checkov's test counts it as a pass because there is nothing public in it.",
    ("checkov", "upstream/tests/terraform/checks/resource/aws/example_ECRPolicy/main.tf",
     "aws_ecr_repository_policy.pass", "CKV_AWS_32"):
        "the IAM users `arn:aws:iam::123456789012:user/pull-user-1` and `-2` belong to account 123456789012, "
        "given as a literal. " + _LITERAL_ACCOUNT.replace("the policy names account 123456789012 by a literal ARN. ", ""),
    ("checkov", "upstream/tests/terraform/checks/resource/aws/example_ECRPolicy/main.tf",
     "aws_ecr_repository_policy.pass_conditional", "CKV_AWS_32"):
        "`Principal \"*\"` narrowed only by `ForAllValues:StringEquals aws:PrincipalOrgID`: ForAllValues is true "
        "when the key is absent from the request (callers outside any organization, anonymous callers), so it "
        "does not narrow a public grant (AWS warns against ForAllValues with single-valued keys). ECR005 fails "
        "it; checkov accepts it. The fix is plain `StringEquals` (as in `cond_equals_pass`) on an allowed organization.",
    ("checkov", "upstream/tests/terraform/runner/resources/plan/tfplan.json", "aws_ecr_repository.repository",
     "CKV_AWS_51"): _CORP_PLAN,
    ("checkov", "upstream/tests/terraform/runner/tf_plan_skip_check_regex/resource/tfplan1.json",
     "aws_ecr_repository.repository", "CKV_AWS_51"): _CORP_PLAN,
    ("checkov", "upstream/tests/terraform/runner/tfplan2.json", "aws_ecr_repository.repository", "CKV_AWS_51"):
        _CORP_PLAN,
    # ---- trivy ---------------------------------------------------------------------------
    ("trivy", "trivy-checks-examples/AWS-0032_no_public_access/good_0.tf", "aws_ecr_repository_policy.example",
     "AVD-AWS-0032"): _TRIVY_0032_GOOD,
    ("trivy", "legacy-defsec-examples/AVD-AWS-0032_no_public_access/good_0.tf",
     "aws_ecr_repository_policy.foopolicy", "AVD-AWS-0032"): _TRIVY_0032_GOOD,
    ("checkov", "probes/p10_skip_comments/main.tf", "aws_ecr_repository.skip_multi", "CKV_AWS_163"):
        "`# checkov:skip=CKV_AWS_51,CKV_AWS_163: two ids` names both checks; ecr-lint honours both (ECR003 and "
        "ECR002 suppressed, with the comment's reason), as checkov >= 3.2.329 does. The checkov 3.1.47 run the "
        "corpus records read only the first id, so it still failed CKV_AWS_163.",
    # ---- KICS ----------------------------------------------------------------------------
    ("kics", "terraform/aws/ecr_repository_is_publicly_accessible/test/negative.tf",
     "aws_ecr_repository_policy.negative2", "ecr_repository_is_publicly_accessible"):
        "the principal is `arn:aws:iam::##account_number##:root`, a template left unfilled: not an account id, "
        "so AWS rejects the policy (invalid principal), and nothing shows the grant is limited to this account "
        "or an allowed one. ECR005 fails it; KICS's query only looks for `*` in principals.",
}

# ecr-lint's own wrong verdicts found by this comparison. Not excused: the row is left out of
# DELIBERATE, so test_peer_parity fails until ecr-lint is fixed (then the entry is removed).
KNOWN_BUGS: dict[tuple[str, str, str, str], str] = {}

# Wrong peer mappings in the rule files (rules/ECR00x.yaml `peers:`), found by this comparison.
MAPPING_BUGS: dict[tuple[str, str], str] = {}


# --------------------------------------------------------------------------------------------
# Mapping
# --------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _rules():
    from ecr_lint.catalog import load_rules

    return tuple(load_rules())


def rule_peers() -> dict[tuple[str, str], str]:
    """(peer, peer check id) -> ecr-lint rule id, from the rule files' `peers:` field."""
    out = {}
    for rule in _rules():
        for peer, ids in rule.peers.items():
            for peer_id in ids:
                out[(peer, peer_id)] = rule.id
    return out


def mapping() -> dict[tuple[str, str], str]:
    """What the rows use: the rule files' mapping, restricted to the peers compared here."""
    return {k: v for k, v in rule_peers().items() if k[0] in PEERS}


def rule_for(peer: str, peer_id: str) -> str | None:
    """The ecr-lint rule a peer check maps to: the rule files first; where they lack a check this
    comparison expects (a MAPPING_BUGS entry, its own test failure), the expected mapping."""
    return mapping().get((peer, peer_id)) or EXPECTED_MAPPING.get((peer, peer_id))


def _resource_types(rule_id: str) -> frozenset[str]:
    return next(r.resource_types for r in _rules() if r.id == rule_id)


def kics_queries(corpus: str = CORPUS) -> dict[str, dict]:
    """KICS query folder name -> its metadata.json (id, queryName, severity)."""
    base = os.path.join(corpus, "kics", "terraform", "aws")
    out = {}
    for name in sorted(os.listdir(base)):
        with open(os.path.join(base, name, "metadata.json"), encoding="utf-8") as handle:
            out[name] = json.load(handle)
    return out


def _shown(peer: str, check: str, corpus: str = CORPUS) -> str:
    if peer != "kics":
        return check
    name = next((n for n, m in kics_queries(corpus).items() if m["id"] == check), None)
    return f"{name} (`{check}`)" if name else check


def mapping_table(corpus: str = CORPUS) -> list[tuple[str, str, str, str]]:
    """(peer, check as shown, ecr-lint rule or "none", note) for every peer check in the corpus."""
    rules = mapping()
    titles = {r.id: r.title for r in _rules()}
    out = []
    for (peer, check), rule in sorted(EXPECTED_MAPPING.items(), key=lambda kv: (PEERS.index(kv[0][0]), kv[1])):
        actual = rules.get((peer, check))
        if actual == rule:
            out.append((peer, _shown(peer, check, corpus), rule, titles[rule]))
        else:
            why = MAPPING_BUGS.get((peer, check), f"the rule files map it to {actual or 'nothing'}")
            out.append((peer, _shown(peer, check, corpus), f"{rule} (rule files: {actual or 'none'})",
                        f"**mapping bug**: {why}"))
    for (peer, check), why in sorted(NO_EQUIVALENT.items()):
        out.append((peer, _shown(peer, check, corpus), "none", why))
    return out


# --------------------------------------------------------------------------------------------
# Peer verdicts
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fixture:
    peer: str
    path: str                       # relative to corpus/<peer>/
    variant: str = ""               # e.g. "--var-file prod.tfvars"
    var_files: tuple[str, ...] = ()  # relative to the fixture's directory

    @property
    def name(self) -> str:
        return f"{self.path} + {self.variant}" if self.variant else self.path


_RESOURCE = re.compile(r'^\s*resource\s+"([^"]+)"\s+"([^"]+)"')


def _blocks(path: str) -> list[tuple[str, int, int]]:
    """(address, first line, last line) of each top-level resource block (peers' files are simple)."""
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    starts = [(i + 1, f"{m.group(1)}.{m.group(2)}") for i, text in enumerate(lines)
              if (m := _RESOURCE.match(text))]
    out = []
    for n, (line, address) in enumerate(starts):
        end = starts[n + 1][0] - 1 if n + 1 < len(starts) else len(lines)
        out.append((address, line, end))
    return out


def checkov_expectations(corpus: str = CORPUS) -> dict[Fixture, list[tuple[str, str, str, str]]]:
    """Fixture -> [(address, check, verdict, source)] from checkov_results.json."""
    base = os.path.join(corpus, "checkov")
    with open(os.path.join(base, "checkov_results.json"), encoding="utf-8") as handle:
        data = json.load(handle)
    version = data.get("checkov_version", "?")
    checks = {c for (peer, c) in {**EXPECTED_MAPPING, **mapping()} if peer == "checkov"}
    out: dict[Fixture, list] = {}
    for run in data["runs"]:
        command = run["command"]
        if "--framework cloudformation" in command or "[env " in command or "--repo-root-for-plan-enrichment" in command:
            continue  # see NOT_COMPARED
        target = re.search(r"checkov -(d|f) (\S+)", command)
        kind, where = target.group(1), target.group(2)
        records = [r for r in run["records"] if r["check_id"] in checks]
        if not records:
            continue
        var_file = re.search(r"--var-file (\S+)", command)
        if kind == "f":
            path = where
        else:
            roots = sorted(f for f in os.listdir(os.path.join(base, where)) if f.endswith(".tf"))
            assert len(roots) == 1, (where, roots)
            path = f"{where}/{roots[0]}"
        variant = f"--var-file {os.path.basename(var_file.group(1))}" if var_file else ""
        fixture = Fixture("checkov", path, variant,
                          (os.path.relpath(var_file.group(1), where),) if var_file else ())
        rows = out.setdefault(fixture, [])
        source = f"checkov {version} run `{run['name']}`"
        for r in records:
            verdict = {"PASSED": "pass", "FAILED": "fail", "SKIPPED": "skipped"}[r["result"]]
            rows.append((r["resource"], r["check_id"], verdict, source))
        hidden = data["in_process_pass"]["results"].get(where, {}).get("unknown_results", [])
        if not variant:
            for r in hidden:
                if r["check_id"] in checks:
                    rows.append((r["resource"], r["check_id"], "unknown",
                                 f"checkov {version} in-process pass (UNKNOWN, hidden from its report)"))
    return out


_TRIVY_FILE = re.compile(r"^(?:AVD-)?(AWS-\d{4})_[a-z_]+/(good|bad)_\d+\.tf$")

# trivy's adapter tests assert the adapted state, not verdicts; MANIFEST.md derives these.
_TRIVY_ADAPTER = {
    "adapt_configured.tf": {"AWS-0030": "pass", "AWS-0031": "fail", "AWS-0032": "fail", "AWS-0033": "pass"},
    "adapt_lines_exact.tf": {"AWS-0030": "pass", "AWS-0031": "fail", "AWS-0032": "fail", "AWS-0033": "pass"},
    "adapt_defaults.tf": {"AWS-0030": "fail", "AWS-0031": "fail", "AWS-0033": "fail"},
}


def trivy_expectations(corpus: str = CORPUS) -> dict[Fixture, list[tuple[str, str, str, str]]]:
    """good_N.tf: the check is not reported; bad_N.tf: it is reported, for every resource it covers."""
    base = os.path.join(corpus, "trivy")
    out: dict[Fixture, list] = {}
    for folder, source in (("trivy-checks-examples", "trivy-checks example (good/bad; check_examples_test.go)"),
                           ("legacy-defsec-examples", "defsec example (good/bad; rules_test.go)")):
        for check_dir in sorted(os.listdir(os.path.join(base, folder))):
            for name in sorted(os.listdir(os.path.join(base, folder, check_dir))):
                match = _TRIVY_FILE.match(f"{check_dir}/{name}")
                if not match:
                    continue
                check = f"AVD-{match.group(1)}"
                verdict = "pass" if match.group(2) == "good" else "fail"
                rel = f"{folder}/{check_dir}/{name}"
                types = _resource_types(rule_for("trivy", check))
                rows = [(address, check, verdict, source)
                        for address, _, _ in _blocks(os.path.join(base, rel)) if address.split(".")[0] in types]
                out[Fixture("trivy", rel)] = rows
    for name, verdicts in _TRIVY_ADAPTER.items():
        rel = f"trivy-adapter-tests/{name}"
        rows = []
        for short, verdict in verdicts.items():
            check = f"AVD-{short}"
            types = _resource_types(rule_for("trivy", check))
            rows += [(address, check, verdict, "adapter test; verdict derived in MANIFEST.md, not asserted upstream")
                     for address, _, _ in _blocks(os.path.join(base, rel)) if address.split(".")[0] in types]
        out[Fixture("trivy", rel)] = rows
    return out


def kics_expectations(corpus: str = CORPUS) -> dict[Fixture, list[tuple[str, str, str, str]]]:
    """positive*.tf: the resources whose blocks hold an expected result's line fail, the others pass;
    negative*.tf: every resource the query covers passes."""
    base = os.path.join(corpus, "kics", "terraform", "aws")
    out: dict[Fixture, list] = {}
    for name, meta in kics_queries(corpus).items():
        rule = rule_for("kics", meta["id"])
        if rule is None:
            continue  # NO_EQUIVALENT (test_peer_parity checks every query is one or the other)
        types = _resource_types(rule)
        test = os.path.join(base, name, "test")
        with open(os.path.join(test, "positive_expected_result.json"), encoding="utf-8") as handle:
            expected = json.load(handle)
        positives = sorted(f for f in os.listdir(test) if f.startswith("positive") and f.endswith(".tf"))
        for tf in sorted(f for f in os.listdir(test) if f.endswith(".tf")):
            rel = f"terraform/aws/{name}/test/{tf}"
            lines = {e["line"] for e in expected
                     if (e.get("fileName") or e.get("filename") or (positives[0] if len(positives) == 1 else None)) == tf}
            rows = []
            for address, first, last in _blocks(os.path.join(test, tf)):
                if address.split(".")[0] not in types:
                    continue
                flagged = tf.startswith("positive") and any(first <= line <= last for line in lines)
                source = "positive_expected_result.json" if tf.startswith("positive") else "negative file: 0 results"
                rows.append((address, name, "fail" if flagged else "pass", source))
            out[Fixture("kics", rel)] = rows
    return out


def expectations(corpus: str = CORPUS) -> dict[Fixture, list[tuple[str, str, str, str]]]:
    return {**checkov_expectations(corpus), **trivy_expectations(corpus), **kics_expectations(corpus)}


# --------------------------------------------------------------------------------------------
# ecr-lint verdicts
# --------------------------------------------------------------------------------------------

def _stage(corpus: str, fixture: Fixture, into: str) -> str:
    """Copy the fixture file alone (plus tfvars, JSON/template files and local module folders
    beside it, never its sibling .tf examples) into a fresh directory; return the path to lint."""
    src = os.path.join(corpus, fixture.peer, fixture.path)
    folder = os.path.dirname(src)
    target = os.path.join(into, "stack")
    os.makedirs(target)
    shutil.copy(src, target)
    if fixture.path.endswith(".tf"):
        for entry in sorted(os.listdir(folder)):
            full = os.path.join(folder, entry)
            if os.path.isdir(full):
                if any(f.endswith(".tf") for _, _, fs in os.walk(full) for f in fs):
                    shutil.copytree(full, os.path.join(target, entry))
            elif not entry.endswith((".tf", ".tf.json", ".md")) and "expected_result" not in entry \
                    and entry != os.path.basename(src):
                shutil.copy(full, target)
        return target
    return os.path.join(target, os.path.basename(src))


def _ecr_lint(corpus: str, fixture: Fixture, rule_ids: frozenset[str]):
    from ecr_lint.api import lint
    from ecr_lint.config import Config

    with tempfile.TemporaryDirectory(prefix="peer-parity-") as tmp:
        path = _stage(corpus, fixture, tmp)
        base = path if os.path.isdir(path) else os.path.dirname(path)
        config = Config(select=rule_ids, var_files=tuple(os.path.join(base, v) for v in fixture.var_files))
        report = lint([path], config)
    verdicts: dict[tuple[str, str], tuple[str, str]] = {}
    for r in report.results:
        status = r.status.value
        old = verdicts.get((r.rule_id, r.address))
        if old is None or STATUS_ORDER[status] > STATUS_ORDER[old[0]]:
            verdicts[(r.rule_id, r.address)] = (status, r.message)
    errors = "; ".join(f"{os.path.basename(e.file)}:{e.line}: {e.message}" for e in report.errors)
    return verdicts, errors


@functools.lru_cache(maxsize=None)
def build_rows(corpus: str = CORPUS) -> tuple[Row, ...]:
    rows = []
    for fixture, expected in sorted(expectations(corpus).items(), key=lambda kv: (kv[0].peer, kv[0].name)):
        rule_of = {check: rule_for(fixture.peer, _peer_id(corpus, fixture.peer, check)) for _, check, _, _ in expected}
        if not rule_of:
            continue
        verdicts, errors = _ecr_lint(corpus, fixture, frozenset(rule_of.values()))
        for address, check, peer_verdict, source in expected:
            rule = rule_of[check]
            verdict, message = verdicts.get((rule, address), ("missing", errors or "no result for this address"))
            rows.append(Row(fixture.peer, fixture.name, address, check, peer_verdict, source, rule, verdict,
                            " ".join(message.split())))
    return tuple(sorted(rows, key=lambda r: (PEERS.index(r.peer), r.fixture, r.address, r.check)))


def _peer_id(corpus: str, peer: str, check: str) -> str:
    return kics_queries(corpus)[check]["id"] if peer == "kics" else check


def differences(rows=None) -> list[Row]:
    return [r for r in (rows if rows is not None else build_rows()) if not r.agree]


# --------------------------------------------------------------------------------------------
# docs/peer-parity.md
# --------------------------------------------------------------------------------------------

def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(rows=None) -> str:
    rows = rows if rows is not None else build_rows()
    out = [
        "# Peer parity: ecr-lint on checkov's, trivy's and KICS's own ECR fixtures",
        "",
        "Generated by `scripts/gen_peer_parity.py` from `tests/peer_parity.py`; "
        "`tests/test_peer_parity.py` fails when this file is stale. Do not edit by hand.",
        "",
        "Each peer fixture file is linted on its own (peers keep independent examples that declare the "
        "same address side by side), and ecr-lint's verdict for the rule with the same intent is compared "
        "with the peer's expected verdict, resource by resource. The peers' verdicts come from "
        "`../shared/corpus`: checkov's observed results (`checkov/checkov_results.json`, checkov 3.1.47, "
        "which agree with checkov's own tests), trivy's good/bad examples, and KICS's "
        "`positive_expected_result.json` / negative files. ecr-lint follows the checklist "
        "(`SPEC.md`, `rules/`), so where a peer is wrong it differs on purpose, and says why below.",
        "",
        "## Summary",
        "",
        "| peer | fixture files | resources | comparisons (resource × check) | agree | deliberate differences "
        "| open differences |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for peer in PEERS:
        mine = [r for r in rows if r.peer == peer]
        diffs = [r for r in mine if not r.agree]
        deliberate = [r for r in diffs if r.key in DELIBERATE]
        out.append(f"| {peer} | {len({r.fixture for r in mine})} | {len({(r.fixture, r.address) for r in mine})} | "
                   f"{len(mine)} | {sum(r.agree for r in mine)} | {len(deliberate)} | {len(diffs) - len(deliberate)} |")
    out += ["", "Open differences must be 0: each is an ecr-lint bug still open (`KNOWN_BUGS` in "
            "`tests/peer_parity.py`, listed below) or unexplained. A peer's \"skipped\" (its own skip comment, "
            "which ecr-lint honours for the rule with the same intent) agrees with ecr-lint's \"suppressed\"; a "
            "peer's \"unknown\" is checkov's UNKNOWN, which its report hides.", ""]

    out += ["## Deliberate differences", "",
            "| peer | fixture | address | peer check | peer | ecr-lint | why |",
            "|---|---|---|---|---|---|---|"]
    for r in rows:
        if not r.agree and r.key in DELIBERATE:
            out.append(f"| {r.peer} | `{r.fixture}` | `{r.address}` | {r.check} | {r.peer_verdict} | "
                       f"{r.rule} {r.verdict} | {_cell(DELIBERATE[r.key])} |")
    open_rows = [r for r in rows if not r.agree and r.key not in DELIBERATE]
    if open_rows:
        out += ["", "## Open differences (ecr-lint bugs or unexplained)", "",
                "| peer | fixture | address | peer check | peer | ecr-lint | note |",
                "|---|---|---|---|---|---|---|"]
        for r in open_rows:
            note = KNOWN_BUGS.get(r.key, "unexplained: " + r.message)
            out.append(f"| {r.peer} | `{r.fixture}` | `{r.address}` | {r.check} | {r.peer_verdict} | "
                       f"{r.rule} {r.verdict} | {_cell(note)} |")

    out += ["", "## Mapping", "",
            "From the rule files' `peers:` field (`rules/ECR00x.yaml`).", "",
            "| peer | peer check | ecr-lint rule | intent, or why there is none |", "|---|---|---|---|"]
    for peer, check, rule, note in mapping_table():
        out.append(f"| {peer} | {check} | {rule} | {_cell(note)} |")

    out += ["", "## Not compared", "", "| peer | what | why |", "|---|---|---|"]
    for peer, what, why in NOT_COMPARED:
        out.append(f"| {peer} | {_cell(what)} | {_cell(why)} |")

    out += ["", "## All rows", "",
            "| peer | fixture | address | peer check | peer verdict | ecr-lint | agree |",
            "|---|---|---|---|---|---|---|"]
    for r in rows:
        mark = "yes" if r.agree else ("deliberate" if r.key in DELIBERATE else "**no**")
        out.append(f"| {r.peer} | `{r.fixture}` | `{r.address}` | {r.check} | {r.peer_verdict} | "
                   f"{r.rule} {r.verdict} | {mark} |")
    return "\n".join(out) + "\n"
