"""ECR001 and ECR009: customer-managed KMS keys, and where the key comes from."""

from __future__ import annotations

import re
from typing import Any, Iterator

from ecr_lint.hcl.evaluate import plain
from ecr_lint.model import Ref, Resource, Unknown, Verdict
from ecr_lint.predicates.common import address_type, blocks, fail, may_be, name_of, passed, unknown

CUSTOMER_KEY_RESOURCES = {"aws_kms_key", "aws_kms_alias", "aws_kms_replica_key", "aws_kms_external_key",
                          "aws_kms_replica_external_key"}
CUSTOMER_KEY_DATA = {"aws_kms_key", "aws_kms_alias", "aws_ssm_parameter"}
_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-fA-F-]+$|^(mrk-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^mrk-[0-9a-f]{32}$")
_ALIAS = re.compile(r"^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:)?alias/(?P<name>[A-Za-z0-9/_-]+)$")


def _encryption(resource: Resource) -> tuple[dict | None, Verdict | None]:
    configs = blocks(resource.attributes, "encryption_configuration")
    raw = plain(resource.attributes.get("encryption_configuration"))
    if isinstance(raw, Unknown):
        return None, unknown(f"encryption_configuration is unknown: {raw.reason}", "encryption_configuration")
    if not configs:
        return None, fail("no encryption_configuration: the repository is encrypted with AES256 and an AWS-owned key",
                          "encryption_configuration")
    config = configs[0]
    kind = plain(config.get("encryption_type", "AES256"))
    if kind is None:
        kind = "AES256"
    if isinstance(kind, Unknown):
        if _no_key(config.get("kms_key")):
            # AES256 or KMS without a key: either way, no customer-managed key
            return None, fail(f"no kms_key is set, so whatever encryption_type turns out to be ({kind.reason}), the "
                              "repository is not encrypted with a customer-managed KMS key", "encryption_configuration")
        return None, unknown(f"encryption_type is unknown: {kind.reason}", "encryption_configuration")
    if kind == "AES256":
        return None, fail('encryption_type = "AES256" uses an AWS-owned key, not a customer-managed KMS key',
                          "encryption_configuration")
    if kind not in ("KMS", "KMS_DSSE"):
        return None, fail(f"encryption_type = {kind!r} is not KMS or KMS_DSSE", "encryption_configuration")
    return config, None


def _no_key(key: Any) -> bool:
    return not isinstance(key, Ref) and plain(key) in (None, "")


def kms_cmk(resource: Resource, ctx: Any) -> Iterator[Verdict]:
    config, verdict = _encryption(resource)
    if verdict is not None:
        yield verdict
        return
    yield _judge_key(config.get("kms_key"), ctx)


def _judge_key(key: Any, ctx: Any) -> Verdict:
    where = "encryption_configuration.kms_key"  # the line of kms_key, and where its value comes from
    if isinstance(key, Ref):
        mode, type_ = address_type(key.address)
        target = ctx.graph.resource(key.address)
        if mode == "managed" and type_ in CUSTOMER_KEY_RESOURCES:
            if type_ == "aws_kms_alias" and target is not None:
                alias = plain(target.attributes.get("name"))
                if isinstance(alias, str) and alias.startswith("alias/aws/"):
                    return fail(f"kms_key is {alias}, an AWS-managed key", where)
            return passed(f"kms_key comes from {key.address}, a customer-managed key", where)
        if mode == "data" and type_ in CUSTOMER_KEY_DATA:
            if type_ in ("aws_kms_alias", "aws_kms_key") and target is not None:
                name = plain(target.attributes.get("name" if type_ == "aws_kms_alias" else "key_id"))
                if isinstance(name, str) and ("alias/aws/" in name):
                    return fail(f"kms_key is {name}, an AWS-managed key", where)
            return passed(f"kms_key is read from {key.address}", where)
        inner = plain(key)
        if not isinstance(inner, Unknown):
            return _judge_key(inner, ctx)
        return unknown(f"kms_key comes from {key.text}, which is not a KMS key resource: {inner.reason}", where)
    key = plain(key)
    if key is None or key == "":
        return fail("encryption_type is KMS but kms_key is not set: that is the AWS-managed key aws/ecr", where)
    if isinstance(key, Unknown):
        return unknown(f"kms_key is unknown: {key.reason}", where)
    if not isinstance(key, str):
        return fail(f"kms_key is a {type(key).__name__}, not a key ARN", where)
    alias = _ALIAS.match(key)
    if alias:
        if alias.group("name").startswith("aws/"):
            return fail(f"kms_key {key} is an AWS-managed key", where)
        return passed(f"kms_key is the customer alias {key}", where)
    if _KEY_ARN.match(key):
        return passed("kms_key is a customer key ARN", where)
    return fail(f"kms_key {key!r} is not a KMS key ARN, key id or alias", where)


def kms_from_shared_ssm(resource: Resource, ctx: Any) -> Iterator[Verdict]:
    wanted = ctx.config.kms_key_parameter
    config, verdict = _encryption(resource)
    if verdict is not None and verdict.status.value == "unknown":
        # The key's source decides when it is the shared parameter: with AES256 this rule does
        # not apply, with KMS it passes.
        configs = blocks(resource.attributes, "encryption_configuration")
        source = _shared_parameter_verdict(configs[0].get("kms_key"), wanted, ctx) if configs else None
        yield source if source is not None and source.status.value == "pass" else verdict
        return
    if verdict is not None:  # ECR001 already fails it; a second finding would only be noise
        yield passed("not applicable: no customer-managed key (ECR001 reports that)", "encryption_configuration")
        return
    key = config.get("kms_key")
    source = _shared_parameter_verdict(key, wanted, ctx)
    if source is not None:
        yield source
        return
    inner = plain(key)
    if isinstance(inner, Unknown) and not isinstance(key, Ref):
        yield unknown(f"kms_key is unknown: {inner.reason}", "encryption_configuration.kms_key")
        return
    if inner is None or inner == "":
        yield passed("not applicable: kms_key is not set (ECR001 reports the AWS-managed key)", "encryption_configuration")
        return
    source = key.address if isinstance(key, Ref) else repr(inner)
    yield fail(f"kms_key comes from {source}, not from data \"aws_ssm_parameter\" {wanted}",
               "encryption_configuration.kms_key")


def _shared_parameter_verdict(key: Any, wanted: str, ctx: Any) -> Verdict | None:
    """ECR009's verdict when kms_key is read from an SSM parameter data source, else None."""
    if not (isinstance(key, Ref) and address_type(key.address) == ("data", "aws_ssm_parameter")):
        return None
    target = ctx.graph.resource(key.address)
    name = name_of(target) if target is not None else None
    if isinstance(name, Unknown):
        if not may_be(name, wanted):
            return fail(f"kms_key is read from SSM {name.partial!r}, which cannot be the shared {wanted}",
                        "encryption_configuration")
        return unknown(f"the SSM parameter name is unknown: {name.reason}", "encryption_configuration")
    if name == wanted:
        return passed(f"kms_key is read from SSM {wanted}", "encryption_configuration")
    return fail(f"kms_key is read from SSM {name!r}, not the shared {wanted}", "encryption_configuration")
