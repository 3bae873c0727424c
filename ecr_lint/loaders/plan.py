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
import sys
from typing import IO, Any

from ecr_lint.graph import ResourceGraph
from ecr_lint.loaders.jsonstream import Cursor, NotUtf8, StreamError
from ecr_lint.model import InputError, Ref, Resource, SourceSpan, Unknown
from ecr_lint.sensitive import holds_marks, is_marked, mark
from ecr_lint.stack import Stack, Unresolved, taggable_types

MAX_PLAN_BYTES = 512 * 1024 * 1024
SUPPORTED_MAJOR = {"0", "1"}
_intern = sys.intern
# Every `actions` Terraform writes (internal/command/jsonplan: Change.Actions); anything else is an error.
_ACTIONS = {("no-op",), ("create",), ("read",), ("update",), ("delete", "create"), ("create", "delete"),
            ("delete",), ("forget",), ("create", "forget")}
_GONE = {("delete",), ("forget",)}  # no object after apply: `after` is null


_ABSENT = object()  # "the HCL source has no such argument", as distinct from a known null


class PlanError(Exception):
    def __init__(self, message: str, line: int = 0):
        super().__init__(message)
        self.message = message
        self.line = line


def read_plan(path: str) -> "PlanDocument":
    from ecr_lint.loaders.files import Refused, Roots, open_stream

    try:
        # Through the reading gate: a regular file (never a device or FIFO), read at most
        # MAX_PLAN_BYTES. The plan is named on the command line, so it is a root itself.
        with open_stream(path, Roots((), [path]), MAX_PLAN_BYTES) as handle:
            return PlanDocument(handle)
    except Refused as exc:
        raise PlanError(str(exc).replace("file is", "plan is", 1)) from None
    except OSError as exc:
        raise PlanError(f"cannot read: {exc.strerror}") from None
    except NotUtf8 as exc:
        raise PlanError(str(exc)) from None
    except RecursionError:
        raise PlanError("JSON nested too deeply") from None
    except StreamError as exc:
        raise PlanError("truncated JSON" if exc.at_end else f"not valid JSON: {exc.message}", exc.line) from None


def load_plan(path: str, source_root: str | None = None, changed_only: bool = False) -> Stack:
    try:
        return _PlanLoader(path, read_plan(path), source_root, changed_only).load()
    except PlanError:
        raise
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        raise PlanError(f"plan has an unexpected shape: {type(exc).__name__}: {exc}") from None


def _kind_error(keys: set[str]) -> str | None:
    """Why a JSON document with these top-level keys is not a plan, or None."""
    if "format_version" in keys and keys & {"planned_values", "resource_changes", "configuration"}:
        return None
    if "values" in keys and "format_version" in keys:
        return "this is `terraform show -json` of a state, not of a plan (run it on a saved plan file)"
    return ("not a Terraform plan: expected `terraform show -json PLANFILE` (or `tofu show -json`) output "
            "(an object with format_version and planned_values or resource_changes)")


class PlanDocument:
    """What the loader needs of a plan file, read in one pass without its whole text or tree.

    A 10,000-resource plan is 25 MB of JSON but about 100 MB as one `json.loads` tree. Here the
    file is read through a sliding window: each `resource_changes` entry is decoded alone and
    merged into the model at once; entries of `planned_values` and `prior_state` (which come
    before and after it) are only located, and read again from the file at the end if no change
    covers them. Where a key repeats, the last one counts, as with `json.loads`.
    """

    _KEPT = ("format_version", "variables", "configuration", "errored")  # small, or needed whole

    def __init__(self, handle: IO[bytes]):
        self._stamp = _stamp(handle)
        self.top: dict[str, Any] = {}
        self.keys: set[str] = set()
        self.lines: dict[str, int] = {}               # address -> line of its first "address" key
        self._changes: list[tuple[dict, dict]] = []   # (resource header, merged values), file order
        self.changed: set[str] = set()                # addresses created or updated
        self.seen: set[str] = set()                   # addresses in resource_changes, any action
        self._change_problems: list[tuple[str, int]] = []  # (problem, line in the plan)
        self.deferred: list[tuple[str, str, int]] = []  # (address, reason, line) of deferred changes
        self._deferred_problems: list[tuple[str, int]] = []
        self.addresses: dict[str, set] = {}           # section -> every address it names
        self._located: dict[str, list] = {}           # section -> [(problem, address, mode, bytes)]
        self._merge = _Merger()
        cursor = Cursor(handle)
        if cursor.peek() != "{":
            cursor.skip()  # an array or a scalar: valid JSON is checked first, then it is not a plan
        else:
            for key in cursor.members():
                self.keys.add(key)
                self._member(cursor, key)
        cursor.finish()
        problem = _kind_error(self.keys)
        if problem:
            raise PlanError(problem)
        version = str(self.top.get("format_version"))
        if version.split(".")[0] not in SUPPORTED_MAJOR:
            raise PlanError(f"unsupported plan format_version {version!r} (ecr-lint reads 0.x and 1.x)")
        self.problems: list[tuple[str, int]] = self._change_problems + self._deferred_problems
        if self.top.get("errored") is True:
            self.problems.append(("the plan is marked errored: Terraform stopped planning partway, "
                                  "so resources may be missing from it", 0))
        self.resources = self._resources(handle)  # [(header, merged values)] of what exists after apply

    def _member(self, cursor: Cursor, key: str) -> None:
        if key == "resource_changes":
            self._changes, self.changed, self.seen, self._change_problems = [], set(), set(), []
            self.addresses[key] = set()
            if cursor.peek() != "[":
                cursor.skip()
                return
            for index in cursor.elements():
                start = cursor.start
                rc = cursor.value()
                problem = self._change(rc)
                if problem:  # (positions are located in increasing order: the entry's start first)
                    self._change_problems.append((f"resource_changes[{index}] {problem}", cursor.locate(start)[1]))
                self._line(cursor, rc, start)
        elif key == "deferred_changes":
            self.deferred, self._deferred_problems = [], []
            if cursor.peek() != "[":
                cursor.skip()
                return
            for index in cursor.elements():
                start = cursor.start
                self._deferred(cursor.value(), index, cursor.locate(start)[1])
        elif key in ("planned_values", "prior_state"):
            path = ("root_module",) if key == "planned_values" else ("values", "root_module")
            self._located[key] = self._module_entries(cursor, key, path)
            self.addresses[key] = {entry[1] for entry in self._located[key] if isinstance(entry[1], str)}
        elif key in self._KEPT:
            self.top[key] = cursor.value()
        else:
            cursor.skip()

    def _line(self, cursor: Cursor, entry: Any, start: int) -> None:
        """Remember the line of the entry's "address" key (for findings when there is no source)."""
        if isinstance(entry, dict) and isinstance(entry.get("address"), str) and entry["address"] not in self.lines:
            found = cursor.find('"address"', start, cursor.end)
            if found >= 0:
                self.lines[entry["address"]] = cursor.locate(found)[1]

    def _change(self, rc: Any) -> str | None:
        """Merge one resource_changes entry into the model; what is wrong with it, or None."""
        if isinstance(rc, dict) and isinstance(rc.get("address"), str):
            self.addresses["resource_changes"].add(rc["address"])
        problem = _malformed(rc)
        if problem:
            return f"{problem}: skipped"
        address = rc["address"]
        change = _obj(rc.get("change"))
        actions = tuple(change.get("actions") or ())
        after = change.get("after")
        if rc.get("mode") == "ephemeral":
            # OpenTofu lists ephemeral resources, opened during the run and never stored: no object of
            # theirs exists after apply, so there is nothing to check (it writes them with no values).
            if actions != ("open",) or after is not None:
                return f"({address}) is an ephemeral resource with a change OpenTofu never writes: skipped"
            self.seen.add(address)
            return None
        if actions not in _ACTIONS:
            return (f"({address}) has {'actions ' + json.dumps(list(actions)) if actions else 'no actions'}, "
                    "which Terraform never writes: skipped")
        if actions in _GONE:
            self.seen.add(address)
            if after is not None:
                gone = "deleted" if actions[0] == "delete" else "forgotten"
                return f"({address}) is to be {gone} but has an after value, which Terraform never writes"
            return None  # deleted or forgotten: nothing of it exists after apply
        if after is None and change.get("after_unknown") is not True:
            return f"({address}) has actions {json.dumps(list(actions))} but no after value: skipped"
        if after is not None and not isinstance(after, dict):
            return f"({address}) has an after value that is not an object: skipped"
        self.seen.add(address)
        if {"create", "update"} & set(actions):
            self.changed.add(address)
        merged = self._merge(after or {}, change.get("after_unknown"), change.get("after_sensitive"), address, "")
        if not isinstance(merged, dict):  # after_unknown: true for the whole object
            return f"({address}) is known only after apply as a whole: skipped"
        self._changes.append((_header(rc), merged))
        return None

    def _deferred(self, entry: Any, index: int, line: int) -> None:
        """A change Terraform deferred (1.8+): not in resource_changes, so it is reported, never dropped."""
        rc = _obj(entry).get("resource_change")
        problem = _malformed(rc)
        if problem is None and not isinstance(_obj(entry).get("reason", ""), str):
            problem = "has a reason that is not a string"
        if problem:
            self._deferred_problems.append((f"deferred_changes[{index}] {problem}: not checked", line))
            return
        if tuple(_obj(rc.get("change")).get("actions") or ()) in _GONE:
            return  # a deferred delete: nothing of it will exist to check
        self.deferred.append((rc["address"], _obj(entry).get("reason") or "unknown", line))

    def _module_entries(self, cursor: Cursor, section: str, path: tuple[str, ...]) -> list[tuple]:
        """The resource entries of the module object at the cursor (after descending `path`)
        and of its child modules, in the order Terraform's modules nest."""
        if cursor.peek() != "{":
            cursor.skip()
            return []
        found: list = []
        resources: list = []
        children: list = []
        for key in cursor.members():
            if path:
                if key == path[0]:
                    found = self._module_entries(cursor, section, path[1:])
                else:
                    cursor.skip()
            elif key == "resources" and cursor.peek() == "[":
                resources = [self._entry(cursor, section, index) for index in cursor.elements()]
            elif key == "child_modules" and cursor.peek() == "[":
                children = [self._module_entries(cursor, section, ()) for _ in cursor.elements()]
            else:
                cursor.skip()
                resources = [] if key == "resources" else resources
                children = [] if key == "child_modules" else children
        if path:
            return found
        return resources + [entry for child in children for entry in child]

    def _entry(self, cursor: Cursor, section: str, index: int) -> tuple:
        """(problem, address, mode, (first byte, end byte)) of one resource entry."""
        start = cursor.start
        first_byte, first_line = cursor.locate(start)
        res = cursor.value()
        end = cursor.end
        self._line(cursor, res, start)
        span = (first_byte, cursor.locate(end)[0])
        problem = _malformed(res)
        address = res.get("address") if isinstance(res, dict) else None
        if problem:
            return (f"{section} resources[{index}] {problem}: skipped", first_line), address, None, span
        return None, address, res.get("mode"), span

    def _resources(self, handle: IO[bytes]) -> list[tuple[dict, dict]]:
        """Changes first; then planned values no change covers; then data sources read before."""
        chosen: dict[str, tuple[dict, dict]] = {}
        for header, merged in self._changes:
            chosen[header["address"]] = (header, merged)
        self._changes = []
        seen = set(self.seen)
        if _stamp(handle) != self._stamp:  # entries are read again below: they must still be there
            raise PlanError("the plan file changed while it was being read")
        for section, mode in (("planned_values", None), ("prior_state", "data")):
            for problem, address, entry_mode, (first, end) in self._located.get(section, []):
                if problem:
                    self.problems.append(problem)
                elif address not in seen and entry_mode != "ephemeral" and (mode is None or entry_mode == mode):
                    seen.add(address)
                    handle.seek(first)
                    res = json.loads(handle.read(end - first).decode("utf-8"))
                    values = res.get("values") or {}
                    chosen[address] = (_header(res), self._merge(values if isinstance(values, dict) else {}, None,
                                                                 res.get("sensitive_values"), address, ""))
        self.sensitive = self._merge.sensitive
        self._located, self._merge = {}, None
        return list(chosen.values())


def _stamp(handle: IO[bytes]) -> tuple:
    stat = os.fstat(handle.fileno())
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


def _header(entry: dict) -> dict:
    return {k: entry[k] for k in ("address", "mode", "type", "name", "module_address", "provider_name") if k in entry}


def _malformed(entry: Any) -> str | None:
    """What is wrong with a resource entry Terraform would not write, or None."""
    problem = None
    if not isinstance(entry, dict):
        problem = "is not an object"
    elif not isinstance(entry.get("address"), str) or not entry["address"]:
        problem = "has no address"
    else:
        for key in ("type", "name", "module_address", "provider_name"):
            if key in entry and not isinstance(entry[key], str):
                problem = f"({entry['address']}) has a {key} that is not a string"
        if entry.get("mode", "managed") not in ("managed", "data", "ephemeral"):  # ephemeral: OpenTofu
            problem = f"({entry['address']}) has mode {entry.get('mode')!r}"
        change = entry.get("change", {})
        if not isinstance(change, dict) or not isinstance(change.get("actions", []), list) \
                or not all(isinstance(a, str) for a in change.get("actions", [])):
            problem = f"({entry['address']}) has a change that is not a Terraform change"
    return problem


class _AfterApply(Unknown):
    """A value the plan says is known only after apply. A large plan has tens of thousands:
    the reason and the placeholder are written when asked for, not stored with each.
    `sensitive`: the plan marks it sensitive, so whatever fills it in is marked too."""

    sensitive = False

    def __init__(self, address: str, path: str, sensitive: bool = False):
        object.__setattr__(self, "at", (address, path))
        if sensitive:
            object.__setattr__(self, "sensitive", True)

    reason = property(lambda self: "%s.%s is known only after apply" % self.at)
    refs = property(lambda self: (self.at[0],))
    partial = property(lambda self: "${%s.%s}" % self.at)


class _Merger:
    """`after`, `after_unknown` and `after_sensitive` of one entry -> one value: known values,
    Unknown where `after_unknown` says so, Sensitive marks.

    Entries are decoded one at a time, so the decoder's own sharing of equal keys stops at each
    entry; keys are interned here instead. Equal string values are shared too: a plan repeats
    tags, policies written by one module and the ARNs of shared keys across many resources.
    """

    def __init__(self):
        self.strings: dict[str, str] = {}
        self.sensitive = False  # some value was marked

    def __call__(self, value: Any, unknown: Any, sensitive: Any, address: str, path: str) -> Any:
        if (unknown is None or unknown is False) and (sensitive is None or sensitive is False):
            return self.known(value)  # most of a plan: nothing unknown or sensitive below here
        if sensitive is True:
            self.sensitive = True
        if unknown is True:
            return _AfterApply(address, path, sensitive is True)
        if sensitive is True and not isinstance(value, (dict, list)) and not isinstance(unknown, (dict, list)):
            return mark(self.known(value))
        if isinstance(value, dict) or isinstance(unknown, dict):
            value = value if isinstance(value, dict) else {}
            unknown = unknown if isinstance(unknown, dict) else {}
            sens = sensitive if isinstance(sensitive, dict) else {}
            keys = list(value) + [k for k in unknown if k not in value]
            key_of = mark if sensitive is True else _intern  # a wholly sensitive map: its keys too
            return {key_of(k): self(value.get(k), unknown.get(k), True if sensitive is True else sens.get(k),
                                    address, f"{path}.{k}" if path else k) for k in keys}
        if isinstance(value, list) or isinstance(unknown, list):
            value = value if isinstance(value, list) else []
            unknown = unknown if isinstance(unknown, list) else []
            sens = sensitive if isinstance(sensitive, list) else []
            n = max(len(value), len(unknown))
            return [self(value[i] if i < len(value) else None, unknown[i] if i < len(unknown) else None,
                         True if sensitive is True else (sens[i] if i < len(sens) else None),
                         address, f"{path}[{i}]") for i in range(n)]
        return self.known(value)

    def known(self, value: Any) -> Any:
        """A decoded JSON value with its keys interned and its strings shared."""
        kind = type(value)
        if kind is str:
            return self.strings.setdefault(value, value)
        if kind is dict:
            return {_intern(k): self.known(v) for k, v in value.items()}
        if kind is list:
            return [self.known(v) for v in value]
        return value


def _resource_base(address: str) -> str:
    return re.sub(r"\[[^\]]*\]$", "", address)


class _PlanLoader:
    def __init__(self, path: str, document: PlanDocument, source_root: str | None, changed_only: bool):
        self.path = path
        self.root = os.path.abspath(path)  # the stack's name, and the file of findings without source
        self.document = document
        self.top = document.top
        self.changed_only = changed_only
        self.errors: list[InputError] = []
        self.source_root = source_root if source_root is not None else self._default_source_root()
        self.hcl = self._load_hcl() if self.source_root else None
        self.config_index: dict[str, dict] = {}       # "module.a.aws_x.y" (no instance) -> config resource
        self.module_calls: dict[str, dict] = {}       # "module.a" -> module call config (with expressions)
        self._index_configuration(_obj(self.top.get("configuration")).get("root_module"), "")
        self.graph = ResourceGraph()

    # --- where the source is
    def _default_source_root(self) -> str | None:
        from ecr_lint.loaders.module import module_files

        directory = os.path.dirname(self.root)
        return directory if module_files(directory) else None

    def _load_hcl(self) -> Stack | None:
        from ecr_lint.loaders.evaluation import StackLoader

        variables = self._variables()
        try:
            from ecr_lint.loaders.module import reading_roots

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
        self.errors.extend(InputError(self.path, line, problem) for problem, line in self.document.problems)
        entries, self.document.resources = self.document.resources, []
        entries.reverse()
        resources: dict[str, Resource] = {}
        while entries:  # each merged tree is dropped as soon as its resource is built
            header, merged = entries.pop()
            resources[header["address"]] = self._resource(header, merged)
        changed = self.document.changed
        chosen = [r for a, r in resources.items() if not self.changed_only or a in changed]
        for res in resources.values():
            self.graph.add_node(res.address, "resource" if res.mode == "managed" else "data", resource=res)
        for res in resources.values():
            self._edges(res.address, res.attributes, "")
        module_variables = {"": self._variables()}
        for address, call in self.module_calls.items():
            declared = _obj(_obj(call.get("module")).get("variables"))
            module_variables[address] = {k: _marked_if(e["constant_value"], _obj(declared.get(k)).get("sensitive"))
                                         for k, e in _obj(call.get("expressions")).items()
                                         if isinstance(e, dict) and "constant_value" in e}
        sensitive = self.document.sensitive or bool(self.hcl and self.hcl.sensitive) \
            or any(holds_marks(v) for v in module_variables.values())
        # Suppression comments and module-call blocks of the source, so that inline suppressions
        # apply to the plan's resources as to the same stack read from HCL.
        source = self.hcl
        return Stack(self.root, chosen, self.graph, self.errors, self._deferred(), module_variables[""],
                     source="plan", module_variables=module_variables, sensitive=sensitive,
                     module_calls=list(source.module_calls) if source else [],
                     annotations=list(source.annotations) if source else [],
                     workspace=source.workspace if source else "default",
                     tracer=source.tracer if source else None)  # origins, from the source, as for HCL

    def _deferred(self) -> list[Unresolved]:
        """Deferred changes as unknowns (ECR000): Terraform has not planned them, so nothing checks them."""
        out = []
        for address, reason, line in self.document.deferred:
            source = self.hcl.graph.resource(address) or self.hcl.graph.resource(_resource_base(address)) \
                if self.hcl else None
            file, line = (source.span.file, source.span.line) if source is not None else (self.root, line)
            out.append(Unresolved(address, f"Terraform deferred this change ({reason}): it is not in the plan's "
                                           "resource changes, so no rule checked it", file, line))
        return out

    def _variables(self) -> dict:
        """The plan's variable values, marked where the configuration declares them sensitive."""
        declared = _obj(_obj(_obj(self.top.get("configuration")).get("root_module")).get("variables"))
        return {k: _marked_if(v.get("value"), _obj(declared.get(k)).get("sensitive"))
                for k, v in _obj(self.top.get("variables")).items() if isinstance(v, dict)}

    def _resource(self, header: dict, values: dict) -> Resource:
        address = header["address"]
        mode = header.get("mode", "managed")
        type_ = header.get("type") or ""
        module = header.get("module_address") or _module_of(address)
        hcl_resource = self.hcl.graph.resource(address) if self.hcl else None
        config = self.config_index.get(_config_key(address, module))
        expressions = _obj(config.get("expressions")) if config else {}
        values = self._with_references(values, expressions, module, address, hcl_resource)
        if mode == "managed" and type_ in taggable_types() and "tags_all" not in values:
            values["tags_all"] = self._tags_all(values.get("tags"), config, module)
        _mark_tags_all(values)
        if hcl_resource is not None:
            span = hcl_resource.span
            lines, files, overrides = hcl_resource.attribute_lines, hcl_resource.attribute_files, hcl_resource.overrides
        else:
            span = SourceSpan(self.root, self.document.lines.get(address, 0))
            lines, files, overrides = {}, {}, ()
        return Resource(address=address, type=type_, name=header.get("name", ""), mode=mode, module=module,
                        attributes=values, span=span, attribute_lines=lines,
                        provider=header.get("provider_name", ""), stack=self.root, attribute_files=files,
                        overrides=overrides)

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
            filled = self._fill(value, expression, hcl_value, module, ref, nested and configured)
            # What fills a value the plan marks sensitive is sensitive, whatever it was filled from.
            return mark(filled) if getattr(value, "sensitive", False) else filled
        if ref is not None:
            return Ref(ref[0], ref[1], value)
        return value

    def _fill(self, value: Unknown, expression: Any, hcl_value: Any, module: str, ref: tuple | None,
              default_applies: bool) -> Any:
        """What an unknown of the plan is, from the source and the configuration, if they say."""
        if hcl_value is not _ABSENT:
            return hcl_value  # the source, evaluated with the plan's variables, says more
        if isinstance(expression, dict):
            found, constant = self._constant(expression, module)
            if found:
                return constant  # e.g. a module input given as null: the provider default applies
        if ref is not None:
            return Ref(ref[0], ref[1], value)
        if default_applies and expression is None:
            return None  # not set in the configuration: a provider default, not a choice
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
            self._address_cache = set().union(*self.document.addresses.values())
        return self._address_cache

    def _tags_all(self, tags: Any, config: dict | None, module: str) -> Any:
        """Old plans (provider < 3.38) have no tags_all: merge the provider's default_tags."""
        merged: dict = {}
        provider_key = (config or {}).get("provider_config_key", "aws")
        provider = _obj(_obj(_obj(self.top.get("configuration")).get("provider_config")).get(provider_key.split(":")[-1]))
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


def _obj(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _marked_if(value: Any, sensitive: Any) -> Any:
    return mark(value) if sensitive is True else value


def _mark_tags_all(values: dict) -> None:
    """tags_all repeats tags, but the provider does not mark it: a tag that is sensitive in
    `tags` is sensitive in `tags_all` too."""
    tags, tags_all = values.get("tags"), values.get("tags_all")
    if isinstance(tags, dict) and isinstance(tags_all, dict):
        for key, tag in tags.items():
            if key in tags_all and (is_marked(tag) or is_marked(key)):
                tags_all[key] = mark(tags_all[key])


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
