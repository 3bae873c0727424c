"""Thin click layer: options -> api.lint() -> reporter -> exit code."""

from __future__ import annotations

import itertools
import os
import sys

import click

from ecr_lint import __version__

FORMATS = ("text", "json", "sarif", "github", "junit", "gitlab")


class _LintByDefault(click.Group):
    """`ecr-lint PATH...` lints; `ecr-lint rules|explain|docs|graph` are subcommands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args:
            args = ["lint"]
        elif args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["lint", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_LintByDefault, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ecr-lint")
def main() -> None:
    """Compliance linter for Terraform stacks that manage Amazon ECR.

    ecr-lint PATH... lints Terraform directories (searched recursively for stacks) and plan
    JSON files. Exit codes: 0 clean, 1 findings at or above --fail-on, 2 bad input or
    invocation, 3 internal error.
    """


def _ids(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(v.strip().upper() for value in values for v in value.split(",") if v.strip())


def _fail(message: str) -> None:
    click.echo(f"ecr-lint: {message}", err=True)
    sys.exit(2)


def _settings(paths: tuple[str, ...], config_file: str | None):
    """Defaults < the config file (--config, or found walking up from the first path)."""
    from ecr_lint.config import ConfigError, find_config_file, from_file

    path = config_file or (find_config_file(paths[0]) if paths else find_config_file("."))
    try:
        return from_file(path)
    except ConfigError as exc:
        _fail(str(exc))


def _rules(config, rules_dirs: tuple[str, ...] = ()):
    from ecr_lint.catalog import RuleFileError, load_rules

    try:
        return load_rules([*config.rules_dirs, *rules_dirs])
    except RuleFileError as exc:
        _fail(str(exc))


@main.command("lint")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--fail-on", type=click.Choice(["error", "warning", "never"]), default=None,
              help="Lowest severity that fails the run  [default: error]")
@click.option("--select", multiple=True, help="Only these rule ids (comma-separated or repeated).")
@click.option("--ignore", multiple=True, help="Skip these rule ids.")
@click.option("--var-file", "var_files", multiple=True, type=click.Path(), help="A .tfvars file, as terraform -var-file.")
@click.option("--var", "var_args", multiple=True, metavar="NAME=VALUE", help="A variable value, as terraform -var.")
@click.option("--environment", default=None, help="Treat every repository as in this environment.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="Config file (default: .ecr-lint.toml or pyproject.toml [tool.ecr-lint], found walking up).")
@click.option("--rules-dir", "rules_dirs", multiple=True, type=click.Path(file_okay=False),
              help="A directory of custom rule files (ids ECR900-ECR999).")
@click.option("--baseline", type=click.Path(dir_okay=False), default=None,
              help="Accept the findings recorded in this baseline; fail only on new ones.")
@click.option("--write-baseline", type=click.Path(dir_okay=False), default=None,
              help="Record today's findings in this file and exit 0.")
@click.option("--baseline-since", default=None, metavar="REV",
              help="Report the baseline entries added since this git revision  [default: HEAD, when tracked]")
@click.option("--workspace", default=None,
              help="Terraform workspace  [default: .terraform/environment, else TF_WORKSPACE, else default]")
@click.option("--source-root", type=click.Path(file_okay=False), default=None,
              help="Plans: the directory holding the plan's .tf files (default: the plan's directory).")
@click.option("--changed-only", is_flag=True, help="Plans: only resources the plan creates or changes.")
@click.option("--changed-files", is_flag=True,
              help="PATHS are changed files (pre-commit): lint the stacks that contain them, callers of modules included.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes  [default: the CPUs this process may use]")
@click.option("--no-cache", is_flag=True, help="Do not read or write the cache (parsed files, unchanged stacks).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None, help="Write the report here.")
def lint_command(paths, fmt, fail_on, select, ignore, var_files, var_args, environment, config_file,
                 rules_dirs, baseline, write_baseline, baseline_since, workspace, source_root, changed_only, changed_files, jobs, no_cache,
                 output) -> None:
    """Lint Terraform stacks and plans."""
    from ecr_lint import baseline as baselines
    from ecr_lint.api import exit_code, lint
    from ecr_lint.baseline import BaselineError
    from ecr_lint.config import ConfigError
    from ecr_lint.reporters import chunks

    context: list[str] = []
    if changed_files:
        from ecr_lint.changed import stacks_for, staged_removals

        changed = [*paths, *staged_removals()]
        if not changed:
            sys.exit(0)  # nothing changed
        wanted, context = stacks_for(changed, ".", _settings((".",), config_file), cache=not no_cache)
        if not wanted:
            click.echo("ecr-lint: no stack holds the changed files", err=True)
            sys.exit(0)
        paths = tuple(os.path.relpath(p) for p in wanted)
    if not paths:
        raise click.UsageError("give at least one PATH (a directory, a .tf file or a plan JSON)")
    variables = {}
    for item in var_args:
        if "=" not in item:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--var")
        name, value = item.split("=", 1)
        variables[name.strip()] = value
    config = _settings(paths, config_file)
    config = config.with_(
        select=_ids(select) or None, ignore=_ids(ignore) or None, environment=environment,
        var_files=(*config.var_files, *var_files) if var_files else None, variables=variables or None,
        fail_on=fail_on, source_root=source_root, changed_only=changed_only or None,
        baseline=None if write_baseline else baseline, baseline_since=baseline_since, workspace=workspace,
    )
    rules = _rules(config, rules_dirs)
    unknown_ids = sorted((config.select | config.ignore | set(config.severity) | config.non_suppressible)
                         - {r.id for r in rules})
    if unknown_ids:
        where = f" (in {config.config_file})" if config.config_file else ""
        _fail(f"unknown rule id(s){where}: {', '.join(unknown_ids)} (see `ecr-lint rules`)")
    progress = _progress() if fmt == "text" and _stderr_is_terminal() else None
    try:
        report = lint(paths, config, rules=rules, progress=progress, jobs=jobs or _usable_cpus(),
                      cache=not no_cache, context=context)
    except (ConfigError, BaselineError) as exc:
        _fail(str(exc))
    except Exception as exc:  # never a traceback: a CI gate must tell "tool broke" (3) from "policy failed"
        import traceback

        frame = traceback.extract_tb(exc.__traceback__)[-1]
        click.echo(f"ecr-lint: internal error: {type(exc).__name__}: {exc} (at {frame.filename}:{frame.lineno}); "
                   "please report it", err=True)
        sys.exit(3)
    if write_baseline:
        count = baselines.write(write_baseline, report.results, report.errors, report.base)
        known = sum(1 for e in report.errors if e.kind == "input")
        click.echo(f"ecr-lint: wrote {count} finding(s) and {known} known input error(s) to the baseline "
                   f"{write_baseline}", err=True)
        sys.exit(3 if any(e.kind == "internal" for e in report.errors) else 0)
    pieces = iter(chunks(report, fmt, color=(fmt == "text" and output is None and sys.stdout.isatty())))
    first = next(pieces, "")  # the report is built before --output's file is opened (and emptied)
    pieces = itertools.chain((first,), pieces)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            _write(pieces, handle.write)
    else:
        _write(pieces, lambda text: click.echo(text, nl=False))
    sys.exit(exit_code(report, config.fail_on))


def _usable_cpus() -> int:
    """The CPUs this process may run on (a CI container often gets fewer than the machine has)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _write(pieces, write) -> None:
    """Write a report in batches of about 1 MB: a large report is never one more whole copy."""
    batch: list[str] = []
    size = 0
    for piece in pieces:
        batch.append(piece)
        size += len(piece)
        if size >= 1 << 20:
            write("".join(batch))
            batch, size = [], 0
    write("".join(batch))


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def _progress():
    """Progress on stderr for long runs, only on a terminal and only for text output."""

    def show(done: int, total: int, what: str) -> None:
        if total < 5:
            return
        end = "\n" if done == total else ""
        click.echo(f"\r\x1b[2Kecr-lint: {done}/{total} {what}", err=True, nl=False)
        if end:
            click.echo("\r\x1b[2K", err=True, nl=False)

    return show


@main.command("rules")
@click.option("--rules-dir", "rules_dirs", multiple=True, type=click.Path(file_okay=False))
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None)
def rules_command(rules_dirs, config_file) -> None:
    """List the rules: id, name, severity, title."""
    for rule in _rules(_settings((), config_file), rules_dirs):
        click.echo(f"{rule.id}  {rule.name:<32} {str(rule.severity):<8} {rule.title}")


@main.command("explain")
@click.argument("rule_id")
@click.option("--rules-dir", "rules_dirs", multiple=True, type=click.Path(file_okay=False))
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None)
def explain_command(rule_id: str, rules_dirs, config_file) -> None:
    """Show a rule's rationale, remediation and examples."""
    rules = _rules(_settings((), config_file), rules_dirs)
    rule = next((r for r in rules if r.id == rule_id.upper() or r.name == rule_id), None)
    if rule is None:
        _fail(f"no rule {rule_id!r} (see `ecr-lint rules`)")
    click.echo(f"{rule.id} {rule.name} ({rule.severity})\n{rule.title}\n")
    click.echo(f"Why:\n{rule.rationale}\n\nFix:\n{rule.remediation}\n")
    click.echo(f"Fails:\n{rule.examples['fail']}\nPasses:\n{rule.examples['pass']}")
    for link in rule.links:
        click.echo(f"See: {link}")


@main.command("graph")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "json"]), default="mermaid", show_default=True)
@click.option("--var-file", "var_files", multiple=True, type=click.Path())
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None)
@click.option("--stacks", "stack_level", is_flag=True,
              help="Draw stacks and the SSM parameters that link them (ECR016) instead of resources.")
def graph_command(paths, fmt, var_files, config_file, stack_level) -> None:
    """Draw the resource graph, edges labelled with the rules that look along them."""
    from ecr_lint.api import load_stacks
    from ecr_lint.reporters import graph

    if not paths:
        raise click.UsageError("give at least one PATH")
    config = _settings(paths, config_file).with_(var_files=tuple(var_files) or None)
    stacks, errors = load_stacks(paths, config)
    for error in errors:
        click.echo(f"ecr-lint: {error}", err=True)
    if stack_level:
        draw = {"mermaid": graph.stacks_to_mermaid, "dot": graph.stacks_to_dot, "json": graph.stacks_to_json}[fmt]
        click.echo(draw(stacks, config.ssm_external), nl=False)
    else:
        draw = {"mermaid": graph.to_mermaid, "dot": graph.to_dot, "json": graph.to_json}[fmt]
        click.echo(draw(stacks, _rules(config)), nl=False)
    sys.exit(2 if errors else 0)


@main.command("docs")
@click.argument("directory", type=click.Path(file_okay=False), default="docs/rules")
@click.option("--check", is_flag=True, help="Exit 1 if the docs are stale instead of writing them.")
def docs_command(directory: str, check: bool) -> None:
    """Generate docs/rules/*.md from the rule files."""
    from ecr_lint import docs

    rules = _rules(_settings((), None))
    if check:
        stale = docs.stale(rules, directory)
        for path in stale:
            click.echo(f"stale: {path}", err=True)
        sys.exit(1 if stale else 0)
    for path in docs.write(rules, directory):
        click.echo(f"wrote {path}")


if __name__ == "__main__":
    main()
