"""Helpers for running the real Terraform CLI against a local moto server.

Importable from tests and scripts; deliberately *not* named ``test_*`` so pytest
does not collect it.

Safety model: every AWS API call made by the AWS provider or by boto3 here goes
to ``http://127.0.0.1:<port>`` (a moto server started by :class:`MotoServer`).

* The provider gets an override file (``moto_override.tf``) that pins dummy
  credentials, disables the EC2 metadata lookup and points every service the
  stacks use at the moto endpoint (see :data:`ENDPOINT_SERVICES`).
* The subprocess environment is scrubbed of ``AWS_*``/``TF_*`` variables,
  disables Terraform's checkpoint (version-check) call, and routes any proxied
  traffic to a dead loopback proxy so that a request to a service *not* in the
  override fails fast instead of reaching the internet.
* Stacks are copied to a temp dir; the originals are never touched.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PLUGIN_DIR = "/opt/tf-plugins"
PLUGIN_DIR_ENV = "ECR_LINT_TF_PLUGIN_DIR"
MOTO_MODE_ENV = "ECR_LINT_MOTO_MODE"  # "thread" (default) or "subprocess"

REGION = "ap-northeast-2"
MOTO_ACCOUNT_ID = "123456789012"  # moto's default account (STS GetCallerIdentity)
KMS_PARAM_NAME = "/shared/kms/ecs-secrets-key-arn"
OVERRIDE_FILENAME = "moto_override.tf"

# Endpoint keys accepted by hashicorp/aws 5.100.0 (checked with
# `terraform providers schema -json`).  `events` is the canonical key for
# EventBridge; `cloudwatchevents`/`eventbridge` are aliases and setting more
# than one of them is rejected, so only `events` is used.
ENDPOINT_SERVICES = ("ecr", "events", "iam", "kms", "sns", "ssm", "sts")

# Fixed placeholder used when a plan JSON must not depend on the random port.
STABLE_ENDPOINT = "http://127.0.0.1:5000"

DEFAULT_TIMEOUT = 300  # seconds per terraform command


class TerraformError(RuntimeError):
    """A terraform command failed or timed out."""


# --------------------------------------------------------------------------
# availability
# --------------------------------------------------------------------------

def plugin_dir() -> Path:
    return Path(os.environ.get(PLUGIN_DIR_ENV) or DEFAULT_PLUGIN_DIR)


def terraform_binary() -> str | None:
    return shutil.which("terraform")


def terraform_available() -> str | None:
    """Return ``None`` when real-terraform tests can run, else the reason why not."""
    if terraform_binary() is None:
        return "terraform binary not found on PATH"
    pdir = plugin_dir()
    provider = pdir / "registry.terraform.io" / "hashicorp" / "aws"
    if not provider.is_dir() or not any(provider.iterdir()):
        return (f"hashicorp/aws provider not found under {pdir} "
                f"(set {PLUGIN_DIR_ENV} to an offline plugin dir)")
    return None


def moto_available() -> str | None:
    """Return ``None`` when moto[server] and boto3 are importable, else the reason."""
    try:
        import boto3  # noqa: F401
        import moto.server  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the env
        return f"moto[server]/boto3 not installed ({exc}); pip install 'moto[server]' boto3"
    return None


# --------------------------------------------------------------------------
# environment
# --------------------------------------------------------------------------

def _scrubbed_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("AWS_", "TF_", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
                             "http_proxy", "https_proxy", "no_proxy"))
    }
    env.update({
        "TF_CLI_CONFIG_FILE": "/dev/null",
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",          # no checkpoint-api.hashicorp.com call
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        # Anything that is not loopback goes to a dead proxy and fails fast.
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
    })
    if extra:
        env.update(extra)
    return env


def _boto_client(service: str, endpoint: str):
    import boto3
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def boto_client(service: str, endpoint: str):
    """A boto3 client bound to the moto endpoint with dummy credentials."""
    return _boto_client(service, endpoint)


# --------------------------------------------------------------------------
# moto
# --------------------------------------------------------------------------

def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    """A moto server on a free 127.0.0.1 port.

    ``mode="thread"`` (default, env ``ECR_LINT_MOTO_MODE``) runs
    :class:`moto.server.ThreadedMotoServer` in-process; ``mode="subprocess"``
    runs ``python -m moto.server`` in a child process.  Use as a context
    manager or call :meth:`start`/:meth:`stop`.  :meth:`reset` wipes all
    emulated state (it is also called on ``__enter__``).
    """

    def __init__(self, mode: str | None = None, port: int | None = None):
        self.mode = mode or os.environ.get(MOTO_MODE_ENV) or "thread"
        if self.mode not in ("thread", "subprocess"):
            raise ValueError(f"unknown moto mode {self.mode!r}")
        self._requested_port = port
        self.port: int | None = None
        self._server = None
        self._proc: subprocess.Popen | None = None
        self._saved_wz_level: int | None = None

    @property
    def endpoint(self) -> str:
        if self.port is None:
            raise RuntimeError("MotoServer not started")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "MotoServer":
        if self.port is not None:
            return self
        if self.mode == "thread":
            from moto.server import ThreadedMotoServer
            # werkzeug logs every request at INFO to stderr; keep test output clean.
            wz = logging.getLogger("werkzeug")
            self._saved_wz_level = wz.level
            wz.setLevel(logging.ERROR)
            self._server = ThreadedMotoServer(
                ip_address="127.0.0.1", port=self._requested_port or 0, verbose=False)
            self._server.start()
            self.port = self._server.get_host_and_port()[1]
        else:
            port = self._requested_port or _free_port()
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                env=_scrubbed_env(),
            )
            self.port = port
            self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                raise RuntimeError(f"moto server exited early (rc={self._proc.returncode}):\n{err}")
            try:
                with urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=2):
                    return
            except Exception as exc:  # noqa: BLE001 - retry until ready
                last = exc
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto server on {self.endpoint} not ready after {timeout}s: {last}")

    def _post(self, path: str) -> None:
        req = urllib.request.Request(self.endpoint + path, method="POST", data=b"")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=10) as resp:
            resp.read()

    def reset(self) -> None:
        """Drop every emulated resource (POST /moto-api/reset)."""
        self._post("/moto-api/reset")

    def seed(self, value: int = 42) -> None:
        """Seed moto's random generator (POST /moto-api/seed) so generated IDs,
        e.g. the bootstrap KMS key UUID, are the same on every run."""
        self._post(f"/moto-api/seed?a={int(value)}")

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
            if self._saved_wz_level is not None:
                logging.getLogger("werkzeug").setLevel(self._saved_wz_level)
                self._saved_wz_level = None
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            if self._proc.stderr:
                self._proc.stderr.close()
            self._proc = None
        self.port = None

    def __enter__(self) -> "MotoServer":
        self.start()
        self.reset()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def bootstrap(endpoint: str) -> str:
    """Create what the stacks read but do not own: a KMS key whose ARN is published
    in SSM at ``/shared/kms/ecs-secrets-key-arn``.  Returns the key ARN."""
    kms = _boto_client("kms", endpoint)
    key = kms.create_key(Description="ecs-secrets (ecr-lint test bootstrap)")
    arn = key["KeyMetadata"]["Arn"]
    ssm = _boto_client("ssm", endpoint)
    ssm.put_parameter(Name=KMS_PARAM_NAME, Value=arn, Type="String", Overwrite=True)
    return arn


# --------------------------------------------------------------------------
# terraform
# --------------------------------------------------------------------------

def provider_aliases(stack_dir: str | os.PathLike) -> list[str]:
    """Aliases of the stack's aws provider blocks: each needs its own override block."""
    from ecr_lint.hcl import syntax as ast
    from ecr_lint.loaders.module import load_module

    aliases = []
    for decl in load_module(str(stack_dir)).providers:
        alias = decl.block.body.attributes.get("alias")
        if decl.block.labels == ("aws",) and alias is not None and isinstance(alias.expr, ast.Lit):
            aliases.append(alias.expr.value)
    return aliases


def override_hcl(endpoint: str, aliases: list[str] = ()) -> str:
    """Provider overrides merging into the stack's ``provider "aws"`` blocks (aliases too:
    Terraform merges an override into the block with the same name and alias)."""
    blocks = [_override_block(endpoint, None)] + [_override_block(endpoint, a) for a in aliases]
    return "# Generated by tests/tfharness.py: point the AWS provider at a local moto server.\n" + "\n".join(blocks)


def _override_block(endpoint: str, alias: str | None) -> str:
    eps = "\n".join(f'    {svc:<7} = "{endpoint}"' for svc in ENDPOINT_SERVICES)
    alias_line = f'  alias                       = "{alias}"\n' if alias else ""
    return f"""\
provider "aws" {{
{alias_line}  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  # false on purpose: the provider asks (moto's) STS for the account ID, so
  # provider-built ARNs use moto's account {MOTO_ACCOUNT_ID}.
  skip_requesting_account_id = false
  s3_use_path_style          = true
  max_retries                = 2

  endpoints {{
{eps}
  }}
}}
"""


def _ignore_local_state(_dir: str, names: list[str]) -> set[str]:
    return {n for n in names
            if n in (".terraform", "terraform.tfstate.d") or n.endswith((".tfstate", ".tfstate.backup", ".tfplan"))}


class TfWorkspace:
    """A throwaway copy of a stack wired to moto.

    ``endpoint=None`` writes no override (good enough for ``validate``, which
    never calls AWS).  Use as a context manager to delete the copy afterwards.
    """

    def __init__(self, stack_dir: str | os.PathLike, endpoint: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, keep: bool = False):
        self.stack_dir = Path(stack_dir).resolve()
        if not self.stack_dir.is_dir():
            raise FileNotFoundError(f"stack dir not found: {self.stack_dir}")
        self.endpoint = endpoint
        self.timeout = timeout
        self.keep = keep
        self._tmp = Path(tempfile.mkdtemp(prefix=f"ecr-lint-tf-{self.stack_dir.name}-"))
        self.dir = self._tmp / self.stack_dir.name
        shutil.copytree(self.stack_dir, self.dir, ignore=_ignore_local_state)
        if endpoint is not None:
            (self.dir / OVERRIDE_FILENAME).write_text(override_hcl(endpoint, provider_aliases(self.stack_dir)))
        self.env = _scrubbed_env()

    # -- plumbing ---------------------------------------------------------
    def run(self, *args: str, timeout: float | None = None, check: bool = True) -> subprocess.CompletedProcess:
        cmd = ["terraform", *args]
        t = timeout or self.timeout
        try:
            proc = subprocess.run(cmd, cwd=self.dir, env=self.env, capture_output=True,
                                  text=True, timeout=t, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise TerraformError(
                f"`{' '.join(cmd)}` timed out after {t}s in {self.dir}\n"
                f"--- stdout ---\n{_tail(exc.stdout)}\n--- stderr ---\n{_tail(exc.stderr)}"
            ) from None
        if check and proc.returncode != 0:
            raise TerraformError(
                f"`{' '.join(cmd)}` failed (rc={proc.returncode}) in {self.dir}"
                f" [stack {self.stack_dir}, endpoint {self.endpoint}]\n"
                f"--- stderr ---\n{_tail(proc.stderr)}\n--- stdout ---\n{_tail(proc.stdout)}"
            )
        return proc

    # -- commands ---------------------------------------------------------
    def init(self) -> subprocess.CompletedProcess:
        return self.run("init", f"-plugin-dir={plugin_dir()}", "-backend=false",
                        "-input=false", "-no-color")

    def validate(self) -> dict:
        """Run ``terraform validate -json``; raise unless valid. Returns the JSON."""
        proc = self.run("validate", "-json", "-no-color", check=False)
        try:
            result = json.loads(proc.stdout)
        except json.JSONDecodeError:
            raise TerraformError(f"terraform validate gave no JSON (rc={proc.returncode})\n"
                                 f"--- stderr ---\n{_tail(proc.stderr)}\n--- stdout ---\n{_tail(proc.stdout)}")
        if proc.returncode != 0 or not result.get("valid"):
            diags = "\n".join(
                f"  {d.get('severity')}: {d.get('summary')}: {d.get('detail', '')}"
                f" ({(d.get('range') or {}).get('filename', '?')})"
                for d in result.get("diagnostics", []))
            raise TerraformError(f"terraform validate failed for {self.stack_dir}:\n{diags}\n{_tail(proc.stderr)}")
        return result

    def plan(self, out: str | os.PathLike = "tfplan", *extra: str) -> Path:
        out_path = Path(out)
        if not out_path.is_absolute():
            out_path = self.dir / out_path
        self.run("plan", "-input=false", "-no-color", "-lock=false", f"-out={out_path}", *extra)
        return out_path

    def show_json(self, planfile: str | os.PathLike) -> dict:
        proc = self.run("show", "-json", "-no-color", str(planfile))
        return json.loads(proc.stdout)

    def apply(self, planfile: str | os.PathLike | None = None, *extra: str) -> subprocess.CompletedProcess:
        """``terraform apply``; with ``planfile`` applies that saved plan (no re-plan,
        ~2 provider start-ups fewer), else plans and applies in one go."""
        args = ["apply", "-input=false", "-no-color", "-lock=false", "-auto-approve", *extra]
        if planfile is not None:
            args.append(str(planfile))
        return self.run(*args)

    def destroy(self, *extra: str) -> subprocess.CompletedProcess:
        return self.run("destroy", "-input=false", "-no-color", "-lock=false",
                        "-auto-approve", *extra)

    def output_json(self) -> dict:
        return json.loads(self.run("output", "-json", "-no-color").stdout)

    # -- lifecycle --------------------------------------------------------
    def cleanup(self) -> None:
        if not self.keep:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> "TfWorkspace":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cleanup()


def terraform_fmt_check(*paths: str | os.PathLike, cwd: str | os.PathLike = REPO_ROOT,
                        timeout: float = 60) -> subprocess.CompletedProcess:
    """``terraform fmt -check -recursive -diff PATHS``; returns the completed process."""
    return subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", "-diff", "-no-color", *map(str, paths)],
        cwd=cwd, env=_scrubbed_env(), capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def sanitize_plan(plan: dict, endpoint: str, stable: str = STABLE_ENDPOINT) -> dict:
    """Replace the run-specific moto endpoint with :data:`STABLE_ENDPOINT`
    everywhere in a ``terraform show -json`` document (it appears in
    ``configuration.provider_config.aws.expressions.endpoints``)."""
    text = json.dumps(plan)
    text = text.replace(endpoint, stable)
    return json.loads(text)


def _tail(text: str | bytes | None, limit: int = 6000) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return text if len(text) <= limit else "...(truncated)...\n" + text[-limit:]
