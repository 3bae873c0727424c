"""The values that feed a root module, by Terraform's precedence: variable defaults < tfvars
files < -var-file < -var; and the workspace it is evaluated for."""

from __future__ import annotations

import json
import os
from typing import Any

from ecr_lint.hcl.evaluate import EvalError, Evaluator, Scope
from ecr_lint.hcl.functions import FUNCTIONS
from ecr_lint.hcl import syntax as ast
from ecr_lint.loaders.module import decode_text, reading_roots
from ecr_lint.loaders.files import MAX_FILE_BYTES, Refused, describe
from ecr_lint.loaders.reader import Reader
from ecr_lint.hcl.syntax import HclSyntaxError, parse_hcl
from ecr_lint.model import InputError


class Inputs(dict):
    """Variable values, and where each was set: name -> (file, line, expression or None); the
    file is "-var" for the command line (loaders/origins.py traces findings back to them)."""

    def __init__(self) -> None:
        super().__init__()
        self.origins: dict[str, tuple[str, int, Any]] = {}


def read_tfvars(path: str, reader: Reader | None = None, origins: dict | None = None) -> dict[str, Any]:
    """Read a .tfvars (HCL) or .tfvars.json file through the gate: constant values only.
    `origins`, when given, gets name -> (path, line, expression) of every assignment."""
    reader = reader or Reader(reading_roots([os.path.dirname(os.path.abspath(path))]))
    text = decode_text(reader.read_bytes(path, MAX_FILE_BYTES))
    if path.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise HclSyntaxError(f"invalid JSON: {exc}", getattr(exc, "lineno", 0)) from None
        if not isinstance(data, dict):
            raise HclSyntaxError("a .tfvars.json file must hold a JSON object")
        if origins is not None:
            origins.update((name, (path, 0, None)) for name in data)
        return data
    body = parse_hcl(text) if text.strip() else ast.Body({}, ())
    if body.blocks:
        raise HclSyntaxError("a .tfvars file holds only assignments, not blocks", body.blocks[0].line)
    evaluator = Evaluator(FUNCTIONS)
    out = {}
    for name, attr in body.attributes.items():
        try:
            out[name] = evaluator.eval(attr.expr, Scope(_ConstantContext(path)))
        except EvalError as exc:
            raise HclSyntaxError(f"{name}: {exc}", attr.line) from None
    if origins is not None:
        origins.update((name, (path, attr.line, attr.expr)) for name, attr in body.attributes.items())
    return out


class _ConstantContext:
    files = None  # file(), fileset()... read nothing in a .tfvars file: values are constants

    def __init__(self, path: str):
        self.path = path
        self.evaluator = Evaluator(FUNCTIONS)

    def resolve(self, root: str, steps: list, scope: Scope) -> tuple[Any, int]:
        raise EvalError(f"a .tfvars file cannot refer to {root!r}: variable values must be constants")


def root_variables(directory: str, var_files: list[str], var_args: dict[str, str],
                   reader: Reader | None = None) -> tuple[dict[str, Any], list[InputError]]:
    """Variable values by Terraform's precedence: tfvars < auto.tfvars < -var-file < -var.

    Every file is read through `reader` (by default: inside the directory and its git repository),
    so a tfvars symlinked out of the tree, or a config's var_files outside it, is an error naming
    the file, never read."""
    reader = reader or Reader(reading_roots([directory]))
    values = Inputs()
    errors: list[InputError] = []
    try:
        names = reader.list_dir(directory)
    except (Refused, OSError):
        names = []
    files = [f for f in ("terraform.tfvars", "terraform.tfvars.json") if f in names]
    files += [n for n in names if n.endswith(".auto.tfvars") or n.endswith(".auto.tfvars.json")]
    paths = [os.path.join(directory, f) for f in files] + list(var_files)
    for path in paths:
        try:
            values.update(read_tfvars(path, reader, values.origins))
        except HclSyntaxError as exc:
            errors.append(InputError(path, exc.line, exc.message))
        except Refused as exc:
            errors.append(InputError(path, 0, str(exc)))
        except (OSError, ValueError) as exc:
            errors.append(InputError(path, 0, f"cannot read variables file: {describe(exc)}"))
    for name, raw in var_args.items():
        values[name] = _parse_var_arg(raw)
        values.origins[name] = ("-var", 0, None)
    return values, errors


def _parse_var_arg(raw: str) -> Any:
    """-var values are HCL expressions when they look like one, else plain strings."""
    stripped = raw.strip()
    if stripped[:1] in ("[", "{", '"') or stripped in ("true", "false", "null") or _is_number(stripped):
        try:
            body = parse_hcl(f"v = {stripped}\n")
            return Evaluator(FUNCTIONS).eval(body.attributes["v"].expr, Scope(_ConstantContext("-var")))
        except (HclSyntaxError, EvalError):
            pass
    return raw


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def workspace_of(directory: str, explicit: str | None = None) -> str:
    """The Terraform workspace a stack is evaluated for, as Terraform picks it: the one asked
    for, else what `terraform workspace select` wrote (.terraform/environment, under
    TF_DATA_DIR when set), else TF_WORKSPACE, else "default"."""
    if explicit:
        return explicit
    data_dir = os.environ.get("TF_DATA_DIR") or ".terraform"
    try:  # through the gate: inside the tree, a regular file, a few bytes
        raw = Reader(reading_roots([directory])).read_bytes(os.path.join(directory, data_dir, "environment"), 256)
        name = raw.decode("utf-8").strip()
        if name:
            return name
    except (OSError, ValueError):
        pass
    return os.environ.get("TF_WORKSPACE") or "default"
