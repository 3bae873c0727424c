"""Where a judged value comes from: its attribute's expression walked back to the literal.

Computed on demand, only for findings: the evaluation itself tracks nothing (no per-value
cost on the hot path). The walk follows references through variables (the caller's argument, a
tfvars line, -var, the default), locals and module outputs; it takes the branch of a
conditional that the evaluation takes, and the key or element of objects, lists and merge()
that holds the judged part. It re-evaluates only conditions and merge() arguments, from the
caches of the stack's evaluation, on a budget of its own.
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Any

from ecr_lint.hcl import syntax as ast
from ecr_lint.hcl.evaluate import Budget, EvalError, plain, to_bool, to_string
from ecr_lint.model import Origin, Resource, Unknown, Verdict

TRACE_STEPS = 200_000   # evaluation steps for every trace of one stack: a few findings' conditions
MAX_HOPS = 64           # references followed for one value (a chain of locals, variables, modules)
# Functions whose result is (at the traced path) one of their arguments, unchanged.
PASS_THROUGH = {"tomap", "toset", "tolist", "tostring", "tonumber", "tobool", "jsonencode", "yamlencode",
                "sensitive", "nonsensitive"}
FIRST_OF = {"try", "coalesce"}   # the first argument that is not null / that evaluates


class Tracer:
    """The origins of a stack's judged values; one per stack, alive while its rules run."""

    def __init__(self, loader: Any, root: Any):
        self.loader = loader
        self.root = root
        self.budget = Budget(steps=TRACE_STEPS)
        self._instances: dict | None = None

    def __call__(self, resource: Resource, verdict: Verdict) -> tuple[Origin, ...]:
        """The chain for a verdict's attribute (and path in its value); () when nothing is known."""
        if not verdict.attribute:
            return ()
        if self._instances is None:
            self._instances = {inst.address: inst for inst in self.root.all_instances()}
        inst = self._instances.get(resource.address)
        if inst is None:
            return ()
        evaluator = self.loader.evaluator
        saved, evaluator.budget = evaluator.budget, self.budget  # traces never spend the stack's budget
        try:
            chain = _Walk(self, evaluator).resource(inst, resource, verdict.attribute, tuple(verdict.path))
            if chain and not chain[0].head:
                chain[0] = dataclasses.replace(chain[0], head=chain[0].line)
            return tuple(chain)
        except (EvalError, RecursionError):   # an exhausted trace budget too: no origin, the finding stands
            return ()
        except Exception:  # noqa: BLE001 - an origin is an aid: whatever goes wrong, the finding itself stands
            return ()
        finally:
            evaluator.budget = saved


def _attribute_path(text: str) -> list[str | int]:
    """'inline_policy[0].policy' -> ['inline_policy', 0, 'policy']."""
    out: list[str | int] = []
    for part in text.split("."):
        name, _, rest = part.partition("[")
        out.append(name)
        if rest.rstrip("]").isdigit():
            out.append(int(rest.rstrip("]")))
    return out


_DOCUMENT_KEYS = {"Action": "actions", "NotAction": "not_actions", "Resource": "resources",
                  "NotResource": "not_resources"}


def _document_argument(block: ast.Block, attribute: str, path: tuple) -> tuple[str, tuple]:
    """A place in the JSON an aws_iam_policy_document renders -> the argument of its statement block
    that writes it (statements render in order, lists as written, when no source document comes first)."""
    if block.labels[:1] != ("aws_iam_policy_document",) or attribute not in ("json", "minified_json") \
            or len(path) < 3 or path[0] != "Statement" or not isinstance(path[1], int) \
            or path[2] not in _DOCUMENT_KEYS or any(k in block.body.attributes for k in
                                                     ("source_policy_documents", "source_json")):
        return attribute, path
    if any(b.type == "dynamic" for b in block.body.blocks):
        return attribute, path
    return f"statement[{path[1]}].{_DOCUMENT_KEYS[path[2]]}", path[3:]


def _label(block: ast.Block) -> tuple:
    return (block.type,) + tuple(block.labels)


class _Walk:
    def __init__(self, tracer: Tracer, evaluator: Any):
        self.tracer = tracer
        self.evaluator = evaluator
        self.chain: list[Origin] = []
        self.hops = 0
        # Where each `each` came from: id(the each object) -> (block Decl, module it is evaluated in,
        # address shown): each.value leads to the element of that block's for_each.
        self.eaches: dict[int, tuple] = {}

    # --- the first hop: the resource's own attribute ---------------------------------------------
    def resource(self, inst: Any, resource: Resource, attribute: str, path: tuple) -> list[Origin]:
        block, file = inst.decl.block, inst.decl.file
        where = _label(block)
        if isinstance(inst.names.get("each"), dict):
            self.eaches[id(inst.names["each"])] = (inst.decl, inst.module, inst.address.rsplit("[", 1)[0])
        attribute, path = _document_argument(block, attribute, path)
        body = block.body
        inner = file  # the file of the innermost block reached (an override file may have merged it in)
        names: list = []
        parts = _attribute_path(attribute)
        last = parts.pop()
        while parts:  # nested blocks first: image_scanning_configuration.scan_on_push, inline_policy[1].policy
            name = parts.pop(0)
            index = parts.pop(0) if parts and isinstance(parts[0], int) else 0
            if any(b.type == "dynamic" and b.labels[:1] == (name,) for b in body.blocks):
                return [Origin(file, block.line, f"{inst.address}: dynamic {name} block", "attribute", where,
                               end="computed")]
            found = [b for b in body.blocks if b.type == name]
            if len(found) <= index:
                return [Origin(file, block.line, f"{inst.address} has no {name} block", "attribute", where,
                               tuple(names + [name]), end="absent")]
            body, inner = found[index].body, found[index].file or inner
            names.extend([name, index] if len(found) > 1 else [name])
        attr = body.attributes.get(last) if isinstance(last, str) else None
        if attr is None:
            nested = [b for b in body.blocks if b.type == last]
            if nested:  # the verdict names a block: point at it
                return [Origin(nested[0].file or inner, nested[0].line, f"{inst.address}.{attribute}", "attribute", where,
                               tuple(names + [last]), end="literal")]
            if not names and last == "tags" and path:
                self.hop(Origin(file, block.line, f"{inst.address} sets no tags of its own", "attribute", where,
                                ("tags",)))
                if self.default_tags(inst, path):
                    return self.chain
                self.chain, self.hops = [], 0
            if not names and last in resource.attributes:
                return []   # an attribute the provider derives (a policy document's json): no literal
            return [Origin(file, block.line, f"{inst.address} sets no {last}", "attribute", where, tuple(names + [last]),
                           end="absent")]
        scope = inst.module.scope.child(**inst.names) if inst.names else inst.module.scope
        self.hop(Origin(attr.file or inner, attr.line, f"{inst.address}.{attribute}", "attribute", where, tuple(names + [last])))
        self.expr(inst.module, attr.expr, scope, list(path))
        return self.chain

    def default_tags(self, inst: Any, path: tuple) -> list[Origin]:
        """A tag of a resource without `tags` of its own comes from its provider's default_tags."""
        info = inst.module.provider_of(inst.decl.block)
        root = self.tracer.root
        for decl in root.config.providers:
            name = decl.block.labels[0]
            alias = decl.block.body.attributes.get("alias")
            if alias is not None or info.address != root.addr(f"provider.{name}"):
                continue
            block = next((b for b in decl.block.body.blocks if b.type == "default_tags"), None)
            attr = block.body.attributes.get("tags") if block is not None else None
            if attr is None:
                return []
            self.hop(Origin(attr.file or decl.file, attr.line, f"default_tags of provider {name}", "attribute", ("provider", name),
                            ("default_tags", "tags")))
            self.expr(root, attr.expr, root.scope, list(path))
            return self.chain
        return []

    # --- hops and steps ----------------------------------------------------------------------
    def hop(self, origin: Origin) -> None:
        self.hops += 1
        if self.hops > MAX_HOPS:
            raise EvalError("origin chain too long")
        self.chain.append(dataclasses.replace(origin, head=origin.line))

    def step(self, step: tuple, line: int = 0, note: str = "") -> None:
        """A step inside the current hop's expression (a key, an element, a branch)."""
        last = self.chain[-1]
        self.chain[-1] = dataclasses.replace(last, line=line or last.line, what=last.what + note,
                                             steps=last.steps + (step,))

    def end(self, kind: str, what: str = "", key: str = "") -> None:
        """The last hop is the origin itself: a literal, a missing key, a computed value..."""
        last = self.chain[-1]
        self.chain[-1] = dataclasses.replace(last, what=last.what + what, end=kind, key=key)

    def eval(self, module: Any, expr: ast.Node, scope: Any) -> Any:
        return plain(self.evaluator.eval(expr, scope))

    # --- expressions ---------------------------------------------------------------------------
    def expr(self, module: Any, node: ast.Node, scope: Any, path: list) -> None:
        if isinstance(node, ast.Lit):
            self.end("literal")
        elif isinstance(node, ast.Template):
            if len(node.parts) == 1 and isinstance(node.parts[0], ast.Node) \
                    and not isinstance(node.parts[0], (ast.TIf, ast.TFor)):
                self.expr(module, node.parts[0], scope, path)
            else:
                self.end("computed", ": a string template")
        elif isinstance(node, ast.Cond):
            cond = self.eval(module, node.cond, scope)
            if isinstance(cond, Unknown):
                self.end("unknown", ": a conditional whose condition is unknown")
                return
            taken = to_bool(cond)
            branch = "true" if taken else "false"
            self.step(("then",) if taken else ("else",), note=f" (the {branch} branch of its conditional)")
            self.expr(module, node.then if taken else node.other, scope, path)
        elif isinstance(node, ast.ObjectExpr):
            self.object(module, node, scope, path)
        elif isinstance(node, ast.TupleExpr):
            if path and isinstance(path[0], int) and 0 <= path[0] < len(node.items):
                i = path[0]
                self.step(("item", i), node.lines[i] if i < len(node.lines) else 0)
                self.expr(module, node.items[i], scope, path[1:])
            else:
                self.end("literal")
        elif isinstance(node, (ast.Name, ast.GetAttr, ast.Index)):
            self.reference(module, node, scope, path)
        elif isinstance(node, ast.Call):
            self.call(module, node, scope, path)
        else:
            self.end("computed")

    def object(self, module: Any, node: ast.ObjectExpr, scope: Any, path: list) -> None:
        if not path:
            self.end("literal")
            return
        wanted = str(path[0])
        found = None
        for i, (key_node, _) in enumerate(node.items):
            key = key_node.value if isinstance(key_node, ast.Lit) else self.eval(module, key_node, scope)
            if not isinstance(key, Unknown) and to_string(key) == wanted:
                found = i  # a repeated key keeps the last, as the evaluation does
        if found is None:
            self.end("missing", key=wanted)
            return
        self.step(("key", wanted), node.lines[found] if found < len(node.lines) else 0)
        self.expr(module, node.items[found][1], scope, path[1:])

    def call(self, module: Any, node: ast.Call, scope: Any, path: list) -> None:
        name = node.name
        if node.expand or not node.args:
            self.end("computed", f": {name}()")
        elif name == "merge" and path:
            values = [self.eval(module, arg, scope) for arg in node.args]
            holding = [i for i, v in enumerate(values) if isinstance(v, dict) and str(path[0]) in v]
            if holding:
                i = holding[-1]   # merge() keeps the last
            else:
                # The key is missing: it belongs with the shared part (a local or variable the
                # resources merge), else with the last object written here.
                shared = [i for i, a in enumerate(node.args) if isinstance(a, (ast.Name, ast.GetAttr, ast.Index))]
                objects = [i for i, a in enumerate(node.args) if isinstance(a, ast.ObjectExpr)]
                i = (shared or objects or [len(node.args) - 1])[0 if shared else -1]
            self.step(("arg", i))
            self.expr(module, node.args[i], scope, path)
        elif name in PASS_THROUGH and len(node.args) == 1:
            self.step(("arg", 0))
            self.expr(module, node.args[0], scope, path)
        elif name in FIRST_OF:
            for i, arg in enumerate(node.args):
                try:
                    value = self.eval(module, arg, scope)
                except EvalError:
                    continue
                if value is not None or name == "try":
                    self.step(("arg", i))
                    self.expr(module, arg, scope, path)
                    return
            self.end("computed", f": {name}()")
        elif name == "lookup" and len(node.args) >= 2:
            key = self.eval(module, node.args[1], scope)
            table = self.eval(module, node.args[0], scope)
            if isinstance(table, dict) and not isinstance(key, Unknown) and to_string(key) in table:
                self.step(("arg", 0))
                self.expr(module, node.args[0], scope, [to_string(key)] + path)
            elif len(node.args) == 3:
                self.step(("arg", 2))
                self.expr(module, node.args[2], scope, path)
            else:
                self.end("computed", ": lookup()")
        else:
            self.end("computed", f": {name}()")

    # --- references: variables, locals, module outputs -----------------------------------------
    def reference(self, module: Any, node: ast.Node, scope: Any, path: list) -> None:
        steps: list = []
        while not isinstance(node, ast.Name):
            if isinstance(node, ast.GetAttr):
                steps.append(node.name)
                node = node.obj
            elif isinstance(node, ast.Index):
                key = self.eval(module, node.key, scope)
                if isinstance(key, Unknown):
                    self.end("unknown", ": an index that is unknown")
                    return
                steps.append(key)
                node = node.obj
            else:
                self.end("computed")
                return
        steps.reverse()
        root = node.name
        if root == "each" and steps[:1] == ["value"] and self.for_each(module, scope, steps[1:] + path):
            return
        if root in scope.names:   # count.index, a for-expression's variable
            self.end("computed", f": from {root}")
            return
        if root == "var" and steps:
            self.variable(module, str(steps[0]), steps[1:] + path)
        elif root == "local" and steps:
            self.local(module, str(steps[0]), steps[1:] + path)
        elif root == "module" and len(steps) >= 2 and isinstance(steps[1], str):
            self.output(module, str(steps[0]), steps[1], steps[2:] + path)
        else:
            self.end("reference", f": from {root}.{'.'.join(map(str, steps[:2]))}" if steps else f": from {root}")

    def for_each(self, module: Any, scope: Any, path: list) -> bool:
        """each.value: the element of the for_each (of the resource, or of the module call) it is."""
        each = scope.names.get("each")
        found = self.eaches.get(id(each)) if isinstance(each, dict) else None
        if found is None or not isinstance(each.get("key"), str):
            return False
        decl, owner, shown = found
        attr = decl.block.body.attributes.get("for_each")
        if attr is None or owner is not module:
            return False
        self.hop(Origin(attr.file or decl.file, attr.line, f"for_each of {shown}", "attribute", _label(decl.block), ("for_each",)))
        self.expr(module, attr.expr, module.scope, [each["key"]] + path)
        return True

    def variable(self, module: Any, name: str, path: list) -> None:
        decl = module.config.variables.get(name)
        if decl is None:
            self.end("unknown")
            return
        label = f"var.{name}" if not module.prefix else f"{module.prefix}.var.{name}"
        if name in module.inputs:
            if module.call is None:   # the root module: tfvars or -var
                file, line, expr = self.tracer.loader.input_origins.get(name, ("", 0, None))
                if file == "-var":
                    self.hop(Origin("-var", 0, f"-var {name}=... on the command line", "cli", (), (name,), end="literal"))
                elif file == "env":
                    self.hop(Origin("env", 0, f"the environment variable TF_VAR_{name}", "cli", (), (name,),
                                    end="literal"))
                elif file:
                    self.hop(Origin(file, line, f"{name} in {os.path.basename(file)}", "tfvars", (), (name,)))
                    if expr is None:
                        self.end("literal")
                    else:
                        from ecr_lint.loaders.inputs import _ConstantContext
                        from ecr_lint.hcl.evaluate import Scope

                        self.expr(module, expr, Scope(_ConstantContext(file)), path)
                else:
                    self.end("unknown", f": {label} is given by the plan")
                return
            call_decl, names = module.call
            parent = module.parent
            attr = call_decl.block.body.attributes.get(name)
            if attr is None:
                self.end("unknown")
                return
            scope = parent.scope.child(**names) if names else parent.scope
            if isinstance(names.get("each"), dict):
                self.eaches[id(names["each"])] = (call_decl, parent, module.prefix.rsplit("[", 1)[0])
            call = module.prefix.rsplit(".module.", 1)[-1].removeprefix("module.")
            self.hop(Origin(attr.file or call_decl.file, attr.line, f"argument {name} of module.{call}", "argument",
                            _label(call_decl.block), (name,)))
            self.expr(parent, attr.expr, scope, path)
            return
        label = re.sub(r"\[[^\]]*\]", "", label)  # a default is the same for every instance of the module
        default = decl.block.body.attributes.get("default")
        if default is None:
            self.hop(Origin(decl.file, decl.block.line, f"{label} has no default and no value", "default",
                            _label(decl.block), (), end="unknown"))
            return
        self.hop(Origin(default.file or decl.file, default.line, f"default of {label}", "default", _label(decl.block), ("default",)))
        self.expr(module, default.expr, module.scope, path)

    def local(self, module: Any, name: str, path: list) -> None:
        found = module.config.locals.get(name)
        if found is None:
            self.end("unknown")
            return
        attr, file = found
        label = f"local.{name}" if not module.prefix else f"{module.prefix}.local.{name}"
        self.hop(Origin(file, attr.line, label, "local", ("locals",), (name,)))
        self.expr(module, attr.expr, module.scope, path)

    def output(self, module: Any, call: str, name: str, path: list) -> None:
        child = module.children.get(call)
        if not hasattr(child, "config"):   # a list or map of instances, or unresolved
            self.end("reference", f": from module.{call}")
            return
        decl = child.config.outputs.get(name)
        attr = decl.block.body.attributes.get("value") if decl is not None else None
        if attr is None:
            self.end("unknown")
            return
        self.hop(Origin(attr.file or decl.file, attr.line, f"output {name} of module.{call}", "output", _label(decl.block),
                        ("value",)))
        self.expr(child, attr.expr, child.scope, path)

