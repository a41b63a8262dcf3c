"""Render outreach email templates safely (DESIGN §5).

Templates are written by team members, so they are treated as untrusted:

- they run in Jinja2's ImmutableSandboxedEnvironment with a StrictUndefined
  whose message names the merge field (``missing merge field "contact.first_name"``);
- before compiling, the parsed template is checked against a small whitelist
  of node types: merge fields (``contact.first_name``), text, ``if``/``else``,
  comparisons, ``~`` and a few string filters. Calls, loops, macros,
  arithmetic, assignments, item access, includes and underscore attributes are refused, so
  a template costs time and memory linear in its size and cannot reach
  Python internals (``''.__class__``, ``|attr``, ``str.format``, ``range``);
- source and output sizes are capped, and a rendered subject must be one line
  without control characters.

Every failure is a ``TemplateProblem`` carrying a one-line reason; a touch
whose template fails is blocked with that reason and never sent.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from crm.outreach.merge_fields import ALL_PATHS, FIELDS_BY_ROOT, MERGE_ROOTS, SAMPLE_CONTEXT

MAX_SUBJECT_SOURCE = 500
MAX_BODY_SOURCE = 20_000
MAX_SUBJECT_OUTPUT = 250
MAX_BODY_OUTPUT = 60_000


# Filters and tests a template may use: string shaping only, none that can
# multiply the size of their input by an argument (center, format, indent,
# replace, wordwrap) or reach objects (attr, map, selectattr).
_ALLOWED_FILTERS = (
    "default",
    "d",
    "lower",
    "upper",
    "title",
    "capitalize",
    "trim",
    "truncate",
    "urlencode",
)
_ALLOWED_TESTS = ("defined", "undefined", "none", "eq", "ne", "string")

_ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Const,
    nodes.Name,
    nodes.Getattr,
    nodes.Filter,
    nodes.Test,
    nodes.If,
    nodes.CondExpr,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Compare,
    nodes.Operand,
    nodes.Concat,
    nodes.Keyword,
    nodes.Tuple,
    nodes.List,
)

_REFUSED_NODE_REASONS: dict[type[nodes.Node], str] = {
    nodes.Call: "function and method calls are not allowed",
    nodes.For: "loops are not allowed",
    nodes.Macro: "macros are not allowed",
    nodes.CallBlock: "macros are not allowed",
    nodes.Getitem: 'use dotted merge fields like "contact.first_name", not [ ]',
    nodes.Slice: 'use dotted merge fields like "contact.first_name", not [ ]',
    nodes.Include: "includes are not allowed",
    nodes.Import: "imports are not allowed",
    nodes.FromImport: "imports are not allowed",
    nodes.Extends: "extends is not allowed",
    nodes.Block: "blocks are not allowed",
    # Assignments would let ``{% set a = a ~ a %}`` double a value per line.
    nodes.Assign: "{% set %} is not allowed",
    nodes.AssignBlock: "{% set %} is not allowed",
}


# Unicode categories Cc (C0, DEL, C1), Zl, Zp and Cs (lone surrogates); a body
# may keep tabs and line feeds.
_LINE_BREAK_OR_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_BODY_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class TemplateProblem(ValueError):
    """A template cannot be rendered; ``str()`` is a one-line reason for people."""

    def __init__(self, reason: str, *, part: str | None = None, line: int | None = None) -> None:
        self.reason = reason
        self.part = part
        self.line = line
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = self.part or ""
        if self.line is not None:
            where = f"{where} line {self.line}".strip()
        return f"{where}: {self.reason}" if where else self.reason


class _MergeRecord:
    """The fields of one merge root; only item access, so Jinja sees no methods."""

    __slots__ = ("_root", "_values")

    def __init__(self, root: str, values: Mapping[str, str]) -> None:
        self._root = root
        self._values = dict(values)

    def __getitem__(self, name: str) -> str:
        return self._values[name]


class _MissingField(StrictUndefined):
    """StrictUndefined that names the merge field people need to fill in."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        obj = self._undefined_obj
        if isinstance(obj, _MergeRecord):
            return f'missing merge field "{obj._root}.{self._undefined_name}"'
        return f'missing merge field "{self._undefined_name}"'


_ABSENT = object()


class _MergeEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, reading a merge record's field without a failed attribute lookup first.

    The sandbox's getattr tries ``getattr(record, name)`` (an AttributeError:
    a record has no public attributes) before ``record[name]``; a field that
    is there is returned directly, the same value. Anything else, a missing
    field included, goes through the sandbox as before.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is _MergeRecord:
            value = obj._values.get(attribute, _ABSENT)
            if value is not _ABSENT:
                return value
        return super().getattr(obj, attribute)


def _make_environment() -> ImmutableSandboxedEnvironment:
    env = _MergeEnvironment(
        undefined=_MissingField,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
        cache_size=0,
    )
    env.filters = {name: env.filters[name] for name in _ALLOWED_FILTERS}
    env.tests = {name: env.tests[name] for name in _ALLOWED_TESTS}
    env.globals.clear()
    return env


_ENV = _make_environment()


def _suggest(path: str) -> str:
    tail = path.rsplit(".", 1)[-1]
    by_tail = [p for p in ALL_PATHS if p.endswith("." + tail)]
    close = by_tail or difflib.get_close_matches(path, ALL_PATHS, n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _check_tree(tree: nodes.Template, part: str) -> None:
    """Refuse every construct outside the whitelist, with the line it is on."""

    def visit(node: nodes.Node, parent: nodes.Node | None) -> None:
        line = getattr(node, "lineno", None)
        if not isinstance(node, _ALLOWED_NODES):
            reason = _REFUSED_NODE_REASONS.get(type(node))
            if reason is None:
                reason = f"{type(node).__name__.lower()} expressions are not allowed"
            raise TemplateProblem(reason, part=part, line=line)
        if isinstance(node, nodes.Getattr):
            if node.attr.startswith("_"):
                raise TemplateProblem(
                    f'"{node.attr}" is not a merge field (unsafe attribute)', part=part, line=line
                )
            if not (isinstance(node.node, nodes.Name) and node.node.name in MERGE_ROOTS):
                raise TemplateProblem(
                    f'".{node.attr}" can only follow a merge root such as "contact"',
                    part=part,
                    line=line,
                )
            root = node.node.name
            if node.attr not in FIELDS_BY_ROOT[root]:
                path = f"{root}.{node.attr}"
                raise TemplateProblem(
                    f'unknown merge field "{path}"{_suggest(path)}', part=part, line=line
                )
        elif isinstance(node, nodes.Name) and node.ctx == "load":
            if node.name in MERGE_ROOTS:
                if not isinstance(parent, nodes.Getattr):
                    raise TemplateProblem(
                        f'"{node.name}" needs a field, e.g. "{node.name}.'
                        f'{sorted(FIELDS_BY_ROOT[node.name])[0]}"',
                        part=part,
                        line=line,
                    )
            else:
                raise TemplateProblem(
                    f'unknown merge field "{node.name}"{_suggest(node.name)}',
                    part=part,
                    line=line,
                )
        elif isinstance(node, nodes.Filter) and node.name not in _ALLOWED_FILTERS:
            raise TemplateProblem(f'filter "{node.name}" is not allowed', part=part, line=line)
        elif isinstance(node, nodes.Test) and node.name not in _ALLOWED_TESTS:
            raise TemplateProblem(f'test "{node.name}" is not allowed', part=part, line=line)
        elif isinstance(node, nodes.Filter | nodes.Test) and (node.dyn_args or node.dyn_kwargs):
            raise TemplateProblem("*args and **kwargs are not allowed", part=part, line=line)
        for child in node.iter_child_nodes():
            visit(child, node)

    visit(tree, None)


@lru_cache(maxsize=512)
def _compile(source: str, part: str) -> Any:
    limit = MAX_SUBJECT_SOURCE if part == "subject" else MAX_BODY_SOURCE
    if len(source) > limit:
        raise TemplateProblem(f"template is longer than {limit} characters", part=part)
    if part == "subject" and _has_line_break_or_control(source):
        raise TemplateProblem("a subject must be one line without control characters", part=part)
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"syntax error: {exc.message}", part=part, line=exc.lineno) from None
    _check_tree(tree, part)
    try:
        return _ENV.from_string(tree)
    except TemplateError as exc:  # pragma: no cover - the whitelist makes this unreachable
        raise TemplateProblem(f"cannot compile: {exc.message}", part=part) from None


def _has_line_break_or_control(text: str) -> bool:
    return _LINE_BREAK_OR_CONTROL.search(text) is not None


def _wrap(context: Mapping[str, Mapping[str, object | None]]) -> dict[str, _MergeRecord]:
    """Turn plain nested mappings into merge records, dropping empty values.

    An empty value counts as missing, so ``Hi {{ contact.first_name }},`` blocks
    the touch instead of sending "Hi ,"; templates say what to do without a
    value with ``default`` or ``is defined``.
    """
    wrapped: dict[str, _MergeRecord] = {}
    for root, values in context.items():
        if root not in FIELDS_BY_ROOT:
            raise ValueError(f"unknown merge root {root!r}")
        clean = {}
        for name, value in values.items():
            text = "" if value is None else str(value).strip()
            if text:
                clean[name] = text
        if root == "contact" and "name" not in clean:
            full = " ".join(clean[k] for k in ("first_name", "last_name") if k in clean)
            if full:
                clean["name"] = full
        wrapped[root] = _MergeRecord(root, clean)
    return wrapped


def _render_records(source: str, part: str, records: Mapping[str, _MergeRecord]) -> str:
    template = _compile(source, part)
    limit = MAX_SUBJECT_OUTPUT if part == "subject" else MAX_BODY_OUTPUT
    chunks: list[str] = []
    size = 0
    try:
        stream: Iterator[str] = template.generate(records)
        for chunk in stream:
            size += len(chunk)
            if size > limit:
                raise TemplateProblem(f"the result is longer than {limit} characters", part=part)
            chunks.append(chunk)
    except TemplateProblem:
        raise
    except (
        TemplateError,
        ArithmeticError,
        TypeError,
        ValueError,
        LookupError,
        RecursionError,
    ) as exc:
        raise TemplateProblem(_reason(exc), part=part, line=_template_line(exc)) from None
    return "".join(chunks)


def _reason(exc: Exception) -> str:
    if isinstance(exc, UndefinedError):
        return str(exc.message)
    if isinstance(exc, SecurityError):
        return f"not allowed: {exc.message}"
    if isinstance(exc, TemplateError):
        return exc.message or type(exc).__name__
    return f"cannot render: {type(exc).__name__}"


def _template_line(exc: BaseException) -> int | None:
    """Return the template line an exception was raised on, if Jinja mapped it.

    Jinja rewrites tracebacks so the template's own frames carry its line
    numbers, under the file name "<template>".
    """
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _subject(records: Mapping[str, _MergeRecord], source: str) -> str:
    subject = _render_records(source, "subject", records)
    if _has_line_break_or_control(subject):
        raise TemplateProblem(
            "a subject must be one line without control characters", part="subject"
        )
    return subject.strip()


def _body(records: Mapping[str, _MergeRecord], source: str) -> str:
    text = _render_records(source, "body", records).replace("\r\n", "\n").replace("\r", "\n")
    if _BODY_CONTROL.search(text):
        raise TemplateProblem("the result contains control characters", part="body")
    return text.strip("\n") + "\n"


def render_subject(source: str, context: Mapping[str, Mapping[str, object | None]]) -> str:
    """Render a subject template, refusing CR/LF; an empty template renders "" (a follow-up)."""
    return _subject(_wrap(context), source)


def render_body(source: str, context: Mapping[str, Mapping[str, object | None]]) -> str:
    """Render a plain-text body template, with LF line ends and no trailing blanks."""
    return _body(_wrap(context), source)


def render_body_and_subject(
    body_source: str,
    subject_source: str | None,
    context: Mapping[str, Mapping[str, object | None]],
) -> tuple[str, str | None]:
    """Render a body, then a subject when one is given, merging the context once.

    The sender's hot path: the same as render_body and render_subject, with
    the context checked and wrapped one time instead of two.
    """
    records = _wrap(context)
    body = _body(records, body_source)
    return body, None if subject_source is None else _subject(records, subject_source)


def validate_template(
    subject: str,
    body: str,
    context: Mapping[str, Mapping[str, object | None]] | None = None,
) -> list[TemplateProblem]:
    """Return every problem of a subject and body (empty when both render).

    With ``context`` (the prospect chosen in the editor's preview) missing
    values count as problems; without it the sample context is used, so only
    mistakes in the templates themselves are reported.
    """
    ctx = SAMPLE_CONTEXT if context is None else context
    problems: list[TemplateProblem] = []
    for source, render in ((subject, render_subject), (body, render_body)):
        try:
            render(source, ctx)
        except TemplateProblem as problem:
            problems.append(problem)
    return problems
