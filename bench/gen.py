"""Synthetic inputs for the benchmark (bench/run.py): the shipped stack, monorepos of N
stacks derived from the shipped fileflow stack, and large plan JSON files derived from
the real fileflow plan. Everything is deterministic (seeded by the stack index).

Usable alone:  python bench/gen.py OUTDIR [--sizes 100,1000] [--plan-sizes 1000,10000]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import re
import shutil
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = os.path.join(ROOT, "terraform", "ecr")
FILEFLOW = os.path.join(SHIPPED, "fileflow")
FIXTURE_PLAN = os.path.join(ROOT, "fixtures", "plans", "fileflow.plan.json")

WORDS = ["billing", "orders", "search", "catalog", "payments", "auth", "gateway", "reports",
         "media", "notify", "ledger", "profile", "inventory", "checkout", "shipping", "pricing",
         "audit", "events", "export", "import"]
SUFFIXES = ["api", "worker", "web", "batch", "cron", "proxy", "sync", "jobs"]
TEAMS = ["platform-team", "payments-team", "data-team", "web-team", "sre-team"]
ENVS = [("prod", "production"), ("prod", "production"), ("staging", "staging"), ("dev", "development")]
REGIONS = ["ap-northeast-2", "ap-northeast-2", "us-east-1", "eu-west-1"]


@dataclass
class MonorepoStats:
    stacks: int = 0
    resource_blocks: int = 0       # `resource` blocks in the stacks (module blocks not counted)
    module_blocks: int = 0         # `module` calls of the shared module
    instances: int = 0             # resource instances after for_each / module expansion
    kinds: dict = field(default_factory=dict)
    extra_iam: int = 0


def _read(name: str) -> str:
    with open(os.path.join(FILEFLOW, name), encoding="utf-8") as handle:
        return handle.read()


def _write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def copy_shipped(out: str) -> str:
    """(a) the shipped stack alone: a copy of terraform/ecr."""
    dest = os.path.join(out, "ecr")
    shutil.copytree(SHIPPED, dest, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", ".terraform.lock.hcl"))
    return dest


# ---------------------------------------------------------------------------- monorepo
MODULE_MAIN = '''\
# Shared ECR repository module: repository, lifecycle policy, same-account pull policy.
resource "aws_ecr_repository" "this" {
  name                 = var.name
  image_tag_mutability = var.image_tag_mutability

  image_scanning_configuration {
    scan_on_push = var.scan_on_push
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key
  }

  tags = merge(var.tags, { Name = "ecr-${var.name}", Component = "container-registry" })
}

resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name

  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Keep last ${var.max_image_count} images tagged v*"
        selection = {
          tagStatus     = "tagged"
          tagPrefixList = ["v"]
          countType     = "imageCountMoreThan"
          countNumber   = var.max_image_count
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Expire untagged images after 7 days"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = 7
        }
        action = { type = "expire" }
      }
    ]
  })
}

resource "aws_ecr_repository_policy" "this" {
  repository = aws_ecr_repository.this.name

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AllowPull"
        Effect    = "Allow"
        Principal = { AWS = var.pull_principals }
        Action = [
          "ecr:BatchCheckLayerAvailability",
          "ecr:GetDownloadUrlForLayer",
          "ecr:BatchGetImage"
        ]
      }
    ]
  })
}
'''

MODULE_VARIABLES = '''\
variable "name" {
  type = string
}

variable "image_tag_mutability" {
  type    = string
  default = "IMMUTABLE"
}

variable "scan_on_push" {
  type    = bool
  default = true
}

variable "kms_key" {
  type = string
}

variable "max_image_count" {
  type    = number
  default = 30
}

variable "tags" {
  type    = map(string)
  default = {}
}

variable "pull_principals" {
  type = list(string)
}
'''

MODULE_OUTPUTS = '''\
output "arn" {
  value = aws_ecr_repository.this.arn
}

output "name" {
  value = aws_ecr_repository.this.name
}

output "repository_url" {
  value = aws_ecr_repository.this.repository_url
}
'''

FOR_EACH_MAIN = '''\
resource "aws_ecr_repository" "this" {
  for_each = local.repositories

  name                 = each.key
  image_tag_mutability = var.image_tag_mutability

  image_scanning_configuration {
    scan_on_push = var.scan_on_push
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = data.aws_ssm_parameter.ecs-secrets-key-arn.value
  }

  tags = merge(local.required_tags, { Name = "ecr-${each.key}", Component = "container-registry" })
}

resource "aws_ecr_lifecycle_policy" "this" {
  for_each   = aws_ecr_repository.this
  repository = each.value.name

  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Keep last ${var.lifecycle_policy_max_image_count} images"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.lifecycle_policy_max_image_count
        }
        action = { type = "expire" }
      }
    ]
  })
}

resource "aws_ecr_repository_policy" "this" {
  for_each   = aws_ecr_repository.this
  repository = each.value.name

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "AllowPullFromSameAccount"
        Effect = "Allow"
        Principal = {
          AWS = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
        }
        Action = [
          "ecr:BatchCheckLayerAvailability",
          "ecr:GetDownloadUrlForLayer",
          "ecr:BatchGetImage"
        ]
      }
    ]
  })
}

resource "aws_ssm_parameter" "repository_url" {
  for_each    = aws_ecr_repository.this
  name        = "/shared/ecr/${each.key}-repository-url"
  description = "ECR repository URL for ${each.key}"
  type        = "String"
  value       = each.value.repository_url

  tags = merge(local.required_tags, { Name = "ecr-${each.key}-repository-url", Component = "container-registry" })
}
'''

FOR_EACH_OUTPUTS = '''\
output "repository_urls" {
  description = "Repository URLs by name"
  value       = { for k, r in aws_ecr_repository.this : k => r.repository_url }
}

output "repository_arns" {
  description = "Repository ARNs by name"
  value       = { for k, r in aws_ecr_repository.this : k => r.arn }
}
'''

EXTRA_IAM = '''\
# CI role that pushes this stack's images.
resource "aws_iam_role" "ci_push" {
  name = "ecr-{name}-ci-push"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "codebuild.amazonaws.com" }
        Action    = "sts:AssumeRole"
      }
    ]
  })

  tags = local.required_tags
}

resource "aws_iam_policy" "ci_push" {
  name = "ecr-{name}-ci-push"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "GetAuthorizationToken"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = "*"
      },
      {
        Sid    = "Push"
        Effect = "Allow"
        Action = [
          "ecr:BatchCheckLayerAvailability",
          "ecr:PutImage",
          "ecr:InitiateLayerUpload",
          "ecr:UploadLayerPart",
          "ecr:CompleteLayerUpload"{extra_action}
        ]
        Resource = {resource}
      }
    ]
  })

  tags = local.required_tags
}

resource "aws_iam_role_policy_attachment" "ci_push" {
  role       = aws_iam_role.ci_push.name
  policy_arn = aws_iam_policy.ci_push.arn
}
'''


def _variables(rng: random.Random) -> str:
    """The shipped variables.tf with varied defaults."""
    text = _read("variables.tf")
    env, stage = rng.choice(ENVS)
    mutability = "MUTABLE" if rng.random() < 0.15 else "IMMUTABLE"
    subs = {
        "aws_region": f'"{rng.choice(REGIONS)}"',
        "environment": f'"{env}"',
        "owner": f'"{rng.choice(TEAMS)}@example.com"',
        "cost_center": f'"{rng.choice(["engineering", "payments", "data", "web"])}"',
        "lifecycle_stage": f'"{stage}"',
        "data_class": f'"{rng.choice(["confidential", "internal", "public"])}"',
        "image_tag_mutability": f'"{mutability}"',
        "scan_on_push": "false" if rng.random() < 0.1 else "true",
        "lifecycle_policy_max_image_count": str(rng.choice([10, 20, 30, 50, 100])),
    }
    for var, value in subs.items():
        text = re.sub(r'(variable "%s" \{.*?default\s*=\s*)[^\n]+' % re.escape(var),
                      lambda m, v=value: m.group(1) + v, text, count=1, flags=re.S)
    return text


def _locals(name_expr: str, extra: str = "") -> str:
    text = _read("locals.tf")
    text = text.replace('repository_name = "fileflow"', f"repository_name = {name_expr}{extra}")
    return text


def _stack(stack_dir: str, index: int, stats: MonorepoStats) -> None:
    rng = random.Random(index)
    name = f"{rng.choice(WORDS)}-{rng.choice(SUFFIXES)}-{index:04d}"
    label = name.replace("-", "_")
    roll = rng.random()
    kind = ("minimal" if roll < 0.35 else "full" if roll < 0.55 else "for_each" if roll < 0.75 else "module")
    extra_iam = rng.random() < 0.30
    files: dict[str, str] = {
        "provider.tf": _read("provider.tf"),
        "data.tf": _read("data.tf"),
        "variables.tf": _variables(rng),
    }
    blocks = instances = modules = 0
    if kind in ("minimal", "full"):
        files["locals.tf"] = _locals(f'"{name}"')
        files["main.tf"] = _read("main.tf").replace("fileflow", label)
        files["outputs.tf"] = _read("outputs.tf").replace("fileflow", label)
        blocks = 4
        if kind == "full":
            files["iam.tf"] = _read("iam.tf").replace("fileflow", label)
            files["monitoring.tf"] = _read("monitoring.tf")
            blocks = 10
        instances = blocks
        resource = f"aws_ecr_repository.{label}.arn"
    elif kind == "for_each":
        count = rng.randint(2, 4)
        names = [f"{name}-{part}" for part in rng.sample(["app", "migrations", "sidecar", "nginx", "worker", "cli"], count)]
        repos = ", ".join(f'"{n}"' for n in names)
        files["locals.tf"] = _locals(f'"{name}"', f"\n  repositories    = toset([{repos}])")
        files["main.tf"] = FOR_EACH_MAIN
        files["outputs.tf"] = FOR_EACH_OUTPUTS
        blocks, instances = 4, 4 * count
        resource = "[for r in aws_ecr_repository.this : r.arn]"
    else:  # module
        count = rng.choice([1, 1, 2, 3])
        files["locals.tf"] = _locals(f'"{name}"')
        if count == 1:
            call = '''module "repository" {
  source = "../../modules/ecr-repo"

  name                 = local.repository_name
  image_tag_mutability = var.image_tag_mutability
  scan_on_push         = var.scan_on_push
  kms_key              = data.aws_ssm_parameter.ecs-secrets-key-arn.value
  max_image_count      = var.lifecycle_policy_max_image_count
  tags                 = local.required_tags
  pull_principals      = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
}
'''
            outputs = 'output "repository_url" {\n  value = module.repository.repository_url\n}\n'
            resource = "module.repository.arn"
        else:
            parts = ", ".join(f'"{name}-{p}"' for p in ["app", "jobs", "edge"][:count])
            call = f'''module "repository" {{
  source   = "../../modules/ecr-repo"
  for_each = toset([{parts}])

  name                 = each.key
  image_tag_mutability = var.image_tag_mutability
  kms_key              = data.aws_ssm_parameter.ecs-secrets-key-arn.value
  tags                 = local.required_tags
  pull_principals      = ["arn:aws:iam::${{data.aws_caller_identity.current.account_id}}:root"]
}}
'''
            outputs = ('output "repository_urls" {\n'
                       '  value = { for k, m in module.repository : k => m.repository_url }\n}\n')
            resource = "[for m in module.repository : m.arn]"
        files["main.tf"] = call
        files["outputs.tf"] = outputs
        blocks, modules, instances = 0, 1, 3 * count
    if extra_iam:
        extra_action = ',\n          "ecr:BatchGetImage"' if rng.random() < 0.5 else ""
        files["iam_ci.tf"] = (EXTRA_IAM.replace("{name}", name).replace("{resource}", resource)
                              .replace("{extra_action}", extra_action))
        blocks += 3
        instances += 3
        stats.extra_iam += 1
    for fname, text in files.items():
        _write(os.path.join(stack_dir, fname), text)
    stats.stacks += 1
    stats.resource_blocks += blocks
    stats.module_blocks += modules
    stats.instances += instances
    stats.kinds[kind] = stats.kinds.get(kind, 0) + 1


def make_monorepo(out: str, n: int) -> tuple[str, MonorepoStats]:
    """(b) a monorepo: modules/ecr-repo plus stacks/<name>/ for N stacks."""
    root = os.path.join(out, f"monorepo-{n}")
    mod = os.path.join(root, "modules", "ecr-repo")
    _write(os.path.join(mod, "main.tf"), MODULE_MAIN)
    _write(os.path.join(mod, "variables.tf"), MODULE_VARIABLES)
    _write(os.path.join(mod, "outputs.tf"), MODULE_OUTPUTS)
    stats = MonorepoStats()
    for i in range(n):
        _stack(os.path.join(root, "stacks", f"svc-{i:04d}"), i, stats)
    return root, stats


# ---------------------------------------------------------------------------- plans
def make_plan(out: str, resources: int) -> tuple[str, int]:
    """(c) a plan of about RESOURCES managed resources: the fixture plan's managed resources
    replicated in groups; group g>0 renames every address NAME -> NAME_gNNNNN (references in
    `configuration` expressions and `relevant_attributes` follow) and the repository name
    "fileflow" -> "fileflow-gNNNNN" in the values. Group 0 keeps the original names, so the
    plan's outputs still refer to real resources. Written compact, as `terraform show -json`."""
    with open(FIXTURE_PLAN, encoding="utf-8") as handle:
        base = json.load(handle)
    managed = [rc for rc in base["resource_changes"] if rc.get("mode") == "managed"]
    per_group = len(managed)
    groups = max(1, round(resources / per_group))
    pv = base["planned_values"]["root_module"]["resources"]
    cfg = base["configuration"]["root_module"]["resources"]
    rel = base.get("relevant_attributes", [])
    pv_managed = [r for r in pv if r.get("mode") == "managed"]
    cfg_managed = [r for r in cfg if r.get("mode") == "managed"]
    rel_managed = [r for r in rel if not str(r.get("resource", "")).startswith("data.")]
    addrs = sorted({rc["address"] for rc in managed}, key=len, reverse=True)
    addr_re = re.compile(r"(?<![\w.-])(%s)(?![\w-])" % "|".join(re.escape(a) for a in addrs))
    value_re = re.compile(r"(?<![\w.])fileflow(?![\w])")

    def rename(items: list, g: int) -> list:
        if g == 0:
            return copy.deepcopy(items)
        text = json.dumps(items)
        text = addr_re.sub(lambda m: f"{m.group(1)}_g{g:05d}", text)
        text = value_re.sub(f"fileflow-g{g:05d}", text)
        renamed = json.loads(text)
        for item in renamed:
            if isinstance(item, dict) and "address" in item and "name" in item and "type" in item:
                item["name"] = item["address"].split(".")[-1]
        return renamed

    plan = copy.deepcopy(base)
    new_rc, new_pv, new_cfg, new_rel = [], [], [], []
    for g in range(groups):
        new_rc += rename(managed, g)
        new_pv += rename(pv_managed, g)
        new_cfg += rename(cfg_managed, g)
        new_rel += rename(rel_managed, g)
    plan["resource_changes"] = new_rc + [rc for rc in base["resource_changes"] if rc.get("mode") != "managed"]
    plan["planned_values"]["root_module"]["resources"] = new_pv + [r for r in pv if r.get("mode") != "managed"]
    plan["configuration"]["root_module"]["resources"] = new_cfg + [r for r in cfg if r.get("mode") != "managed"]
    plan["relevant_attributes"] = new_rel + [r for r in rel if str(r.get("resource", "")).startswith("data.")]
    total = len(new_rc)
    dest = os.path.join(out, f"plan-{total}", "plan.json")
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "w", encoding="utf-8") as handle:
        json.dump(plan, handle, separators=(",", ":"))
    return dest, total


def copy_fixture_plan(out: str) -> str:
    dest = os.path.join(out, "plan-fixture", "fileflow.plan.json")
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.copyfile(FIXTURE_PLAN, dest)
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--plan-sizes", default="1000,10000")
    args = parser.parse_args()
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    print(copy_shipped(args.out))
    for n in [int(s) for s in args.sizes.split(",") if s and int(s) > 1]:
        root, stats = make_monorepo(args.out, n)
        print(root, stats)
    for n in [int(s) for s in args.plan_sizes.split(",") if s]:
        print(make_plan(args.out, n))


if __name__ == "__main__":
    main()
