"""Thin click layer: options -> api.lint() -> reporter -> exit code.

`main` never lets an exception out: whatever happens, the process ends with one line on stderr
(escaped: nothing from the linted tree starts a line or carries a control character) and an exit
code of ecr-lint's table. 0 clean, 1 findings, 2 bad input or invocation, 3 internal error or a
report that could not be written; 130 interrupted; 141, quietly, when the reader of standard
output went away (`| head`), as for any Unix filter killed by SIGPIPE.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import itertools
import os
import sys
from dataclasses import dataclass

import click

from ecr_lint import __version__
from ecr_lint.reporters.escape import display

FORMATS = ("text", "json", "sarif", "github", "junit", "gitlab")
BROKEN_PIPE = 128 + 13   # what a shell reports for a filter killed by SIGPIPE


class StdoutFailed(Exception):
    """Standard output could not take the report (closed, full, or its reader went away)."""

    def __init__(self, error: OSError):
        super().__init__(error.strerror or str(error))
        self.error = error


class _LintByDefault(click.Group):
    """`ecr-lint PATH...` lints; the first word runs a command (lint, graph, rules, explain, docs)
    only when no file or directory of that name exists here, or when the arguments hold `--` or
    `--help` (neither lints anything): a path is always linted, never taken for a command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        args = list(args)
        if not args:
            args = ["lint"]
        elif args[0] in ("--help", "-h", "--version"):
            pass
        elif args[0] in self.commands and not command_or_path(args):
            say(f"{args[0]} is linted as the path ./{args[0]}, which exists here; for the command, "
                f"add `--`: ecr-lint {args[0]} -- ...")
            args = ["lint", *args]
        elif args[0] not in self.commands:
            args = ["lint", *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "[OPTIONS] PATH...")
        formatter.write_usage(ctx.command_path, "COMMAND [ARGS]...", prefix="   or: ")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The lint options first (`ecr-lint PATH...` is `ecr-lint lint PATH...`), then --version
        and the commands."""
        lint = self.commands["lint"]
        lint_ctx = click.Context(lint, info_name="lint", parent=ctx)
        records = [r for p in lint.get_params(lint_ctx)
                   if isinstance(p, click.Option) and (r := p.get_help_record(lint_ctx))]
        records += [r for p in self.get_params(ctx)
                    if isinstance(p, click.Option) and (r := p.get_help_record(ctx)) and r not in records]
        with formatter.section("Options"):
            formatter.write_dl(records)
        self.format_commands(ctx, formatter)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # noqa: D102
        """click's main, except that every outcome is an exit code of ecr-lint's own (see above)."""
        args = list(sys.argv[1:] if args is None else args)
        prog_name = prog_name or "ecr-lint"

        def run() -> int:
            self._main_shell_completion(extra, prog_name, complete_var)
            with self.make_context(prog_name, args, **extra) as ctx:
                self.invoke(ctx)
            return 0

        code = guarded(run)
        if not standalone_mode:
            return code
        sys.exit(code)


def command_or_path(args: list[str]) -> bool:
    """Whether `args[0]`, a command's name, means the command: when no file or directory of that
    name exists here, or `--` or `--help` follows (a lint never needs them)."""
    return not os.path.lexists(args[0]) or any(a in ("--", "--help", "-h") for a in args[1:])


def guarded(run) -> int:
    """Run a command; map every way it can end to an exit code and at most one line on stderr."""
    try:
        try:
            code = run()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 3)
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        _flush_stdout()
        return code
    except StdoutFailed as exc:
        _silence_stdout()
        if exc.error.errno == errno.EPIPE:
            return BROKEN_PIPE
        say(f"cannot write the report to standard output: {exc}")
        return 3
    except click.exceptions.Abort:
        say("interrupted")
        return 130
    except click.ClickException as exc:  # a usage error (click prints it over several lines; one here)
        say(f"{exc.format_message()} (see `ecr-lint --help`)")
        return 2
    except (KeyboardInterrupt, EOFError):
        say("interrupted")
        return 130
    except BaseException as exc:  # noqa: BLE001: a CI gate must tell "tool broke" (3) from "policy failed" (1)
        import traceback

        frames = traceback.extract_tb(exc.__traceback__)
        where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
        say(f"internal error: {type(exc).__name__}: {exc}{where}; please report it")
        return 3


def say(message: str) -> None:
    """One line on stderr, `ecr-lint: ` and the message escaped; never fails (stderr may be gone)."""
    try:
        stream = sys.stderr
        if stream is not None:
            stream.write(f"ecr-lint: {display(message)}\n")
            stream.flush()
    except (OSError, ValueError):
        pass


def out(text: str) -> None:
    """Text to standard output; any failure to take it is StdoutFailed."""
    try:
        if sys.stdout is None:
            raise OSError(errno.EBADF, "standard output is closed")
        sys.stdout.write(text)
    except OSError as exc:
        raise StdoutFailed(exc) from None
    except ValueError as exc:  # a closed file object
        raise StdoutFailed(OSError(errno.EBADF, str(exc))) from None


def _flush_stdout() -> None:
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except OSError as exc:
        raise StdoutFailed(exc) from None
    except ValueError:
        pass


def _silence_stdout() -> None:
    """After a failed write, point standard output at /dev/null, so that the interpreter's own
    flush at exit (of what is still buffered) neither fails again nor changes the exit code."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (AttributeError, OSError, ValueError):
        pass  # not a real file (a test runner's buffer): nothing is flushed at exit


@click.group(cls=_LintByDefault, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ecr-lint", help="Show the version and exit.")
def main() -> None:
    """Compliance linter for Terraform stacks that manage Amazon ECR.

    ecr-lint PATH... lints Terraform directories (searched recursively for stacks) and plan
    JSON files: it is `ecr-lint lint PATH...`, with the options below. Exit codes: 0 clean,
    1 findings at or above --fail-on, 2 bad input or invocation, 3 internal error.

    A path is always linted: a first word that names a command runs it only when no file or
    directory of that name exists here. Where one does (a folder called docs), add `--` for the
    command (ecr-lint docs -- OUT_DIR); ./docs always means the path. `ecr-lint COMMAND --help`
    shows a command's options.
    """


def _ids(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(v.strip().upper() for value in values for v in value.split(",") if v.strip())


def _fail(message: str, code: int = 2) -> None:
    say(message)
    sys.exit(code)


def _settings(paths: tuple[str, ...], config_file: str | None):
    """Defaults < the config files (--config, or those from the repository root down to the
    linted directory: see config.py)."""
    from ecr_lint.config import ConfigError, load_settings

    try:
        return load_settings(list(paths), config_file)
    except ConfigError as exc:
        _fail(str(exc))


def _rules(config, rules_dirs: tuple[str, ...] = ()):
    from ecr_lint.catalog import RuleFileError, load_rules

    try:
        return load_rules([*config.rules_dirs, *rules_dirs])
    except RuleFileError as exc:
        _fail(str(exc))


@dataclass(frozen=True)
class Inputs:
    """What to read and where the output goes: the same options for `lint` and `graph`."""

    var_files: tuple[str, ...]
    var_args: tuple[str, ...]
    environment: str | None
    workspace: str | None
    config_file: str | None
    no_cache: bool
    output: str | None
    no_env: bool

    def variables(self) -> dict[str, str]:
        variables = {}
        for item in self.var_args:
            if "=" not in item:
                raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--var")
            name, value = item.split("=", 1)
            variables[name.strip()] = value
        return variables

    def settings(self, paths: tuple[str, ...], **more):
        """The config files' settings, under these options and `more` (None: not given)."""
        variables = self.variables()
        settings = _settings(paths, self.config_file)
        settings.with_cli(
            var_files=(*settings.config.var_files, *self.var_files) if self.var_files else None,
            variables=variables or None, environment=self.environment, workspace=self.workspace,
            tf_var_env=False if self.no_env else None, **more)
        return settings

    def write(self, pieces) -> None:
        """The report to --output, else to standard output."""
        if self.output:
            _write_file(self.output, pieces)
        else:
            _write(pieces, out)


_INPUT_OPTIONS = (
    click.option("--var-file", "var_files", multiple=True, type=click.Path(),
                 help="A .tfvars file, as terraform -var-file (repeatable; later files win)."),
    click.option("--var", "var_args", multiple=True, metavar="NAME=VALUE",
                 help="A variable value, as terraform -var (repeatable; wins over every file)."),
    click.option("--environment", default=None,
                 help="Treat every repository as in this environment (e.g. prod), whatever its tags say."),
    click.option("--workspace", default=None,
                 help="Terraform workspace  [default: .terraform/environment, else TF_WORKSPACE, else default]"),
    click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
                 help="Config file  [default: .ecr-lint.toml or pyproject.toml [tool.ecr-lint], found walking up]"),
    click.option("--no-cache", is_flag=True,
                 help="Do not read or write the cache (parsed files, unchanged stacks, the built parser)."),
    click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
                 help="Write the output to this file instead of standard output."),
    click.option("--no-env", is_flag=True, help="Do not read TF_VAR_ environment variables (Terraform reads them)."),
)


def input_options(command):
    """The options of Inputs, given to `command` as one `inputs` argument."""

    @functools.wraps(command)
    def with_inputs(**kwargs):
        given = {f.name: kwargs.pop(f.name) for f in dataclasses.fields(Inputs)}
        return command(inputs=Inputs(**given), **kwargs)

    for option in reversed(_INPUT_OPTIONS):
        with_inputs = option(with_inputs)
    return with_inputs


@main.command("lint", short_help="Lint stacks and plans (the default: ecr-lint PATH...).")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "never"]), default=None,
              help="Lowest severity that fails the run  [default: error]")
@click.option("--select", multiple=True, help="Only these rule ids (comma-separated or repeated).")
@click.option("--ignore", multiple=True, help="Skip these rule ids (comma-separated or repeated).")
@click.option("--show-suppressed", is_flag=True,
              help="Text output: list the suppressed findings, each with its reason.")
@click.option("--rules-dir", "rules_dirs", multiple=True, type=click.Path(file_okay=False),
              help="A directory of custom rule files (ids ECR900-ECR999).")
@click.option("--baseline", type=click.Path(dir_okay=False), default=None,
              help="Accept the findings recorded in this baseline; fail only on new ones.")
@click.option("--write-baseline", type=click.Path(dir_okay=False), default=None,
              help="Record today's findings in this file and exit 0.")
@click.option("--baseline-since", default=None, metavar="REV",
              help="Report the baseline entries added since this git revision  [default: HEAD, when tracked]")
@click.option("--source-root", type=click.Path(file_okay=False), default=None,
              help="Plans: the directory holding the plan's .tf files (default: the plan's directory).")
@click.option("--changed-only", is_flag=True, help="Plans: only resources the plan creates or changes.")
@click.option("--changed-files", is_flag=True,
              help="PATHS are changed files (pre-commit): lint the stacks that contain them, callers of modules included.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes  [default: the CPUs this process may use]")
@input_options
def lint_command(paths, fmt, fail_on, select, ignore, show_suppressed, rules_dirs, baseline, write_baseline,
                 baseline_since, source_root, changed_only, changed_files, jobs, inputs: Inputs) -> None:
    """Lint Terraform stacks and plans (what `ecr-lint PATH...` runs)."""
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
        wanted, context = stacks_for(changed, ".", _settings((".",), inputs.config_file).config,
                                     cache=not inputs.no_cache)
        if not wanted and not context:
            say("no stack holds the changed files")
            sys.exit(0)
        # The other stacks are evaluated as context; one that reads a changed file is reported too.
        paths = tuple(os.path.relpath(p) for p in wanted)
    elif not paths:
        raise click.UsageError("give at least one PATH (a directory, a .tf file or a plan JSON)")
    settings = inputs.settings(
        paths, select=_ids(select) or None, ignore=_ids(ignore) or None, fail_on=fail_on, source_root=source_root,
        changed_only=changed_only or None, baseline=None if write_baseline else baseline,
        baseline_since=baseline_since)
    rules = _rules(settings.config, rules_dirs)
    settings.settle(rules)
    config = settings.config
    unknown_ids = sorted((config.select | config.ignore | set(config.severity) | config.non_suppressible)
                         - {r.id for r in rules})
    if unknown_ids:
        where = f" (in {', '.join(settings.files)})" if settings.files else ""
        _fail(f"unknown rule id(s){where}: {', '.join(unknown_ids)} (see `ecr-lint rules`)")
    progress = _progress() if fmt == "text" and _stderr_is_terminal() else None
    try:
        report = lint(paths, config, rules=rules, progress=progress, jobs=jobs or _usable_cpus(),
                      cache=not inputs.no_cache, context=context, changed=changed if changed_files else ())
    except (ConfigError, BaselineError) as exc:
        _fail(str(exc))
    if settings.problems:  # a nested config tried to relax the root config: an input error, not applied
        report.errors = sorted(dict.fromkeys([*report.errors, *settings.problems]),
                               key=lambda e: (e.file, e.line, e.message, e.kind))
    if write_baseline:
        try:
            count = baselines.write(write_baseline, report.results, report.errors, report.base)
        except OSError as exc:
            _fail(f"cannot write the baseline {write_baseline}: {exc.strerror or exc}", 3)
        known = sum(1 for e in report.errors if e.kind == "input")
        say(f"wrote {count} finding(s) and {known} known input error(s) to the baseline {write_baseline}")
        sys.exit(3 if any(e.kind == "internal" for e in report.errors) else 0)
    color = fmt == "text" and inputs.output is None and sys.stdout is not None and sys.stdout.isatty()
    pieces = iter(chunks(report, fmt, color=color, settings=settings.summary(rules), fail_on=config.fail_on,
                         show_suppressed=show_suppressed))
    first = next(pieces, "")  # the report is built before --output's file is opened (and emptied)
    inputs.write(itertools.chain((first,), pieces))
    sys.exit(exit_code(report, config.fail_on))


def _write_file(path: str, pieces) -> None:
    """The report into a file; if that fails, no partial report is left behind to be uploaded."""
    try:
        with open(path, "w", encoding="utf-8") as handle:
            _write(pieces, handle.write)
    except OSError as exc:
        try:
            if os.path.isfile(path) and not os.path.islink(path):
                os.remove(path)
        except OSError:
            pass
        _fail(f"cannot write the report to {path}: {exc.strerror or exc}", 3)


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
    return sys.stderr is not None and sys.stderr.isatty()


def _progress():
    """Progress on stderr for long runs, only on a terminal and only for text output."""

    def show(done: int, total: int, what: str) -> None:
        if total < 5:
            return
        end = "\n" if done == total else ""
        try:
            sys.stderr.write(f"\r\x1b[2Kecr-lint: {done}/{total} {what}" + ("\r\x1b[2K" if end else ""))
            sys.stderr.flush()
        except (OSError, ValueError, AttributeError):
            pass  # progress is a courtesy: a closed terminal does not stop the run

    return show


RULES_DIR_HELP = "A directory of custom rule files (ids ECR900-ECR999), shown with the built-in rules."
CONFIG_HELP = "Config file (its rules_dirs are read)  [default: .ecr-lint.toml or pyproject.toml, found walking up]"


@main.command("rules")
@click.option("--rules-dir", "rules_dirs", multiple=True, type=click.Path(file_okay=False), help=RULES_DIR_HELP)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None, help=CONFIG_HELP)
def rules_command(rules_dirs, config_file) -> None:
    """List the rules: id, name, severity, title."""
    for rule in _rules(_settings((), config_file).config, rules_dirs):
        out(f"{rule.id}  {rule.name:<32} {str(rule.severity):<8} {display(rule.title)}\n")


@main.command("explain", short_help="Why a rule matters, how to fix it, examples.")
@click.argument("rule_id")
@click.option("--rules-dir", "rules_dirs", multiple=True, type=click.Path(file_okay=False), help=RULES_DIR_HELP)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None, help=CONFIG_HELP)
def explain_command(rule_id: str, rules_dirs, config_file) -> None:
    """Show a rule's rationale, remediation and examples (RULE_ID: ECR003, or its name)."""
    rules = _rules(_settings((), config_file).config, rules_dirs)
    rule = next((r for r in rules if r.id == rule_id.upper() or r.name == rule_id), None)
    if rule is None:
        _fail(f"no rule {rule_id!r} (see `ecr-lint rules`)")
    out(f"{rule.id} {rule.name} ({rule.severity})\n{_block(rule.title)}\n\n")
    out(f"Why:\n{_block(rule.rationale)}\n\nFix:\n{_block(rule.remediation)}\n\n")
    out(f"Fails:\n{_block(rule.examples['fail'])}\nPasses:\n{_block(rule.examples['pass'])}\n")
    for link in rule.links:
        out(f"See: {display(link)}\n")


def _block(text: str) -> str:
    """A custom rule's text, its lines kept, every control character in them escaped."""
    return "\n".join(display(line) for line in str(text).split("\n"))


@main.command("graph", short_help="Draw the resource graph (mermaid, dot or json).")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "json"]), default="mermaid", show_default=True,
              help="Drawing format.")
@click.option("--stacks", "stack_level", is_flag=True,
              help="Draw stacks and the SSM parameters that link them (ECR016) instead of resources.")
@input_options
def graph_command(paths, fmt, stack_level, inputs: Inputs) -> None:
    """Draw the resource graph, edges labelled with the rules that look along them."""
    from ecr_lint.api import load_stacks
    from ecr_lint.reporters import graph

    if not paths:
        raise click.UsageError("give at least one PATH")
    config = inputs.settings(paths).config
    stacks, errors = load_stacks(paths, config, cache=not inputs.no_cache)
    for error in errors:
        say(str(error))
    if stack_level:
        draw = {"mermaid": graph.stacks_to_mermaid, "dot": graph.stacks_to_dot, "json": graph.stacks_to_json}[fmt]
        drawing = draw(stacks, config.ssm_external)
    else:
        draw = {"mermaid": graph.to_mermaid, "dot": graph.to_dot, "json": graph.to_json}[fmt]
        drawing = draw(stacks, _rules(config))
    inputs.write([drawing])
    sys.exit(2 if any(e.kind != "warning" for e in errors) else 0)


@main.command("docs", short_help="Write the rules' Markdown pages into DIRECTORY.")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--check", is_flag=True, help="Exit 1 if the docs in DIRECTORY are stale instead of writing them.")
def docs_command(directory: str, check: bool) -> None:
    """Write one Markdown page per rule, and an index, into DIRECTORY (docs/rules in this repository)."""
    from ecr_lint import docs

    rules = _rules(_settings((), None).config)
    if check:
        stale = docs.stale(rules, directory)
        for path in stale:
            say(f"stale: {path}")
        sys.exit(1 if stale else 0)
    for path in docs.write(rules, directory):
        out(f"wrote {display(path)}\n")


# --- ecr-lint fix (issue 15): a self-contained block --------------------------------------------------

@main.command("fix")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--diff", "mode", flag_value="diff",
              help="Print the edits as a unified diff (the default when standard output is not a terminal).")
@click.option("--write", "mode", flag_value="write", help="Write the edits (atomically; a file changed since it "
              "was read is not touched).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True,
              help="text: the diff and one line per finding; json/sarif: the report with each finding's edits.")
@click.option("--select", multiple=True, help="Only these rule ids (comma-separated or repeated).")
@click.option("--ignore", multiple=True, help="Skip these rule ids.")
@click.option("--rules-dir", "rules_dirs", multiple=True, type=click.Path(file_okay=False),
              help="A directory of custom rule files.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "never"]), default=None,
              help="Lowest severity of a finding left unfixed that makes the exit code 1  [default: error]")
@click.option("--changed-files", is_flag=True, help="PATHS are changed files (pre-commit): fix the stacks that "
              "contain them; edits may go anywhere below the working directory.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes for the first lint.")
@input_options  # the same inputs as lint (--output: the diff or the report)
def fix_command(paths, mode, fmt, select, ignore, rules_dirs, fail_on, changed_files, jobs, inputs: Inputs) -> None:
    """Fix findings where their value comes from (a tfvars line, a default, a local, a module
    argument), each edit proven by linting again first. Exit 0: nothing to edit and no finding
    at or above --fail-on left; 1: edits shown or written, or such findings left; 2: bad input,
    or a file not written; 3: internal error."""
    from ecr_lint.fix import make_plan
    from ecr_lint.fix import output as shown
    from ecr_lint.fix.write import write
    from ecr_lint.reporters.jsontext import indented
    from ecr_lint.reporters.escape import json_text

    tree = None
    if changed_files:
        from ecr_lint.changed import stacks_for

        if not paths:
            sys.exit(0)
        wanted, _ = stacks_for(list(paths), ".", _settings((".",), inputs.config_file).config,
                               cache=not inputs.no_cache)
        if not wanted:
            sys.exit(0)
        paths, tree = tuple(os.path.relpath(p) for p in wanted), (os.path.abspath("."),)
    if not paths:
        raise click.UsageError("give at least one PATH (a directory or a .tf file)")
    if not any(os.path.isdir(p) or p.endswith((".tf", ".tf.json", ".tfvars", ".tfvars.json")) for p in paths):
        raise click.UsageError("fix edits Terraform files: give a directory or a .tf file (a plan is read-only)")
    mode = mode or ("diff" if inputs.output or sys.stdout is None or not sys.stdout.isatty() else "show")
    settings = inputs.settings(paths, select=_ids(select) or None, ignore=_ids(ignore) or None, fail_on=fail_on)
    rules = _rules(settings.config, rules_dirs)
    settings.settle(rules)
    plan = make_plan(list(paths), settings.config, rules, jobs=jobs or _usable_cpus(), cache=not inputs.no_cache,
                     shown=_relative_path, tree=tree)
    written, skipped = write(plan) if mode == "write" else ([], [])
    for line in shown.summary(plan):
        say(line)
    for path, why in skipped:
        say(f"not written: {path}: {why}")
    if fmt == "text":
        text = shown.diff(plan) if mode != "write" else "".join(f"wrote {display(p)}\n" for p in written)
        if mode == "show" and text:  # to a terminal: nothing from the tree may carry an escape
            text = "".join(display(line) + "\n" for line in text.splitlines())
            text += "ecr-lint: run with --write to apply these edits\n"
    else:
        data = shown.as_json(plan, settings.summary(rules)) if fmt == "json" else shown.as_sarif(plan, settings.summary(rules))
        text = "".join(json_text(piece) for piece in indented(data)) + "\n"
    inputs.write(iter([text]))
    errors = plan.report.errors
    if any(e.kind == "internal" for e in errors):
        sys.exit(3)
    if errors or skipped:
        sys.exit(2)
    fixed = {r for fix in plan.fixes for r in fix.results}
    threshold = {"error": 2, "warning": 1}.get(settings.config.fail_on, 3)
    left = any(r not in fixed and int(r.severity) >= threshold for r in plan.report.findings)
    sys.exit(1 if plan.changed_files() or left else 0)


def _relative_path(path: str) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


if __name__ == "__main__":
    main()
