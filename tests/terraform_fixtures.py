"""pytest fixtures for the real-Terraform tests (tests/test_terraform_real.py).

Expose them to the test session from tests/conftest.py with::

    from terraform_fixtures import tf_required, moto_server, fresh_moto, kms_key_arn  # noqa: F401

Skipping policy: when terraform (or its offline provider, or moto/boto3) is
missing the tests are *skipped* with the reason, unless the environment sets
``ECR_LINT_REQUIRE_TERRAFORM=1`` (CI), in which case they *fail* instead.
"""

from __future__ import annotations

import os

import pytest

import tfharness

REQUIRE_ENV = "ECR_LINT_REQUIRE_TERRAFORM"


def _required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _skip_or_fail(reason: str) -> None:
    if _required():
        pytest.fail(f"{reason} (and {REQUIRE_ENV}=1 requires it)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def tf_required() -> str:
    """The terraform binary path; skips (or fails under ECR_LINT_REQUIRE_TERRAFORM=1)
    when terraform or the offline hashicorp/aws provider is missing."""
    reason = tfharness.terraform_available()
    if reason:
        _skip_or_fail(reason)
    return tfharness.terraform_binary()


@pytest.fixture(scope="session")
def moto_server():
    """One moto server on a free 127.0.0.1 port for the whole session
    (``.endpoint`` is its URL).  Skips/fails like ``tf_required`` when moto[server]
    or boto3 is not installed."""
    reason = tfharness.moto_available()
    if reason:
        _skip_or_fail(reason)
    with tfharness.MotoServer() as server:
        yield server


@pytest.fixture
def fresh_moto(moto_server):
    """The session moto server with all emulated state wiped."""
    moto_server.reset()
    return moto_server


@pytest.fixture
def kms_key_arn(fresh_moto) -> str:
    """A wiped moto server plus the bootstrap the stacks need: a KMS key whose ARN
    is in SSM /shared/kms/ecs-secrets-key-arn.  Returns the key ARN."""
    return tfharness.bootstrap(fresh_moto.endpoint)
