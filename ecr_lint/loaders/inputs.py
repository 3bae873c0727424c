"""The values that feed a root module, by Terraform's precedence: variable defaults < TF_VAR_
environment variables < terraform.tfvars < *.auto.tfvars < var files < -var; which var files
belong to which stack; and the workspace a stack is evaluated for.

Values are parsed as Terraform parses them: a file's values are HCL constants; a TF_VAR_ or
-var value is the raw text for a variable of a primitive type (or of no type), else an HCL
expression. Nothing here ever puts a value into a message: an environment variable or a
`-var` may hold a secret, so problems name the variable, the source and the declaration only.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from ecr_lint.hcl import syntax as ast
from ecr_lint.hcl.evaluate import EvalError, Evaluator, Scope, to_number
from ecr_lint.hcl.functions import FUNCTIONS
from ecr_lint.hcl.syntax import HclSyntaxError, parse_hcl
from ecr_lint.loaders.files import MAX_FILE_BYTES, Refused, describe
from ecr_lint.loaders.module import Decl, decode_text, load_json_once, reading_roots
from ecr_lint.loaders.reader import Reader
from ecr_lint.model import InputError, Unknown

ENV_PREFIX = "TF_VAR_"
PRIMITIVE_TYPES = ("string", "number", "bool")
AUTO_FILES = ("terraform.tfvars", "terraform.tfvars.json")
AUTO_SUFFIXES = (".auto.tfvars", ".auto.tfvars.json")


@dataclass(frozen=True)
class VarFile:
    """A var file given to one stack, and who named it ("--var-file" or the config file)."""

    path: str
    via: str


@dataclass
class RootInputs:
    """A root module's variable values, the problems met reading them (errors, and warnings of
    kind "warning"), and what set which variable, in precedence order (for the report: names
    and paths, never values)."""

    values: dict[str, Any] = field(default_factory=dict)
    problems: list[InputError] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    # Where each value was set: name -> (file, line, expression or None); the file is "-var" for
    # the command line and "env" for TF_VAR_ (loaders/origins.py traces findings back to them).
    origins: dict[str, tuple[str, int, Any]] = field(default_factory=dict)


# --- .tfvars files ---------------------------------------------------------------------------------

def read_tfvars(path: str, reader: Reader | None = None) -> dict[str, Any]:
    """Read a .tfvars (HCL) or .tfvars.json file through the gate: constant values only."""
    return read_tfvars_lines(path, reader)[0]


def read_tfvars_lines(path: str, reader: Reader | None = None,
                      origins: dict | None = None) -> tuple[dict[str, Any], dict[str, int]]:
    """A var file's values and the line of each assignment. `origins`, when given, gets
    name -> (path, line, expression) of every assignment (the expression None in JSON)."""
    reader = reader or Reader(reading_roots([os.path.dirname(os.path.abspath(path))]))
    text = decode_text(reader.read_bytes(path, MAX_FILE_BYTES))
    if path.endswith(".json"):
        data = load_json_once(text)   # a repeated variable: an error, never the last one silently
        if not isinstance(data, dict):
            raise HclSyntaxError("a .tfvars.json file must hold a JSON object")
        lines = {name: _json_key_line(text, name) for name in data}
        if origins is not None:
            origins.update((name, (path, lines[name], None)) for name in data)
        return data, lines
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
    return out, {name: attr.line for name, attr in body.attributes.items()}


def _json_key_line(text: str, name: str) -> int:
    """The line of a top-level key of a .tfvars.json file (json does not say; 0 if not found)."""
    found = re.search(re.escape(json.dumps(name)) + r"\s*:", text)
    return text.count("\n", 0, found.start()) + 1 if found else 0


class _ConstantContext:
    files = None  # file(), fileset()... read nothing in a .tfvars file: values are constants

    def __init__(self, path: str):
        self.path = path
        self.evaluator = Evaluator(FUNCTIONS)

    def resolve(self, root: str, steps: list, scope: Scope) -> tuple[Any, int]:
        raise EvalError(f"a .tfvars file cannot refer to {root!r}: variable values must be constants")


# --- a stack's variables -----------------------------------------------------------------------------

def environment_values(enabled: bool = True, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The TF_VAR_<name> environment variables, {name: raw text} (none when `enabled` is off: --no-env)."""
    if not enabled:
        return {}
    environ = os.environ if environ is None else environ
    return {key[len(ENV_PREFIX):]: value for key, value in sorted(environ.items())
            if key.startswith(ENV_PREFIX) and len(key) > len(ENV_PREFIX)}


def root_inputs(directory: str, declared: Mapping[str, Decl], var_files: Sequence[VarFile],
                var_args: Mapping[str, str], env: Mapping[str, str], reader: Reader | None = None) -> RootInputs:
    """A root module's variable values, as Terraform sets them (module docstring).

    `declared`: the module's variable declarations. As in Terraform, a TF_VAR_ for a variable the
    stack does not declare is ignored in silence (teams set them for many stacks at once); a
    value in a var file is ignored with a warning naming the file and line; a -var is an error.
    Every file is read through `reader` (by default: inside the directory and its git repository).
    """
    reader = reader or Reader(reading_roots([directory]))
    out = RootInputs()
    for name, raw in env.items():
        if name in declared:
            out.values[name] = _parse_raw(raw, name, declared[name], f"{ENV_PREFIX}{name}", out.problems)
            out.origins[name] = ("env", 0, None)
            out.sources.append({"kind": "environment", "name": f"{ENV_PREFIX}{name}", "variables": [name]})
    for var_file in [*_auto_files(directory, reader), *var_files]:
        _read_var_file(var_file, directory, declared, reader, out)
    for name, raw in var_args.items():
        if name not in declared:
            out.problems.append(InputError(directory, 0, f'--var {name}=...: this stack declares no variable named '
                                           f'"{name}" (Terraform stops here; to force the environment of every '
                                           'stack, use --environment)'))
            continue
        out.values[name] = _parse_raw(raw, name, declared[name], f"--var {name}", out.problems)
        out.origins[name] = ("-var", 0, None)
        out.sources.append({"kind": "command line", "name": f"--var {name}", "variables": [name]})
    return out


def _auto_files(directory: str, reader: Reader) -> list[VarFile]:
    """terraform.tfvars, terraform.tfvars.json, then *.auto.tfvars(.json) in name order."""
    try:
        names = sorted(reader.list_dir(directory))
    except (Refused, OSError):
        return []
    found = [n for n in AUTO_FILES if n in names] + [n for n in names if n.endswith(AUTO_SUFFIXES)]
    return [VarFile(os.path.join(directory, n), "auto") for n in found]


def _read_var_file(var_file: VarFile, directory: str, declared: Mapping[str, Decl], reader: Reader,
                   out: RootInputs) -> None:
    path = var_file.path
    source = {"kind": "file", "file": path, "via": var_file.via, "variables": []}
    out.sources.append(source)
    try:
        origins: dict[str, tuple[str, int, Any]] = {}
        values, lines = read_tfvars_lines(path, reader, origins)
    except HclSyntaxError as exc:
        out.problems.append(InputError(path, exc.line, exc.message))
        return
    except Refused as exc:
        out.problems.append(InputError(path, 0, str(exc)))
        return
    except (OSError, ValueError) as exc:
        out.problems.append(InputError(path, 0, f"cannot read variables file: {describe(exc)}"))
        return
    source["variables"] = sorted(values)
    for name, value in values.items():
        if name in declared:
            out.values[name] = value
            out.origins[name] = origins[name]
            continue
        stack = _shown_dir(directory)
        out.problems.append(InputError(path, lines.get(name, 0), f'value for undeclared variable "{name}": the stack '
                                       f"{stack} declares no variable of that name, so the value is ignored "
                                       "(Terraform warns too)", kind="warning"))


def _shown_dir(directory: str) -> str:
    relative = os.path.relpath(directory)
    return directory if relative.startswith("..") else relative


def parse_mode(decl: Decl) -> str:
    """How Terraform parses a TF_VAR_ or -var value for this variable: "literal" (the raw text) for a
    primitive type or no type at all, else "hcl" (an expression)."""
    attr = decl.block.body.attributes.get("type")
    if attr is None:
        return "literal"
    return "literal" if _type_text(attr.expr) in PRIMITIVE_TYPES else "hcl"


def _type_text(expr: ast.Node) -> str | None:
    """`string`, or the legacy quoted `"string"` (and a .tf.json file's type, a string)."""
    if isinstance(expr, ast.Name):
        return expr.name
    if isinstance(expr, ast.Lit) and isinstance(expr.value, str):
        return expr.value.strip()
    if isinstance(expr, ast.Template) and len(expr.parts) == 1 and isinstance(expr.parts[0], str):
        return expr.parts[0].strip()
    return None


def _parse_raw(raw: str, name: str, decl: Decl, origin: str, problems: list[InputError]) -> Any:
    """A TF_VAR_ or -var value, parsed for its variable's type. An invalid one is an error naming
    the variable and where it came from (never the value) and leaves the variable unknown."""
    if parse_mode(decl) == "literal":
        value = _primitive(raw, _type_text(decl.block.body.attributes["type"].expr)
                           if "type" in decl.block.body.attributes else None)
        if isinstance(value, Unknown):
            problems.append(InputError(decl.file, decl.block.line, f'{origin}: not a valid value for variable "{name}" '
                                       f"({value.reason}; the value is not shown: it may be secret)"))
            return Unknown(f"var.{name}: the value {origin} gives is not valid ({value.reason})")
        return value
    try:
        body = parse_hcl(f"v = {raw}\n")
        if set(body.attributes) != {"v"} or body.blocks:  # one expression, nothing smuggled after it
            raise HclSyntaxError("more than one expression")
        return Evaluator(FUNCTIONS).eval(body.attributes["v"].expr, Scope(_ConstantContext(origin)))
    except (HclSyntaxError, EvalError, RecursionError):
        problems.append(InputError(decl.file, decl.block.line, f'{origin}: not a valid value for variable "{name}": '
                                   "a variable of a complex type takes an HCL expression, such as [\"a\"] or "
                                   "{ key = \"value\" } (the value is not shown: it may be secret)"))
        return Unknown(f"var.{name}: the value {origin} gives is not a valid expression")


def _primitive(raw: str, type_name: str | None) -> Any:
    """The raw text converted to the variable's primitive type, as Terraform converts it (an
    Unknown saying what was expected when it cannot be)."""
    if type_name == "number":
        try:
            return to_number(raw)
        except EvalError:
            return Unknown("a number is required")
    if type_name == "bool":
        if raw in ("true", "false", "1", "0"):
            return raw in ("true", "1")
        return Unknown("true or false is required")
    return raw


# --- which var files belong to which stack -------------------------------------------------------------

def var_files_by_stack(stacks: Iterable[str], command_line: Sequence[str], from_config: Sequence[str],
                       config_file: str | None) -> tuple[dict[str, tuple[VarFile, ...]], list[InputError]]:
    """The var files of each stack, in order (the config file's, then --var-file's), and warnings.

    - A file inside a linted stack's directory tree (the nearest stack above it) is that stack's
      only; a file outside every linted stack applies to all of them.
    - A config `var_files` entry is looked up in each stack's directory: `env/prod.tfvars` is each
      stack's own file, when it has one (a stack without it goes without). An entry that no stack
      has is the file at that path from the config file's directory, placed by the rule above;
      when that is missing too, a warning says so.
    """
    stacks = [os.path.abspath(s) for s in stacks]
    found: dict[str, list[VarFile]] = {s: [] for s in stacks}
    warnings: list[InputError] = []
    base = os.path.dirname(os.path.abspath(config_file)) if config_file else os.getcwd()
    via_config = os.path.abspath(config_file) if config_file else "the config file"
    for entry in from_config:
        relative = os.path.relpath(os.path.abspath(entry), base)
        owners = [s for s in stacks if not relative.startswith("..")
                  and os.path.lexists(os.path.join(s, relative))]
        for stack in owners:
            found[stack].append(VarFile(os.path.join(stack, relative), via_config))
        if owners:
            continue
        if os.path.lexists(entry):
            _place(VarFile(os.path.abspath(entry), via_config), stacks, found)
        else:
            warnings.append(InputError(config_file or entry, 0, f"var_files: {relative} is in no linted stack's "
                                       "directory, nor beside the config file: not read", kind="warning"))
    for path in command_line:
        _place(VarFile(os.path.abspath(path), "--var-file"), stacks, found)
    return {s: tuple(files) for s, files in found.items()}, warnings


def _place(var_file: VarFile, stacks: list[str], found: dict[str, list[VarFile]]) -> None:
    """To the nearest stack whose tree holds the file, else to every stack."""
    holders = [s for s in stacks if var_file.path.startswith(s.rstrip(os.sep) + os.sep)]
    for stack in [max(holders, key=len)] if holders else stacks:
        found[stack].append(var_file)


# --- the workspace ----------------------------------------------------------------------------------------

def workspace_source(directory: str, explicit: str | None = None) -> tuple[str, str]:
    """The Terraform workspace a stack is evaluated for, and where that came from, as Terraform
    picks it: the one asked for ("--workspace"), else what `terraform workspace select` wrote
    (".terraform/environment", under TF_DATA_DIR when set), else "TF_WORKSPACE", else "default"
    (nothing said which: Terraform's own default, an assumption for a linter)."""
    if explicit:
        return explicit, "--workspace"
    data_dir = os.environ.get("TF_DATA_DIR") or ".terraform"
    try:  # through the gate: inside the tree, a regular file, a few bytes
        raw = Reader(reading_roots([directory])).read_bytes(os.path.join(directory, data_dir, "environment"), 256)
        name = raw.decode("utf-8").strip()
        if name:
            return name, f"{data_dir}/environment"
    except (OSError, ValueError):
        pass
    if os.environ.get("TF_WORKSPACE"):
        return os.environ["TF_WORKSPACE"], "TF_WORKSPACE"
    return "default", "default"


def workspace_of(directory: str, explicit: str | None = None) -> str:
    """The workspace's name (see workspace_source)."""
    return workspace_source(directory, explicit)[0]
