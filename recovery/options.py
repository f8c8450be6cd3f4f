"""The command line's parameter types. A plan's options come from the plan's declaration
(`recovery.schedule.plan.FIELDS`): each option converts its text with its field's own conversion,
and a value the field refuses is a usage error (exit 2) in the field's words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

from recovery.errors import PlanError, RecoveryError
from recovery.schedule.plan import BY_NAME, DEFAULT_PROTOCOL, BadValueError, Field, to_date
from recovery.words import CONTROL_CHARACTER, printable


class FieldType(click.ParamType[Any]):
    """The option of one field of a plan: its text converted by the field (one NAME=VALUE pair at
    a time for the repeatable ones)."""

    def __init__(self, field: Field):
        self.field = field
        self.name = field.metavar

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        """What the shell offers after --timezone, --variant, --set, --time or --actual."""
        from click.shell_completion import CompletionItem  # only when a shell asks

        return [CompletionItem(choice) for choice in completions(self.field.name, ctx) if choice.startswith(incomplete)]

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            if not self.field.pairs:
                return self.field.value_of(value)
            if isinstance(value, tuple):
                return value
            name, sep, text = str(value).partition("=")
            if sep and name.strip() and not text.strip():  # NAME= : forget what an earlier calendar recorded
                if self.field.names and name.strip() not in self.field.names:
                    self.fail(printable(f'"{name.strip()}" is not {self.field.names_are}'), param, ctx)
                return name.strip(), None
            ((name, converted),) = self.field.value_of([value]).items()
            return name, converted
        except PlanError as error:
            problem = error.problems[0]
            self.fail(
                printable(f"{problem.detail}: {problem.message}" if problem.detail else problem.message), param, ctx
            )


class ValueType(click.ParamType[Any]):
    """Any other value, converted by one of the plan's conversions."""

    def __init__(self, name: str, convert: Callable[[Any], Any]):
        self.name = name
        self._convert = convert

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return self._convert(value)
        except BadValueError as error:
            self.fail(printable(str(error)), param, ctx)


def completions(name: str, ctx: click.Context) -> list[str]:
    """The values a shell completes for a plan's field (or "protocol"): zone names, protocol names,
    and what the protocol given so far on the command line offers (variants, "NAME=" for its
    parameters, milestones and times of day). Nothing when the protocol cannot be loaded."""
    from recovery.protocol import loader
    from recovery.schedule.zones import zone_names
    from recovery.words import SLOTS

    if name == "timezone":
        return sorted(zone_names())
    if name == "protocol":
        return [entry.name for entry in loader.available()]
    if name == "time":
        return [f"{slot}=" for slot in SLOTS]
    if name not in ("variant", "set", "actual"):
        return []
    try:
        protocol = loader.load(str(ctx.params.get("protocol") or ctx.params.get("reference") or DEFAULT_PROTOCOL))
    except RecoveryError:
        return []
    if name == "variant":
        return list(protocol.variants)
    if name == "set":
        return [f"{parameter}=" for parameter in protocol.parameters]
    return [f"{milestone.id}=" for milestone in protocol.milestones]


class ProtocolType(click.ParamType[str]):
    """A protocol name or a path to a .toml file; the shell completes names and paths."""

    name = "PROTOCOL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        return str(PATH_TEXT.convert(value, param, ctx))

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        from click.shell_completion import CompletionItem  # only when a shell asks

        names = [CompletionItem(name) for name in completions("protocol", ctx) if name.startswith(incomplete)]
        return [*names, CompletionItem(incomplete, type="file")]


def _path_text(value: Any) -> str:
    text = str(value)
    if CONTROL_CHARACTER.search(text):
        raise BadValueError("a control character in a path")
    if len(text) > 4096:
        raise BadValueError(f"{len(text):,} characters; at most 4,096")
    return text


def plan_option(name: str, **extra: Any) -> Callable[[Any], Any]:
    """The click option of the plan's field `name` (its parameter is the Plan's attribute)."""
    field = BY_NAME[name]
    if field.many:
        return click.option(
            f"--{field.name}",
            field.attribute,
            type=ValueType(field.metavar, field.convert),
            multiple=True,
            help=field.help,
            metavar=field.metavar,
            **extra,
        )
    if field.flag:
        return click.option(f"--{field.name}", field.attribute, is_flag=True, help=field.help, **extra)
    return click.option(
        f"--{field.name}",
        *(f"--{alias}" for alias in field.aliases),
        field.attribute,
        type=FieldType(field),
        multiple=field.pairs,
        help=field.help,
        metavar=field.metavar,
        **extra,
    )


DATE = ValueType("YYYY-MM-DD", to_date)
PATH_TEXT = ValueType("TEXT", _path_text)
PROTOCOL = ProtocolType()
