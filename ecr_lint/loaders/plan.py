"""Plan loader: `terraform show -json` output -> the same Stack the HCL loader builds.

Terraform has resolved variables, modules and for_each here, so known values are exact.
What the plan leaves unknown ("known after apply") is filled, in order, from the HCL source
next to the plan (evaluated with the plan's own variable values) and from the plan's
`configuration` references, so `kms_key = aws_kms_key.x.arn` is still known to be a key.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from ecr_lint.graph import ResourceGraph
from ecr_lint.model import InputError, Ref, Resource, SourceSpan, Unknown
from ecr_lint.stack import Stack, taggable_types

MAX_PLAN_BYTES = 512 * 1024 * 1024
SUPPORTED_MAJOR = {"0", "1"}
_SKIP_ACTIONS = ({"delete"}, {"forget"})


_ABSENT = object()  # "the HCL source has no such argument", as distinct from a known null


class PlanError(Exception):
    def __init__(self, message: str, line: int = 0):
        super().__init__(message)
        self.message = message
        self.line = line


class Sensitive(str):
    """A value the plan marks sensitive: usable by checks, never shown in any output."""

    def __repr__(self) -> str:
        return "'(sensitive)'"

    def __str__(self) -> str:
        return "(sensitive)"

    def __format__(self, spec: str) -> str:
        return "(sensitive)"


def is_plan(data: Any) -> bool:
    return isinstance(data, dict) and "format_version" in data and any(
        k in data for k in ("planned_values", "resource_changes", "configuration"))


def read_plan(path: str) -> tuple[dict, str]:
    try:
        size = os.path.getsize(path)
        if size > MAX_PLAN_BYTES:
            raise PlanError(f"plan is {size} bytes, larger than the {MAX_PLAN_BYTES}-byte limit")
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()  # one copy of the plan in memory, dropped once it is indexed
    except OSError as exc:
        raise PlanError(f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise PlanError(f"not UTF-8 text (byte {exc.start})") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise PlanError("JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        what = "truncated JSON" if exc.pos >= len(text.rstrip()) else f"not valid JSON: {exc.msg}"
        raise PlanError(what, exc.lineno) from None
    if not is_plan(data):
        if isinstance(data, dict) and "values" in data and "format_version" in data:
            raise PlanError("this is `terraform show -json` of a state, not of a plan (run it on a saved plan file)")
        raise PlanError("not a Terraform plan: expected `terraform show -json PLANFILE` output "
                        "(an object with format_version and planned_values or resource_changes)")
    version = str(data.get("format_version"))
    if version.split(".")[0] not in SUPPORTED_MAJOR:
        raise PlanError(f"unsupported plan format_version {version!r} (ecr-lint reads 0.x and 1.x)")
    return data, text


def load_plan(path: str, source_root: str | None = None, changed_only: bool = False) -> Stack:
    data, text = read_plan(path)
    try:
        loader = _PlanLoader(path, data, text, source_root, changed_only)
        del text, data  # the loader keeps only what it needs: memory is a small multiple of the file
        return loader.load()
    except PlanError:
        raise
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        raise PlanError(f"plan has an unexpected shape: {type(exc).__name__}: {exc}") from None


def _resource_base(address: str) -> str:
    return re.sub(r"\[[^\]]*\]$", "", address)


class _PlanLoader:
    def __init__(self, path: str, data: dict, text: str, source_root: str | None, changed_only: bool):
        self.path = path
        self.data = data
        self._lines = _address_lines(text)  # the only use of the raw text: it is not kept
        self.changed_only = changed_only
        self.errors: list[InputError] = []
        self.source_root = source_root if source_root is not None else self._default_source_root()
        self.hcl = self._load_hcl() if self.source_root else None
        self.config_index: dict[str, dict] = {}       # "module.a.aws_x.y" (no instance) -> config resource
        self.module_calls: dict[str, dict] = {}       # "module.a" -> module call config (with expressions)
        self._index_configuration(_obj(data.get("configuration")).get("root_module"), "")
        self.graph = ResourceGraph()

    # --- where the source is
    def _default_source_root(self) -> str | None:
        directory = os.path.dirname(os.path.abspath(self.path))
        return directory if any(n.endswith(".tf") for n in os.listdir(directory)) else None

    def _load_hcl(self) -> Stack | None:
        from ecr_lint.loaders.hcl import StackLoader

        variables = {k: v.get("value") for k, v in _obj(self.data.get("variables")).items() if isinstance(v, dict)}
        try:
            from ecr_lint.loaders.config import reading_roots

            stack = StackLoader(self.source_root, variables, reading_roots([self.source_root])).load()
        except Exception as exc:  # the plan is authoritative; the source only adds detail
            self.errors.append(InputError(self.source_root, 0, f"cannot evaluate the plan's source: {exc}"))
            return None
        self.errors.extend(stack.errors)
        return stack

    def _index_configuration(self, module: Any, prefix: str) -> None:
        module = _obj(module)
        for res in module.get("resources", []) or []:
            if isinstance(res, dict) and "address" in res:
                self.config_index[f"{prefix}{res['address']}"] = res
        for name, call in _obj(module.get("module_calls")).items():
            if isinstance(call, dict):
                self.module_calls[f"{prefix}module.{name}"] = call
                self._index_configuration(call.get("module"), f"{prefix}module.{name}.")

    # --- resources
    def load(self) -> Stack:
        resources: dict[str, Resource] = {}
        changed: set[str] = set()
        seen: set[str] = set()
        for index, rc in enumerate(_list(self.data.get("resource_changes"))):
            if not self._well_formed(rc, f"resource_changes[{index}]"):
                continue
            change = _obj(rc.get("change"))
            actions = set(change.get("actions") or [])
            seen.add(rc["address"])
            if actions in _SKIP_ACTIONS or not actions:
                continue
            if actions & {"create", "update"}:
                changed.add(rc["address"])
            after = change.get("after")
            if after is None:
                continue
            resources[rc["address"]] = self._resource(rc, after, change.get("after_unknown"),
                                                      change.get("after_sensitive"))
            rc["change"] = {"actions": change.get("actions")}  # the merged copy replaces it: free the original
        for module in _walk_modules(_obj(self.data.get("planned_values")).get("root_module")):
            for index, res in enumerate(_list(module.get("resources"))):
                if not self._well_formed(res, f"planned_values resources[{index}]"):
                    continue
                if res.get("address") not in seen:
                    seen.add(res["address"])
                    resources[res["address"]] = self._resource(res, res.get("values") or {}, None,
                                                               res.get("sensitive_values"))
        prior = _obj(_obj(self.data.get("prior_state")).get("values")).get("root_module")
        for module in _walk_modules(prior):
            for index, res in enumerate(_list(module.get("resources"))):
                if not self._well_formed(res, f"prior_state resources[{index}]"):
                    continue
                if res.get("address") not in seen and res.get("mode") == "data":
                    seen.add(res["address"])
                    resources[res["address"]] = self._resource(res, res.get("values") or {}, None,
                                                               res.get("sensitive_values"))
        chosen = [r for a, r in resources.items() if not self.changed_only or a in changed]
        for res in resources.values():
            self.graph.add_node(res.address, "resource" if res.mode == "managed" else "data", resource=res)
        for res in resources.values():
            self._edges(res.address, res.attributes, "")
        module_variables = {"": {k: v.get("value") for k, v in _obj(self.data.get("variables")).items() if isinstance(v, dict)}}
        for address, call in self.module_calls.items():
            module_variables[address] = {k: e["constant_value"] for k, e in _obj(call.get("expressions")).items()
                                         if isinstance(e, dict) and "constant_value" in e}
        return Stack(os.path.abspath(self.path), chosen, self.graph, self.errors, [], module_variables[""],
                     source="plan", module_variables=module_variables)

    def _well_formed(self, entry: Any, where: str) -> bool:
        """A resource entry with the shape Terraform writes; anything else is an error entry."""
        problem = None
        if not isinstance(entry, dict):
            problem = "is not an object"
        elif not isinstance(entry.get("address"), str) or not entry["address"]:
            problem = "has no address"
        else:
            for key in ("type", "name", "module_address", "provider_name"):
                if key in entry and not isinstance(entry[key], str):
                    problem = f"({entry['address']}) has a {key} that is not a string"
            if entry.get("mode", "managed") not in ("managed", "data"):
                problem = f"({entry['address']}) has mode {entry.get('mode')!r}"
            change = entry.get("change", {})
            if not isinstance(change, dict) or not isinstance(change.get("actions", []), list) \
                    or not all(isinstance(a, str) for a in change.get("actions", [])):
                problem = f"({entry['address']}) has a change that is not a Terraform change"
        if problem:
            self.errors.append(InputError(self.path, 0, f"{where} {problem}: skipped"))
        return problem is None

    def _resource(self, rc: dict, after: Any, after_unknown: Any, sensitive: Any) -> Resource:
        address = rc["address"]
        mode = rc.get("mode", "managed")
        type_ = rc.get("type") or ""
        module = rc.get("module_address") or _module_of(address)
        hcl_resource = self.hcl.graph.resource(address) if self.hcl else None
        config = self.config_index.get(_config_key(address, module))
        values = self._merge(after if isinstance(after, dict) else {}, after_unknown, sensitive, address, "")
        expressions = _obj(config.get("expressions")) if config else {}
        values = self._with_references(values, expressions, module, address, hcl_resource)
        if mode == "managed" and type_ in taggable_types() and "tags_all" not in values:
            values["tags_all"] = self._tags_all(values.get("tags"), config, module)
        if hcl_resource is not None:
            span = hcl_resource.span
            lines = hcl_resource.attribute_lines
        else:
            span = SourceSpan(os.path.abspath(self.path), self._line_of(address))
            lines = {}
        return Resource(address=address, type=type_, name=rc.get("name", ""), mode=mode, module=module,
                        attributes=values, span=span, attribute_lines=lines,
                        provider=rc.get("provider_name", ""), stack=os.path.abspath(self.path))

    def _merge(self, value: Any, unknown: Any, sensitive: Any, address: str, path: str) -> Any:
        """Known values from `after`, Unknown where `after_unknown` says so, Sensitive marks."""
        if unknown is True:
            return Unknown(f"{address}.{path} is known only after apply", (address,), "${%s.%s}" % (address, path))
        if sensitive is True and isinstance(value, str):
            return Sensitive(value)
        if sensitive is True and value is not None and not isinstance(value, (dict, list)):
            return Sensitive(json.dumps(value))
        if isinstance(value, dict) or isinstance(unknown, dict):
            value = value if isinstance(value, dict) else {}
            unknown = unknown if isinstance(unknown, dict) else {}
            sens = sensitive if isinstance(sensitive, dict) else {}
            keys = list(value) + [k for k in unknown if k not in value]
            return {k: self._merge(value.get(k), unknown.get(k), True if sensitive is True else sens.get(k),
                                   address, f"{path}.{k}" if path else k) for k in keys}
        if isinstance(value, list) or isinstance(unknown, list):
            value = value if isinstance(value, list) else []
            unknown = unknown if isinstance(unknown, list) else []
            sens = sensitive if isinstance(sensitive, list) else []
            n = max(len(value), len(unknown))
            return [self._merge(value[i] if i < len(value) else None, unknown[i] if i < len(unknown) else None,
                                True if sensitive is True else (sens[i] if i < len(sens) else None),
                                address, f"{path}[{i}]") for i in range(n)]
        return value

    def _with_references(self, values: dict, expressions: dict, module: str, address: str,
                         hcl_resource: Resource | None) -> dict:
        """Keep references as Refs (edges); fill unknowns from the HCL evaluation when we have it."""
        out = {}
        for key, value in values.items():
            hcl_value = hcl_resource.attributes.get(key, _ABSENT) if hcl_resource is not None else _ABSENT
            if isinstance(value, Unknown) and expressions and key not in expressions and hcl_value is _ABSENT:
                continue  # computed by the provider, not configured: the HCL model has no such argument either
            out[key] = self._refine(value, expressions.get(key), hcl_value, module, address, bool(expressions))
        return out

    def _refine(self, value: Any, expression: Any, hcl_value: Any, module: str, address: str,
                configured: bool, nested: bool = False) -> Any:
        """One value of the plan, made as exact as the configuration and the source allow.

        `configured` says the configuration section describes this object, so an argument
        absent from it inside a nested block was left unset by the author (e.g. kms_key: the
        provider then computes the AWS-managed key, which the plan shows as unknown).
        """
        if isinstance(value, dict) and isinstance(expression, list) and len(expression) == 1 and isinstance(expression[0], dict):
            expression = expression[0]
        if isinstance(value, list) and isinstance(expression, list):
            hcl_list = hcl_value if isinstance(hcl_value, list) else []
            return [self._refine(v, expression[i] if i < len(expression) else None,
                                 hcl_list[i] if i < len(hcl_list) else _ABSENT, module, address, configured, True)
                    for i, v in enumerate(value)]
        if isinstance(value, dict) and isinstance(expression, dict) and "references" not in expression \
                and "constant_value" not in expression:
            hcl_dict = hcl_value if isinstance(hcl_value, dict) else {}
            return {k: self._refine(v, expression.get(k), hcl_dict.get(k, _ABSENT), module, address, configured, True)
                    for k, v in value.items()}
        ref = self._reference(expression, module, address) if isinstance(expression, dict) else None
        if isinstance(value, Unknown):
            if hcl_value is not _ABSENT:
                return hcl_value  # the source, evaluated with the plan's variables, says more
            if isinstance(expression, dict):
                found, constant = self._constant(expression, module)
                if found:
                    return constant  # e.g. a module input given as null: the provider default applies
            if ref is not None:
                return Ref(ref[0], ref[1], value)
            if nested and configured and expression is None:
                return None  # not set in the configuration: a provider default, not a choice
            return value
        if ref is not None:
            return Ref(ref[0], ref[1], value)
        return value

    def _constant(self, expression: dict, module: str, depth: int = 0) -> tuple[bool, Any]:
        """A constant the expression comes down to, following var. through module calls."""
        if "constant_value" in expression:
            return True, expression["constant_value"]
        refs = [r for r in expression.get("references") or [] if isinstance(r, str)]
        if len(refs) == 1 and refs[0].startswith("var.") and module and depth < 16:
            call = self.module_calls.get(_config_key(module, ""))
            inner = _obj(_obj(call).get("expressions")).get(refs[0].split(".")[1]) if call else None
            if inner is None and call is not None:
                return True, None  # the caller does not set it: the module's default (null here)
            if isinstance(inner, dict):
                return self._constant(inner, _parent_module(module), depth + 1)
        return False, None

    def _reference(self, expression: dict, module: str, address: str, depth: int = 0) -> tuple[str, tuple] | None:
        """The resource an expression reads, from the plan's configuration references."""
        refs = expression.get("references") or []
        for text in refs:
            if not isinstance(text, str):
                continue
            if text.startswith("var.") and module and depth < 16:
                call = self.module_calls.get(_config_key(module, ""))
                name = text.split(".")[1]
                inner = _obj(_obj(call).get("expressions")).get(name) if call else None
                if isinstance(inner, dict):
                    found = self._reference(inner, _parent_module(module), address, depth + 1)
                    if found:
                        return found
                continue
            if text.startswith("each.value") and depth == 0:
                found = self._each_value(text, module, address)
                if found:
                    return found
                continue
            if text.split(".")[0] in ("var", "local", "each", "count", "path", "module", "self", "terraform"):
                continue
            parts = text.split(".")
            if parts[0] == "data":
                if len(parts) < 3:
                    continue
                base, rest = ".".join(parts[:3]), parts[3:]
            else:
                if len(parts) < 2:
                    continue
                base, rest = ".".join(parts[:2]), parts[2:]
            target = f"{module}.{base}" if module else base
            target = self._instance_for(target, address)
            return target, tuple(rest[:1])
        return None

    def _each_value(self, text: str, module: str, address: str) -> tuple[str, tuple] | None:
        """`for_each = aws_x.y` then `each.value.attr`: the instance of aws_x.y with our key."""
        config = self.config_index.get(_config_key(address, module)) or {}
        refs = [r for r in _obj(config.get("for_each_expression")).get("references") or [] if isinstance(r, str)]
        key = re.search(r"(\[[^\]]*\])$", address)
        if len(refs) != 1 or key is None or refs[0].split(".")[0] in ("var", "local", "module", "each"):
            return None
        parts = refs[0].split(".")
        base = ".".join(parts[:3] if parts[0] == "data" else parts[:2])
        target = f"{module}.{base}{key.group(1)}" if module else f"{base}{key.group(1)}"
        rest = text.split(".")[2:]
        return (target, tuple(rest[:1])) if target in self._addresses() else None

    def _instance_for(self, target: str, source: str) -> str:
        """A reference to a for_each/count resource: the instance with the source's key."""
        if self.graph is not None and target in self._addresses():
            return target
        match = re.search(r"(\[[^\]]*\])$", source)
        if match and f"{target}{match.group(1)}" in self._addresses():
            return f"{target}{match.group(1)}"
        candidates = [a for a in self._addresses() if _resource_base(a) == target]
        return candidates[0] if len(candidates) == 1 else target

    def _addresses(self) -> set[str]:
        if not hasattr(self, "_address_cache"):
            found = {rc.get("address") for rc in self.data.get("resource_changes", []) or [] if isinstance(rc, dict)}
            for module in _walk_modules(_obj(self.data.get("planned_values")).get("root_module")):
                found.update(r.get("address") for r in module.get("resources", []) or [] if isinstance(r, dict))
            prior = _obj(_obj(self.data.get("prior_state")).get("values")).get("root_module")
            for module in _walk_modules(prior):
                found.update(r.get("address") for r in module.get("resources", []) or [] if isinstance(r, dict))
            self._address_cache = found
        return self._address_cache

    def _tags_all(self, tags: Any, config: dict | None, module: str) -> Any:
        """Old plans (provider < 3.38) have no tags_all: merge the provider's default_tags."""
        merged: dict = {}
        provider_key = (config or {}).get("provider_config_key", "aws")
        provider = _obj(_obj(_obj(self.data.get("configuration")).get("provider_config")).get(provider_key.split(":")[-1]))
        for block in _obj(provider.get("expressions")).get("default_tags", []) or []:
            tag_expr = _obj(_obj(block).get("tags"))
            if isinstance(tag_expr.get("constant_value"), dict):
                merged.update(tag_expr["constant_value"])
        if isinstance(tags, dict):
            merged.update(tags)
        return merged

    def _edges(self, source: str, value: Any, path: str) -> None:
        if isinstance(value, Ref):
            self.graph.add_edge(source, value.address, path, ".".join(map(str, value.path)))
        elif isinstance(value, dict):
            for k, v in value.items():
                self._edges(source, v, f"{path}.{k}" if path else k)
        elif isinstance(value, list):
            for v in value:
                self._edges(source, v, path)

    def _line_of(self, address: str) -> int:
        return self._lines.get(address, 0)


def _address_lines(text: str) -> dict[str, int]:
    """address -> line of its first `"address": ...` in the plan file, in one pass."""
    lines: dict[str, int] = {}
    line, last = 1, 0
    for match in re.finditer(r'"address":\s*("(?:[^"\\]|\\.)*")', text):
        line += text.count("\n", last, match.start())
        last = match.start()
        try:
            lines.setdefault(json.loads(match.group(1)), line)
        except ValueError:
            continue
    return lines


def _obj(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _walk_modules(module: Any):
    if not isinstance(module, dict):
        return
    yield module
    for child in _list(module.get("child_modules")):
        yield from _walk_modules(child)


def _module_of(address: str) -> str:
    parts = re.findall(r'module\.[^.\[]+(?:\[[^\]]*\])?', address)
    prefix = ""
    for part in parts:
        candidate = f"{prefix}.{part}" if prefix else part
        if address.startswith(candidate + "."):
            prefix = candidate
        else:
            break
    return prefix


def _config_key(address: str, module: str) -> str:
    """Configuration addresses have no instance keys: module.a["x"].aws_b.c[0] -> module.a.aws_b.c."""
    return re.sub(r"\[[^\]]*\]", "", address)


def _parent_module(module: str) -> str:
    parts = re.findall(r'module\.[^.\[]+(?:\[[^\]]*\])?', module)
    return ".".join(parts[:-1])
