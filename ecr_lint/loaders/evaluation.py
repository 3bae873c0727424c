"""Evaluation: a root module directory -> evaluated resources and their graph.

The module instances of a stack (the root and every module call, count/for_each expanded),
their variables, locals and outputs, and each resource instance's attributes. Below it: which
files form a module (module.py, override.py), where a module's source lives (calls.py,
installed.py), and the values that feed the root (inputs.py); above it: what the AWS provider
adds (provider.py).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from ecr_lint.hcl.evaluate import (
    BudgetExceeded, Budget, EvalError, Evaluator, ObjectValue, Scope, Walk, contains_unknown, plain, to_number,
    to_string,
)
from ecr_lint.hcl.functions import FUNCTIONS
from ecr_lint.graph import ResourceGraph
from ecr_lint.hcl import syntax as ast
from ecr_lint.hcl.types import convert_charged, type_of
from ecr_lint.loaders.annotations import annotations_of
from ecr_lint.loaders.calls import local_source
from ecr_lint.loaders.files import Roots
from ecr_lint.loaders.module import Decl, ModuleConfig, load_module, within
from ecr_lint.loaders.installed import Manifest
from ecr_lint.loaders.provider import ProviderInfo, derive_known_attributes, tags_all
from ecr_lint.loaders.reader import Reader, TreeFiles
from ecr_lint.model import InputError, Ref, Resource, SourceSpan, Unknown
from ecr_lint.sensitive import holds_marks, is_marked
from ecr_lint.stack import Stack, Unresolved, taggable_types

MAX_INSTANCES = 10_000
MAX_MODULE_DEPTH = 32
FREE_ATTRIBUTE_NODES = 10_000  # a resource's attributes this size are not charged: real ones are far smaller
META_ARGUMENTS = {"count", "for_each", "provider", "depends_on", "lifecycle", "provisioner", "connection"}


@dataclass
class Instance:
    """One instance of a resource or data block (count/for_each expanded)."""

    decl: Decl
    module: "ModuleInstance"
    address: str
    names: dict  # each / count for its scope
    value: ObjectValue | None = None
    evaluating: bool = False
    attribute_lines: dict = field(default_factory=dict)
    attribute_files: dict = field(default_factory=dict)   # those merged in from an override file


class StackLoader:
    """Loads one root module and everything it calls; one per stack."""

    def __init__(self, root_dir: str, variables: dict[str, Any], allowed_roots: list[str],
                 parse_file: Callable[[str, bytes], ast.Body] | None = None,
                 module_cache: dict[str, ModuleConfig] | None = None, max_file_bytes: int | None = None,
                 workspace: str = "default", reader: Reader | None = None):
        self.root_dir = os.path.abspath(root_dir)
        self.allowed_roots = [os.path.realpath(r) for r in allowed_roots] + [os.path.realpath(root_dir)]
        # Every file read goes through the gate; the reader records them (the result cache's manifest).
        self.reader = reader or Reader(Roots(self.allowed_roots))
        self.files = TreeFiles(self.reader, self.root_dir)  # what file(), fileset()... see
        self.budget = Budget()  # one per stack: steps, bytes built, regex input, instances
        self.evaluator = Evaluator(FUNCTIONS, self.budget)
        self.places: list[tuple[str, int]] = []  # (file, line) of the attributes being evaluated
        self.graph = ResourceGraph()
        self.errors: list[InputError] = []
        self.unresolved: list[Unresolved] = []
        self.parse_file = parse_file
        self.module_cache = module_cache if module_cache is not None else {}
        self.current: list[tuple[str, str]] = []  # (graph node, attribute path) being evaluated
        self.module_calls: list[tuple[str, int, int, str]] = []
        self.root_variables = variables
        self.input_origins = getattr(variables, "origins", {})  # name -> (file, line, expression): inputs.Inputs
        self.max_file_bytes = max_file_bytes
        self.workspace = workspace
        self.configs: dict[str, ModuleConfig] = {}  # the module directories this stack read
        self._manifest: Manifest | None = None
        if holds_marks(variables):  # values the plan marks sensitive: look for marks from the start
            self.evaluator.tainted = True

    # -- module configurations are parsed once per directory
    def config(self, directory: str) -> ModuleConfig:
        directory = os.path.abspath(directory)
        if directory not in self.module_cache:
            extra = {"max_bytes": self.max_file_bytes} if self.max_file_bytes else {}
            self.module_cache[directory] = load_module(directory, self.parse_file, self.reader.roots, **extra)
        config = self.module_cache[directory]
        if directory not in self.configs:
            self.errors.extend(_shadowed(config))
        self.configs[directory] = config
        self.reader.record.merge(config.record)
        return config

    def manifest(self) -> Manifest:
        """Where `terraform init` installed the stack's modules (.terraform/modules/modules.json)."""
        if self._manifest is None:
            self._manifest = Manifest(self.root_dir, self.reader.read_bytes)
        return self._manifest

    def load(self) -> Stack:
        root_config = self.config(self.root_dir)
        self.errors.extend(root_config.errors)
        root = ModuleInstance(self, root_config, "", ".", None, {}, 0)
        root.set_inputs_from_root(self.root_variables)
        try:
            root.realise()
        except BudgetExceeded as exc:  # raised outside any attribute (each is caught where it happens)
            self.budget_exceeded(str(exc))
        resources = [inst.module.to_resource(inst) for inst in root.all_instances()]
        for res in resources:
            self.graph.add_node(res.address, "resource" if res.mode == "managed" else "data", resource=res)
        module_variables = {m.prefix: m.variable_values() for m in root.all_modules()}
        values = {f"local.{k}": v for k, v in root.local_cache.items()}
        values.update({f"output.{k}": v for k, v in root.output_cache.items()})
        annotations = [a for config in self.configs.values() for a in annotations_of(config)]
        from ecr_lint.loaders.origins import Tracer

        return Stack(self.root_dir, resources, self.graph, self.errors, self.unresolved, module_variables[""],
                     module_variables=module_variables, module_values=values, module_calls=self.module_calls,
                     annotations=annotations, workspace=self.workspace, sensitive=self.evaluator.tainted,
                     tracer=Tracer(self, root), read=frozenset(self.reader.record.files))

    # -- graph edges are recorded while evaluating
    def note(self, target: str, path: tuple = ()) -> None:
        if self.current:
            source, attribute = self.current[-1]
            if source != target:
                self.graph.add_edge(source, target, attribute, ".".join(str(p) for p in path))

    def budget_exceeded(self, message: str, file: str | None = None, line: int = 0) -> None:
        """An error entry for the stack, once per kind of limit, at the first place it was hit
        (once a budget is spent, every later step raises it again)."""
        if file is None and self.places:
            file, line = self.places[-1]
        message = f"evaluation budget exceeded: {message}"
        if not any(e.message == message for e in self.errors):
            self.errors.append(InputError(file or self.root_dir, line, message))

    def evaluating(self, node: str, attribute: str = "") -> "_Frame":
        return _Frame(self, node, attribute)


class _Frame:
    def __init__(self, loader: StackLoader, node: str, attribute: str):
        self.loader, self.entry = loader, (node, attribute)

    def __enter__(self) -> None:
        self.loader.current.append(self.entry)

    def __exit__(self, *exc: Any) -> None:
        self.loader.current.pop()


class ModuleInstance:
    """The evaluation context of one module instance (the root or a module call)."""

    def __init__(self, loader: StackLoader, config: ModuleConfig, prefix: str, rel_dir: str,
                 parent: "ModuleInstance | None", providers: dict[str, ProviderInfo], depth: int):
        self.loader = loader
        self.config = config
        self.prefix = prefix            # "" or 'module.a' or 'module.a["k"].module.b'
        self.rel_dir = rel_dir          # path.module, relative to the root module
        self.parent = parent
        self.depth = depth
        self.evaluator = loader.evaluator
        self.inputs: dict[str, Any] = {}
        self.var_cache: dict[str, Any] = {}
        self.local_cache: dict[str, Any] = {}
        self.local_busy: set[str] = set()
        self.output_cache: dict[str, Any] = {}
        self.providers = dict(providers)
        self.instances: dict[tuple[str, str, str], list[Instance] | dict[str, Instance] | Instance] = {}
        self.children: dict[str, Any] = {}  # module call name -> ModuleInstance | list | dict | Unresolved
        self.scope = Scope(self)
        self.key_path = ""              # the call's key in modules.json: "outer.inner" (no instance keys)
        self.call: tuple | None = None  # (the module block's Decl, its each/count names): where inputs come from

    def addr(self, local: str) -> str:
        return f"{self.prefix}.{local}" if self.prefix else local

    # --- variables ---------------------------------------------------------------
    def set_inputs_from_root(self, values: dict[str, Any]) -> None:
        self.inputs = dict(values)

    def variable(self, name: str) -> Any:
        if name in self.var_cache:
            return self.var_cache[name]
        decl = self.config.variables.get(name)
        if decl is None:
            raise EvalError(f'reference to undeclared input variable "{name}"')
        attributes = decl.block.body.attributes
        given = name in self.inputs
        if given and self.inputs[name] is None and "default" in attributes and not self.nullable(decl):
            given = False  # null for a variable with `nullable = false`: Terraform takes the default
        if given:
            value = self.inputs[name]
        elif "default" in attributes:
            default = attributes["default"]
            with self.loader.evaluating(self.addr(f"var.{name}")):
                value = self.eval_attr(default.expr, self.scope, f"var.{name}", _at(decl, default))
        else:
            value = Unknown(f"var.{name} has no default and no value was given", (), "${var.%s}" % name)
        converted = self.convert_variable(name, decl, value, given)
        if self.declared_sensitive(decl.block, f"var.{name}"):
            converted = self.evaluator.mark(converted)
        self.var_cache[name] = converted
        return converted

    def convert_variable(self, name: str, decl: Decl, value: Any, given: bool) -> Any:
        """The value converted to the variable's declared type as Terraform converts it (hcl/types.py);
        one it cannot take is an input error where the value was given, and the variable unknown."""
        ctype = type_of(decl.block)
        if ctype is None:
            return value  # no type, or `any`: the value as it is (no work)
        problem = None
        if plain(value) is None and given and not self.nullable(decl):
            problem = "the given value is null, but this variable is not nullable (it has no default)"
        else:
            try:
                return convert_charged(value, ctype, self.loader.budget)
            except BudgetExceeded as exc:
                self.loader.budget_exceeded(str(exc), *self.value_origin(name, decl, given))
                return Unknown(f"var.{name}: {exc}")
            except RecursionError:
                problem = "the value is nested too deeply to convert"
            except EvalError as exc:
                problem = str(exc)
        file, line = self.value_origin(name, decl, given)
        declared = f"{os.path.relpath(decl.file, os.path.dirname(file) or '.')}:{decl.block.line}"
        error = InputError(file, line, f'invalid value for input variable "{name}": the given value is not suitable '
                                       f"for var.{name} declared at {declared}: {problem}")
        # A default the override check (override.py) already rejected is reported once, there.
        reported = not given and any(e.message.startswith(f'variable "{name}": its default ') for e in self.config.errors)
        if error not in self.loader.errors and not reported:
            self.loader.errors.append(error)
        return Unknown(f"var.{name}: the value does not match its type {ctype}: {problem}")

    def nullable(self, decl: Decl) -> bool:
        attr = decl.block.body.attributes.get("nullable")
        if attr is None:
            return True
        return plain(self.eval_attr(attr.expr, self.scope, "nullable")) is not False

    def value_origin(self, name: str, decl: Decl, given: bool) -> tuple[str, int]:
        """Where a variable's value is written: the module call's argument, the var file's line, else
        the declaration (its default, or the variable itself for TF_VAR_ and -var)."""
        if given and self.call is not None:
            call, _ = self.call
            attr = call.block.body.attributes.get(name)
            if attr is not None:
                return _at(call, attr)
        if given and self.parent is None:
            origin = self.loader.input_origins.get(name)
            if origin and origin[0] not in ("env", "-var"):
                return origin[0], origin[1]
        default = decl.block.body.attributes.get("default")
        if not given and default is not None:
            return _at(decl, default)
        return decl.file, decl.block.line

    def declared_sensitive(self, block: ast.Block, where: str) -> bool:
        """`sensitive = true` on a variable or an output."""
        attr = block.body.attributes.get("sensitive")
        if attr is None:
            return False
        value = plain(self.eval_attr(attr.expr, self.scope, f"{where}.sensitive"))
        return value is True or value == "true" or isinstance(value, Unknown)  # unknown: assume it is

    def variable_values(self) -> dict[str, Any]:
        return {name: self.variable(name) for name in self.config.variables}

    # --- locals and outputs ---------------------------------------------------------
    def local(self, name: str) -> Any:
        if name in self.local_cache:
            return self.local_cache[name]
        if name not in self.config.locals:
            raise EvalError(f'reference to undeclared local value "{name}"')
        if name in self.local_busy:
            return Unknown(f"local.{name} refers to itself (a cycle)")
        self.local_busy.add(name)
        try:
            attr, file = self.config.locals[name]
            with self.loader.evaluating(self.addr(f"local.{name}")):
                value = self.eval_attr(attr.expr, self.scope, f"local.{name}", (file, attr.line))
        finally:
            self.local_busy.discard(name)
        self.local_cache[name] = value
        return value

    def output(self, name: str) -> Any:
        if name in self.output_cache:
            return self.output_cache[name]
        decl = self.config.outputs.get(name)
        if decl is None:
            raise EvalError(f'module has no output named "{name}"')
        self.output_cache[name] = Unknown(f"output {name} refers to itself (a cycle)")
        attr = decl.block.body.attributes.get("value")
        with self.loader.evaluating(self.addr(f"output.{name}")):
            value = self.eval_attr(attr.expr, self.scope, f"output.{name}", _at(decl, attr)) if attr else None
        if self.declared_sensitive(decl.block, f"output.{name}"):
            value = self.evaluator.mark(value)
        self.output_cache[name] = value
        return value

    def eval_attr(self, expr: ast.Node, scope: Scope, where: str, at: tuple[str, int] | None = None) -> Any:
        """Evaluate; an error Terraform would report becomes an Unknown carrying it. `at` is the
        (file, line) an exceeded budget is reported at."""
        places = self.loader.places
        if at is not None:
            places.append(at)
        try:
            return self.evaluator.eval(expr, scope)
        except BudgetExceeded as exc:
            self.loader.budget_exceeded(str(exc))
            return Unknown(f"{where}: {exc}")
        except EvalError as exc:
            return Unknown(f"{where}: {exc}")
        except RecursionError:
            return Unknown(f"{where}: expression nested too deeply to evaluate")
        finally:
            if at is not None:
                places.pop()

    # --- name resolution (called by the evaluator) ------------------------------------
    def resolve(self, root: str, steps: list, scope: Scope) -> tuple[Any, int]:
        def name_at(i: int) -> str:
            if i >= len(steps) or steps[i][0] != "attr":
                raise EvalError(f'"{root}" must be followed by an attribute name')
            return steps[i][1]

        if root == "var":
            name = name_at(0)
            self.loader.note(self.addr(f"var.{name}"))
            return self.variable(name), 1
        if root == "local":
            name = name_at(0)
            self.loader.note(self.addr(f"local.{name}"))
            return self.local(name), 1
        if root == "path":
            which = name_at(0)
            return {"module": self.rel_dir, "root": ".", "cwd": self.loader.root_dir}.get(which, "."), 1
        if root == "terraform":
            if name_at(0) == "workspace":
                self.loader.note("terraform.workspace")  # what depends on it (predicates/environment.py)
                return self.loader.workspace, 1
            return Unknown(f"terraform.{name_at(0)}"), 1
        if root in ("each", "count", "self"):
            raise EvalError(f'"{root}" is not available here')
        if root == "module":
            return self.module_reference(name_at(0), steps[1:])
        if root == "data":
            return self.resource_reference("data", name_at(0), name_at(1), steps[2:], 2)
        return self.resource_reference("managed", root, name_at(0), steps[1:], 1)

    def module_reference(self, name: str, rest: list) -> tuple[Any, int]:
        call = self.config.modules.get(name)
        if call is None:
            raise EvalError(f'reference to undeclared module "{name}"')
        child = self.children.get(name)
        if child is None:
            child = self.realise_module(name)
        self.loader.note(self.addr(f"module.{name}"))
        if isinstance(child, Unresolved):
            return Unknown(child.reason, (), "${%s}" % self.addr(f"module.{name}")), len(rest) + 1
        if isinstance(child, (list, dict)):
            if rest and rest[0][0] == "index":
                key = rest[0][1]
                try:
                    inst = child[int(to_number(key))] if isinstance(child, list) else child[to_string(key)]
                except (KeyError, IndexError, EvalError):
                    raise EvalError(f"module.{name} has no instance {key!r}") from None
                if len(rest) > 1 and rest[1][0] == "attr":
                    return inst.output_ref(rest[1][1]), 3
                return inst.outputs_object(), 2
            items = child if isinstance(child, list) else child.values()
            objs = [m.outputs_object() for m in items]
            return (objs if isinstance(child, list) else dict(zip(child.keys(), objs))), 1
        if rest and rest[0][0] == "attr":
            return child.output_ref(rest[0][1]), 2
        return child.outputs_object(), 1

    def output_ref(self, name: str) -> Any:
        self.loader.note(self.addr(f"output.{name}"))
        return self.output(name)

    def outputs_object(self) -> dict:
        return {name: self.output_ref(name) for name in self.config.outputs}

    def resource_reference(self, mode: str, type_: str, name: str, rest: list, used: int) -> tuple[Any, int]:
        key = (mode, type_, name)
        if key not in self.instances:
            at = self.config.resource_at("data" if mode == "data" else "resource", (type_, name))
            decl = self.config.resources[at] if at is not None else None
            if decl is None:
                what = f"data.{type_}.{name}" if mode == "data" else f"{type_}.{name}"
                raise EvalError(f"reference to undeclared resource {what}")
            self.expand(decl)
        expanded = self.instances[key]
        if isinstance(expanded, (list, dict)) and rest and rest[0][0] == "index":
            # Pick the one instance, so that the edge goes to it and not to all of them.
            wanted = rest[0][1]
            try:
                inst = expanded[int(to_number(wanted))] if isinstance(expanded, list) else expanded[to_string(wanted)]
            except (KeyError, IndexError, EvalError, TypeError):
                raise EvalError(f"{type_}.{name} has no instance {wanted!r}") from None
            return self.instance_ref(inst, rest[1:]), used + 1
        if isinstance(expanded, list):
            return [self.instance_ref(i, rest) for i in expanded], used
        if isinstance(expanded, dict):
            return {k: self.instance_ref(i, rest) for k, i in expanded.items()}, used
        return self.instance_ref(expanded, rest), used

    def instance_ref(self, inst: Instance, rest: list = ()) -> Ref:
        self.loader.note(inst.address, tuple(k for kind, k in rest if kind == "attr")[:1])
        return Ref(inst.address, (), self.instance_value(inst))

    # --- resources -----------------------------------------------------------------
    def expand(self, decl: Decl) -> None:
        block = decl.block
        mode = "data" if block.type == "data" else "managed"
        type_, name = block.labels
        key = (mode, type_, name)
        base = self.addr(f"data.{type_}.{name}" if mode == "data" else f"{type_}.{name}")
        self.instances[key] = Instance(decl, self, base, {})  # placeholder while expanding
        attrs = block.body.attributes
        note = ""
        if "count" in attrs:
            with self.loader.evaluating(base, "count"):
                count = self.eval_attr(attrs["count"].expr, self.scope, f"{base}.count",
                                       _at(decl, attrs["count"]))
            self.sensitive_keys(count, *_at(decl, attrs["count"]), f"{base}: count")  # still numbered
            n = _count_of(plain(count))
            if isinstance(n, Unknown):
                note = f"count is unknown: {n.reason}"
            else:
                n = self.admit(decl, base, n, f"count = {n}", _block_name(block))
                self.instances[key] = [Instance(decl, self, f"{base}[{i}]", {"count": {"index": i}}) for i in range(n)]
                return
        elif "for_each" in attrs:
            with self.loader.evaluating(base, "for_each"):
                each = plain(self.eval_attr(attrs["for_each"].expr, self.scope, f"{base}.for_each",
                                            _at(decl, attrs["for_each"])))
            items = ("for_each is derived from a sensitive value"
                     if self.sensitive_keys(each, *_at(decl, attrs["for_each"]), f"{base}: for_each")
                     else self.for_each_items(decl, each))
            if isinstance(items, str):
                note = items
            else:
                if not self.admit(decl, base, len(items), f"for_each over {len(items)} elements", _block_name(block)):
                    items = []
                self.instances[key] = {k: Instance(decl, self, f"{base}[{json.dumps(k)}]", {"each": {"key": k, "value": v}})
                                       for k, v in items}
                return
        if self.over_budget(decl, _block_name(block), 1):
            self.instances[key] = []
            return
        if note:
            self.loader.unresolved.append(Unresolved(base, f"{base}: {note}; checked as one instance, "
                                                     "whatever number Terraform creates", decl.file, block.line))
        unknown_each = Unknown(f"{base}: {note}") if note else None
        names = {"each": {"key": unknown_each, "value": unknown_each}, "count": {"index": unknown_each}} if note else {}
        self.instances[key] = Instance(decl, self, base, names)

    def sensitive_keys(self, value: Any, file: str, line: int, what: str) -> bool:
        """Instance keys from a sensitive value: Terraform rejects them, because an instance's key
        is shown everywhere its address is. An error; the resource is checked as one instance."""
        if not self.evaluator.tainted:
            return False
        keys = plain(value)
        keys = list(keys) if isinstance(keys, dict) else keys if isinstance(keys, list) else [value]
        if not any(is_marked(k) for k in keys) and not is_marked(value):
            return False
        self.loader.errors.append(InputError(file, line, f"{what} is derived from a sensitive value: "
                                             "Terraform rejects this (instance keys are shown in every output); "
                                             "use nonsensitive() where the keys are not secret"))
        return True

    def admit(self, decl: Decl, address: str, n: int, how: str, name: str) -> int:
        """How many of n instances of a block are created: all of them, or none (an error naming the
        block, never a silent truncation) when n is over the per-block cap or over what is left of
        the stack's budget."""
        if n > MAX_INSTANCES:
            self.loader.errors.append(InputError(decl.file, decl.block.line,
                                                 f"{address}: {how} exceeds the limit of {MAX_INSTANCES}"))
            return 0
        return 0 if self.over_budget(decl, name, n) else max(n, 0)

    def over_budget(self, decl: Decl, name: str, n: int) -> bool:
        """Charge n instances to the stack; when they do not fit, an error at the block (named without
        its module path, so that a self-calling module reports it once)."""
        try:
            self.loader.budget.instance(max(n, 0), name)
        except BudgetExceeded as exc:
            self.loader.budget_exceeded(str(exc), decl.file, decl.block.line)
            return True
        return False

    def for_each_items(self, decl: Decl, each: Any) -> list[tuple[str, Any]] | str:
        """The (key, value) pairs of a for_each value, or why there are none to be known."""
        if isinstance(each, Unknown):
            return f"for_each is unknown: {each.reason}"
        if not isinstance(each, (dict, list)):
            return "for_each must be a map or a set of strings"
        try:
            found = contains_unknown(list(each) if isinstance(each, dict) else each, self.loader.budget)
            if found:
                return f"for_each is unknown: {found.reason}"
            return list(each.items()) if isinstance(each, dict) else [(to_string(v), v) for v in each]
        except BudgetExceeded as exc:
            self.loader.budget_exceeded(str(exc), decl.file, decl.block.line)
            return f"for_each is unknown: {exc}"
        except EvalError:
            return "for_each must be a map or a set of strings"

    def instance_value(self, inst: Instance) -> Any:
        if inst.value is not None:
            return inst.value
        if inst.evaluating:
            return Unknown(f"{inst.address} refers to itself through its own attributes (a cycle)")
        inst.evaluating = True
        try:
            block = inst.decl.block
            scope = self.scope.child(**inst.names) if inst.names else self.scope
            mode = "data" if block.type == "data" else "managed"
            data = self.eval_body(block.body, scope, inst.address, "", inst.attribute_lines, top=True,
                                  file=inst.decl.file, files=inst.attribute_files)
            type_ = block.labels[0]
            if mode == "managed" and type_ == "aws_ssm_parameter" and "value" in data:
                data["value"] = self.evaluator.mark(data["value"])  # sensitive in the provider's schema
            try:
                derive_known_attributes(type_, mode, data)
            except BudgetExceeded as exc:  # a policy document built from shared references
                self.loader.budget_exceeded(str(exc), inst.decl.file, block.line)
                data["json"] = data["minified_json"] = Unknown(f"{inst.address}.json: {exc}")
            if self.evaluator.tainted and "json" in data and holds_marks(data):
                data["json"] = data["minified_json"] = self.evaluator.mark(data["json"])  # rendered from them
            if mode == "managed" and type_ in taggable_types():
                data["tags_all"] = tags_all(data.get("tags"), self.provider_of(block))
            inst.value = ObjectValue(data, inst.address, after_apply=(mode == "managed"))
        finally:
            inst.evaluating = False
        return inst.value

    def eval_body(self, body: ast.Body, scope: Scope, node: str, prefix: str,
                  lines: dict | None = None, top: bool = False, file: str | None = None,
                  files: dict | None = None) -> dict:
        """A block's arguments and nested blocks, evaluated. `lines` (and `files`, for the parts an
        override file merged in) receive where each top-level name is written."""
        out: dict[str, Any] = {}
        for attr in body.attributes.values():
            if top and attr.name in META_ARGUMENTS:
                continue
            path = f"{prefix}{attr.name}"
            with self.loader.evaluating(node, path):
                out[attr.name] = self.eval_attr(attr.expr, scope, f"{node}.{path}",
                                                (attr.file or file, attr.line) if file else None)
            if lines is not None:
                lines[attr.name] = attr.line
                if attr.file and files is not None:
                    files[attr.name] = attr.file
        for block in body.blocks:
            if top and block.type in ("lifecycle", "provisioner", "connection"):
                continue
            name = block.type if block.type != "dynamic" else block.labels[0]
            if lines is not None and name not in lines:
                lines[name] = block.line
                if block.file and files is not None:
                    files[name] = block.file
            inner_file = (block.file or file) if file else None
            if block.type == "dynamic" and block.labels:
                out.setdefault(block.labels[0], [])
                out[block.labels[0]] = self.dynamic(block, scope, node, prefix, out[block.labels[0]], inner_file)
                continue
            out.setdefault(block.type, [])
            if isinstance(out[block.type], list):
                out[block.type].append(self.eval_body(block.body, scope, node, f"{prefix}{block.type}.",
                                                      file=inner_file))
        return out

    def dynamic(self, block: ast.Block, scope: Scope, node: str, prefix: str, existing: Any,
                file: str | None = None) -> Any:
        label = block.labels[0]
        attrs = block.body.attributes
        iterator = label
        if "iterator" in attrs and isinstance(attrs["iterator"].expr, ast.Name):
            iterator = attrs["iterator"].expr.name
        with self.loader.evaluating(node, f"{prefix}{label}"):
            coll = plain(self.eval_attr(attrs["for_each"].expr, scope, f"{node}.dynamic.{label}",
                                        (file, block.line) if file else None)) if "for_each" in attrs else []
        if isinstance(coll, Unknown):
            return Unknown(f"dynamic \"{label}\" for_each is unknown: {coll.reason}", coll.refs)
        content = next((b for b in block.body.blocks if b.type == "content"), None)
        if content is None or not isinstance(existing, list):
            return existing
        items = list(coll.items()) if isinstance(coll, dict) else list(enumerate(coll)) if isinstance(coll, list) else []
        for k, v in items:
            inner = scope.child(**{iterator: {"key": k, "value": v}})
            existing.append(self.eval_body(content.body, inner, node, f"{prefix}{label}.", file=file))
        return existing

    def provider_of(self, block: ast.Block) -> ProviderInfo:
        local_name = block.labels[0].split("_")[0]
        attr = block.body.attributes.get("provider")
        if attr is not None:
            local_name = _traversal_text(attr.expr) or local_name
        return self.providers.get(local_name) or ProviderInfo(self.addr(f"provider.{local_name}"))

    # --- module calls ---------------------------------------------------------------
    def realise(self) -> None:
        """Evaluate everything in this instance so that the graph is complete."""
        if self.parent is None:
            self.providers = self.root_providers()
        for name in self.config.variables:
            self.loader.graph.add_node(self.addr(f"var.{name}"), "var")
            self.variable(name)
        for name in self.config.locals:
            self.loader.graph.add_node(self.addr(f"local.{name}"), "local")
            self.local(name)
        for decl in self.config.resources:
            mode = "data" if decl.block.type == "data" else "managed"
            key = (mode,) + decl.block.labels
            if key not in self.instances:
                self.expand(decl)
            for inst in self._instances_of(key):
                self.instance_value(inst)
        for name in self.config.modules:
            if name not in self.children:
                self.realise_module(name)
        for name in self.config.outputs:
            self.loader.graph.add_node(self.addr(f"output.{name}"), "output")
            self.output(name)

    def root_providers(self) -> dict[str, ProviderInfo]:
        providers: dict[str, ProviderInfo] = {}
        for decl in self.config.providers:
            body = decl.block.body
            local_name = decl.block.labels[0]
            alias_attr = body.attributes.get("alias")
            alias = plain(self.eval_attr(alias_attr.expr, self.scope, "provider.alias",
                                         _at(decl, alias_attr))) if alias_attr else None
            key = f"{local_name}.{alias}" if isinstance(alias, str) else local_name
            address = self.addr(f"provider.{key}")
            self.loader.graph.add_node(address, "provider")
            default_tags = None
            for node, at in _default_tags(decl):
                with self.loader.evaluating(address, "default_tags.tags"):
                    default_tags = self.eval_attr(node, self.scope, f"{address}.default_tags", at)
            providers[key] = ProviderInfo(address, default_tags)
        return providers

    def realise_module(self, name: str) -> Any:
        decl = self.config.modules[name]
        attrs = decl.block.body.attributes
        call_address = self.addr(f"module.{name}")
        self.loader.graph.add_node(call_address, "module")
        self.loader.module_calls.append((decl.file, decl.block.line, decl.block.end_line, call_address))
        self.loader.module_calls.extend((o.file, o.line, o.end_line, call_address) for o in decl.overrides)
        source = plain(self.eval_attr(attrs["source"].expr, self.scope, f"module.{name}.source")) if "source" in attrs else None
        directory = self.module_directory(name, source, attrs, decl)
        if isinstance(directory, Unresolved):
            self.loader.unresolved.append(directory)
            self.children[name] = directory
            return directory
        if os.path.isdir(directory) and not within(directory, self.loader.allowed_roots):
            child = Unresolved(call_address, f"module.{name}: source {source!r} is outside the linted tree and its "
                               "repository; ecr-lint does not read it (lint from a common parent directory)",
                               decl.file, decl.block.line)
            self.loader.unresolved.append(child)
            self.children[name] = child
            return child
        if self.depth >= MAX_MODULE_DEPTH or not os.path.isdir(directory):
            reason = (f"module.{name}: source {source!r} is not a directory" if not os.path.isdir(directory)
                      else f"module.{name}: modules nested deeper than {MAX_MODULE_DEPTH} (a module calling itself?)")
            child = Unresolved(call_address, reason, decl.file, decl.block.line)
            self.loader.errors.append(InputError(decl.file, decl.block.line, reason))
            self.children[name] = child
            return child
        config = self.loader.config(directory)
        for err in config.errors:
            if err not in self.loader.errors:
                self.loader.errors.append(err)
        rel_dir = os.path.relpath(directory, self.loader.root_dir)
        providers = self.child_providers(attrs.get("providers"))
        self.children[name] = Unresolved(call_address, f"module.{name} refers to itself (a cycle)", decl.file, decl.block.line)

        def make(prefix: str, names: dict) -> ModuleInstance:
            child_instance = ModuleInstance(self.loader, config, prefix, rel_dir, self, providers, self.depth + 1)
            child_instance.key_path = f"{self.key_path}.{name}" if self.key_path else name
            child_instance.call = (decl, names)
            scope = self.scope.child(**names) if names else self.scope
            inputs = {}
            for arg, attr in attrs.items():
                if arg in ("source", "version", "providers", "count", "for_each", "depends_on"):
                    continue
                with self.loader.evaluating(f"{prefix}.var.{arg}"):
                    inputs[arg] = self.eval_attr(attr.expr, scope, f"module.{name}.{arg}", _at(decl, attr))
            child_instance.inputs = inputs
            return child_instance

        result: Any
        block_name = f"module.{name}"
        if "for_each" in attrs:
            each = plain(self.eval_attr(attrs["for_each"].expr, self.scope, f"module.{name}.for_each",
                                        _at(decl, attrs["for_each"])))
            items = ("for_each is derived from a sensitive value"
                     if self.sensitive_keys(each, *_at(decl, attrs["for_each"]), f"{call_address}: for_each")
                     else self.for_each_items(decl, each))
            if isinstance(items, str):
                result = Unresolved(call_address, f"module.{name}: {items}", decl.file, decl.block.line)
                self.loader.unresolved.append(result)
            else:
                if not self.admit(decl, call_address, len(items), f"for_each over {len(items)} elements", block_name):
                    items = []
                result = {k: make(f"{call_address}[{json.dumps(k)}]", {"each": {"key": k, "value": v}}) for k, v in items}
        elif "count" in attrs:
            count = self.eval_attr(attrs["count"].expr, self.scope, f"module.{name}.count",
                                   _at(decl, attrs["count"]))
            self.sensitive_keys(count, *_at(decl, attrs["count"]), f"{call_address}: count")
            count = _count_of(plain(count))
            if isinstance(count, Unknown):
                result = Unresolved(call_address, f"module.{name}: count is unknown: {count.reason}", decl.file, decl.block.line)
                self.loader.unresolved.append(result)
            else:
                n = self.admit(decl, call_address, count, f"count = {count}", block_name)
                result = [make(f"{call_address}[{i}]", {"count": {"index": i}}) for i in range(n)]
        else:
            result = make(call_address, {}) if not self.over_budget(decl, block_name, 1) else []
        self.children[name] = result
        for child_instance in (result.values() if isinstance(result, dict) else result if isinstance(result, list)
                               else [] if isinstance(result, Unresolved) else [result]):
            child_instance.realise()
        return result

    def module_directory(self, name: str, source: Any, attrs: dict, decl: Decl) -> "str | Unresolved":
        """Where a module call's source is: a local path, or where `terraform init` installed it."""
        call_address = self.addr(f"module.{name}")
        local = local_source(source)
        if local is not None:
            return os.path.normpath(os.path.join(os.path.dirname(decl.file), local))
        if not isinstance(source, str):
            return Unresolved(call_address, f"module.{name}: source is {source!r}, not a string", decl.file,
                              decl.block.line)
        version = plain(self.eval_attr(attrs["version"].expr, self.scope, f"module.{name}.version")) \
            if "version" in attrs else None
        key = f"{self.key_path}.{name}" if self.key_path else name
        found = self.loader.manifest().resolve(key, source, version if isinstance(version, str) else None)
        if found.directory is None:
            return Unresolved(call_address, f"module.{name}: {found.reason}", decl.file, decl.block.line)
        return found.directory

    def child_providers(self, attr: ast.Attribute | None) -> dict[str, ProviderInfo]:
        providers = dict(self.providers)
        if attr is not None and isinstance(attr.expr, ast.ObjectExpr):
            for key_node, value_node in attr.expr.items:
                key = _traversal_text(key_node) or (key_node.value if isinstance(key_node, ast.Lit) else None)
                value = _traversal_text(value_node)
                if key and value and value in self.providers:
                    providers[key] = self.providers[value]
        return providers

    # --- results -------------------------------------------------------------------
    def _instances_of(self, key: tuple) -> list[Instance]:
        expanded = self.instances.get(key)
        if isinstance(expanded, list):
            return expanded
        if isinstance(expanded, dict):
            return list(expanded.values())
        return [expanded] if expanded is not None else []

    def all_instances(self) -> list[Instance]:
        out: list[Instance] = []
        for decl in self.config.resources:
            mode = "data" if decl.block.type == "data" else "managed"
            out.extend(self._instances_of((mode,) + decl.block.labels))
        for child in self.children.values():
            items = child.values() if isinstance(child, dict) else child if isinstance(child, list) else [child]
            for item in items:
                if isinstance(item, ModuleInstance):
                    out.extend(item.all_instances())
        return out

    def all_modules(self) -> list["ModuleInstance"]:
        out = [self]
        for child in self.children.values():
            items = child.values() if isinstance(child, dict) else child if isinstance(child, list) else [child]
            for item in items:
                if isinstance(item, ModuleInstance):
                    out.extend(item.all_modules())
        return out

    def to_resource(self, inst: Instance) -> Resource:
        block = inst.decl.block
        attributes = dict(self.instance_value(inst))
        # Rules and reporters walk attributes as trees: one built from shared references
        # (local.l40 = [local.l39, local.l39]) is exponential, so it stops here. Only resources
        # larger than real ones are charged, so that a budget spent elsewhere does not make every
        # resource evaluated before that unknown.
        try:
            walk = Walk()
            walk.visit_tree(attributes)
            if walk.visited() > FREE_ATTRIBUTE_NODES:
                walk.done(self.loader.budget)
        except BudgetExceeded:
            self.bound_attributes(inst, attributes)
        return Resource(
            address=inst.address, type=block.labels[0], name=block.labels[1],
            mode="data" if block.type == "data" else "managed", module=self.prefix,
            attributes=attributes, span=SourceSpan(inst.decl.file, block.line, block.end_line),
            attribute_lines=inst.attribute_lines, provider=self.provider_of(block).address,
            stack=self.loader.root_dir, attribute_files=inst.attribute_files, overrides=inst.decl.overrides,
        )

    def bound_attributes(self, inst: Instance, attributes: dict) -> None:
        """Each attribute too large to walk (or over what is left of the budget) becomes unknown."""
        for name, value in attributes.items():
            try:
                walk = Walk()
                walk.visit_tree(value)
                walk.done(self.loader.budget)
            except BudgetExceeded as exc:
                line = inst.attribute_lines.get(name, inst.decl.block.line)
                self.loader.budget_exceeded(str(exc), inst.decl.file, line)
                attributes[name] = Unknown(f"{inst.address}.{name}: {exc}")

    @property
    def files(self) -> TreeFiles:
        return self.loader.files


def _shadowed(config: ModuleConfig) -> list[InputError]:
    """`x.tf` beside `x.tofu`: ecr-lint reads what OpenTofu reads, but Terraform reads `x.tf` (and no
    `.tofu` file at all), so what x.tf declares is not checked. An input error, not a warning: a
    pull request adding a compliant `x.tofu` beside a non-compliant `x.tf` must not pass the gate."""
    out = []
    for path, by in config.shadowed:
        name, tofu = os.path.basename(path), os.path.basename(by)
        out.append(InputError(path, 0, f"{name} is not checked: OpenTofu reads {tofu} in its place, but Terraform "
                                       f"reads {name} and ignores every .tofu file; keep one of the two (or lint the "
                                       "plan of the tool you apply with)"))
    # Any other .tofu file beside .tf files: ecr-lint reads it as OpenTofu does, Terraform never
    # does, so the folder means one thing to each tool (an IMMUTABLE override.tofu, a lifecycle
    # policy only in a .tofu file): which one applies it is unknown here, so it fails closed.
    replacing = {by for _, by in config.shadowed}   # said above, with the .tf file each replaces
    if any(not f.endswith((".tofu", ".tofu.json")) for f in config.files):
        for path in config.files:
            if path.endswith((".tofu", ".tofu.json")) and path not in replacing:
                out.append(InputError(path, 0, f"{os.path.basename(path)} is read by OpenTofu only: Terraform ignores "
                                               "every .tofu file, and this folder also holds .tf files, so it "
                                               "configures one thing for Terraform and another for OpenTofu; keep "
                                               "one kind of file (or lint the plan of the tool you apply with)"))
    return out


def _default_tags(decl: Decl) -> list[tuple[ast.Node, tuple[str, int]]]:
    """The `tags` expressions of a provider's default_tags, and where each is written: nested blocks
    in HCL; in .tf.json an argument holding an object (or a list of them)."""
    body = decl.block.body
    found = [(b.body.attributes["tags"].expr, _at(decl, b.body.attributes["tags"])) for b in body.blocks
             if b.type == "default_tags" and "tags" in b.body.attributes]
    attr = body.attributes.get("default_tags")
    if attr is not None:
        for obj in attr.expr.items if isinstance(attr.expr, ast.TupleExpr) else (attr.expr,):
            if isinstance(obj, ast.ObjectExpr):
                found += [(value, _at(decl, attr)) for key, value in obj.items
                          if isinstance(key, ast.Lit) and key.value == "tags"]
    return found


def _at(decl: Decl, attr: ast.Attribute) -> tuple[str, int]:
    """Where an argument of a declaration is written (an override file, where one merged it in)."""
    return attr.file or decl.file, attr.line


def _block_name(block: ast.Block) -> str:
    return ("data." if block.type == "data" else "") + ".".join(block.labels)


def _count_of(count: Any) -> int | Unknown:
    """The number a count argument asks for (an Unknown when it is not a number)."""
    if isinstance(count, Unknown):
        return count
    if isinstance(count, (list, dict)):
        return 0
    try:
        return int(to_number(count))
    except EvalError as exc:
        return Unknown(f"count: {exc}")


def _traversal_text(node: ast.Node) -> str | None:
    parts = []
    while isinstance(node, ast.GetAttr):
        parts.append(node.name)
        node = node.obj
    if isinstance(node, ast.Name):
        return ".".join([node.name] + list(reversed(parts)))
    if isinstance(node, ast.Lit) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Template) and len(node.parts) == 1 and isinstance(node.parts[0], ast.Node):
        return _traversal_text(node.parts[0])
    return None
