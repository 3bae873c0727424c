"""Thin click layer: options -> api.lint() -> reporter -> exit code."""

from __future__ import annotations

import sys

import click

from ecr_lint import __version__

FORMATS = ("text", "json", "sarif", "github")


class _LintByDefault(click.Group):
    """`ecr-lint PATH...` lints; `ecr-lint rules|explain` are subcommands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["lint", *args]
        elif not args:
            args = ["lint"]
        return super().parse_args(ctx, args)


@click.group(cls=_LintByDefault, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ecr-lint")
def main() -> None:
    """Compliance linter for Terraform stacks that manage Amazon ECR.

    ecr-lint PATH... lints Terraform directories (searched recursively for stacks) and plan
    JSON files. Exit codes: 0 clean, 1 findings at or above --fail-on, 2 bad input or
    invocation, 3 internal error.
    """


def _split(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(v.strip().upper() for value in values for v in value.split(",") if v.strip())


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
@click.option("--source-root", type=click.Path(file_okay=False), default=None,
              help="Plans: the directory holding the plan's .tf files (default: the plan's directory).")
@click.option("--changed-only", is_flag=True, help="Plans: only resources the plan creates or changes.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None, help="Write the report here.")
def lint_command(paths: tuple[str, ...], fmt: str, fail_on: str | None, select: tuple[str, ...],
                 ignore: tuple[str, ...], var_files: tuple[str, ...], var_args: tuple[str, ...],
                 environment: str | None, source_root: str | None, changed_only: bool, output: str | None) -> None:
    """Lint Terraform stacks and plans."""
    from ecr_lint.api import exit_code, lint
    from ecr_lint.catalog import RuleFileError
    from ecr_lint.config import Config
    from ecr_lint.reporters import render

    if not paths:
        raise click.UsageError("give at least one PATH (a directory, a .tf file or a plan JSON)")
    variables = {}
    for item in var_args:
        if "=" not in item:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--var")
        name, value = item.split("=", 1)
        variables[name.strip()] = value
    config = Config().with_(
        select=_split(select) or None, ignore=_split(ignore) or None, environment=environment,
        var_files=tuple(var_files) or None, variables=variables or None, fail_on=fail_on,
        source_root=source_root, changed_only=changed_only or None,
    )
    try:
        report = lint(paths, config)
    except RuleFileError as exc:
        click.echo(f"ecr-lint: {exc}", err=True)
        sys.exit(2)
    known = {r.id for r in report.rules}
    unknown_ids = sorted((config.select | config.ignore) - {r.id for r in _all_rules()})
    if unknown_ids:
        click.echo(f"ecr-lint: unknown rule id(s): {', '.join(unknown_ids)}", err=True)
        sys.exit(2)
    del known
    text = render(report, fmt, color=(fmt == "text" and output is None and sys.stdout.isatty()))
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        click.echo(text, nl=False)
    sys.exit(exit_code(report, config.fail_on))


def _all_rules():
    from ecr_lint.catalog import load_rules

    return load_rules()


@main.command("rules")
def rules_command() -> None:
    """List the rules: id, name, severity, title."""
    for rule in _all_rules():
        click.echo(f"{rule.id}  {rule.name:<32} {str(rule.severity):<8} {rule.title}")


@main.command("explain")
@click.argument("rule_id")
def explain_command(rule_id: str) -> None:
    """Show a rule's rationale, remediation and examples."""
    rule = next((r for r in _all_rules() if r.id == rule_id.upper() or r.name == rule_id), None)
    if rule is None:
        click.echo(f"ecr-lint: no rule {rule_id!r} (see `ecr-lint rules`)", err=True)
        sys.exit(2)
    click.echo(f"{rule.id} {rule.name} ({rule.severity})\n{rule.title}\n")
    click.echo(f"Why:\n{rule.rationale}\n\nFix:\n{rule.remediation}\n")
    click.echo(f"Fails:\n{rule.examples['fail']}\nPasses:\n{rule.examples['pass']}")
    for link in rule.links:
        click.echo(f"See: {link}")


if __name__ == "__main__":
    main()
