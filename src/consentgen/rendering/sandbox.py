"""The sandbox templates run in: Jinja2's immutable sandbox, with a budget for every render.

On top of Jinja's sandbox (no private or internal attributes, and here no changes to lists and
dicts, which the law and the request are made of):

- every render has a budget (`Limits`): steps (loop turns, calls, lookups, filters, output),
  a wall-clock deadline as a backstop, and a size for every value a template builds (ranges,
  texts, lists, numbers, formatted widths) and for all it writes; a value is refused *before*
  it is built where its size can be known;
- the filters accept only the kinds of value they are for;
- a template that fails, for whatever reason, is one UserError naming its file and line;
- nothing compiled is cached on disk: templates are compiled from their source every run, except
  the built-in ones a wheel ships compiled (rendering/compiled.py: installed package code, used only
  for the very source, Jinja2 and consentgen it was generated from).
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import os
import posixpath
import re
import time
import types
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from jinja2 import (
    FileSystemLoader,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    nodes,
)
from jinja2.compiler import CodeGenerator, optimizeconst
from jinja2.loaders import split_template_path
from jinja2.sandbox import (
    ImmutableSandboxedEnvironment,
    SandboxedFormatter,
    SecurityError,
    _mutable_spec,
    is_internal_attribute,
    modifies_known_mutable,
)
from jinja2.utils import _PassArg, pass_context
from markupsafe import EscapeFormatter, Markup

from consentgen.errors import Problem, UserError
from consentgen.model import Document
from consentgen.rendering import compiled
from consentgen.values import FrozenValue, frozen_value

# --- Limits of a render -----------------------------------------------------------------------


@frozen_value(kw_only=False)
class Limits(FrozenValue):
    """What one render of one template may use. The largest built-in document needs a small
    fraction of each (a test checks it); tests lower them to hit a limit fast."""

    steps: int = 250_000  # loop turns, calls, lookups, operators, filters, buffered outputs
    seconds: float = 5.0  # wall clock, a backstop to the steps
    range: int = 10_000  # items of one range()
    length: int = 1_000_000  # characters or items of any value a template builds
    output: int = 4_000_000  # characters one render writes, nested blocks and macros included
    int_bits: int = 10_000  # size of a number a template computes (about 3,000 digits)
    width: int = 10_000  # a width or precision in a format
    depth: int = 40  # macro calls inside macro calls
    file_bytes: int = 2 * 1024 * 1024  # a template file


LIMITS = Limits()


class TemplateLimit(Exception):
    """A render went over one of its `Limits` (raised inside template code)."""


class TemplateFailure(UserError):
    """A template failed (`limit`: it went over a limit); the message names its file and line."""

    def __init__(self, message: str, path: str, line: int | None, limit: bool = False) -> None:
        super().__init__(message, problems=(Problem(path, line or 1, 1, "error", message,
                                                    "CG302"),))  # fmt: skip
        self.path = path
        self.line = line
        self.limit = limit

    def __reduce__(self) -> tuple[Any, ...]:  # crosses process boundaries whole
        return (type(self), (self.message, self.path, self.line, self.limit))


class _Budget:
    """One render's budget. A step is `steps -= 1`; every 256 steps `check()` looks at the total
    and the clock (so a budget is rounded up to a multiple of 256)."""

    __slots__ = ("deadline", "depth", "limits", "output", "steps")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.steps = max(256, -(-limits.steps // 256) * 256)
        self.output = limits.output
        self.depth = 0
        self.deadline = time.monotonic() + limits.seconds

    def tick(self) -> None:
        self.steps -= 1
        if not self.steps & 255:
            self.check()

    def check(self) -> None:
        if self.steps <= 0:
            raise TemplateLimit(
                f"the template went over its budget of {self.limits.steps:,} steps (loop turns, "
                "calls, lookups, output)"
            )
        if time.monotonic() > self.deadline:
            raise TemplateLimit(f"the template took longer than {self.limits.seconds:g} s")


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "consentgen_template_budget", default=None
)


def _tick() -> Limits:
    budget = _BUDGET.get()
    if budget is None:  # outside a render (Jinja folding constants at compile time)
        return LIMITS
    budget.tick()
    return budget.limits


_SIZED = (str, bytes, bytearray, list, tuple, dict, set, frozenset)
_SEQUENCES = (str, bytes, bytearray, list, tuple)


def _too_long(size: int, limits: Limits) -> TemplateLimit:
    return TemplateLimit(
        f"the template builds a value of {size:,} characters or items (at most {limits.length:,})"
    )


def _checked(value: Any, limits: Limits) -> Any:
    """`value`, if it is within the size limits."""
    if isinstance(value, _SIZED):
        if len(value) > limits.length:
            raise _too_long(len(value), limits)
    elif type(value) is int and value.bit_length() > limits.int_bits:
        raise _big_number(limits)
    return value


def _big_number(limits: Limits) -> TemplateLimit:
    return TemplateLimit(f"the template computes a number of more than {limits.int_bits:,} bits")


def _check_number(value: Any, limits: Limits) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > limits.length:
        raise TemplateLimit(f"the template passes a number larger than {limits.length:,} where "
                            "a size is meant")  # fmt: skip


_PERCENT = re.compile(r"%(\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.?)", re.DOTALL)


def _check_width(digits: str | None, limits: Limits) -> int:
    if not digits:
        return 0
    if digits == "*" or len(digits) > 9 or int(digits) > limits.width:
        raise TemplateLimit(f"the template formats with a width or precision of '{digits[:12]}' "
                            f"(at most {limits.width:,}, and no '*')")  # fmt: skip
    return int(digits)


def _check_percent(fmt: str, args: Any, limits: Limits) -> None:
    """`fmt % args` stays within the size limit (checked before it is built)."""
    fields = 0
    widest = 0
    for match in _PERCENT.finditer(fmt):
        if match.group(4) == "%":
            continue
        fields += 1
        widest = max(widest, _check_width(match.group(2), limits),
                     _check_width(match.group(3), limits))  # fmt: skip
    if isinstance(args, Mapping):
        values: Iterable[Any] = args.values()
    elif isinstance(args, tuple):
        values = args
    else:
        values = (args,)
    longest = max((len(v) if isinstance(v, str) else len(str(v)) for v in values), default=0)
    size = len(fmt) + fields * max(longest, widest)
    if size > limits.length:
        raise _too_long(size, limits)


def _replace_size(text: Any, old: Any, new: Any, count: Any = -1) -> int:
    if not isinstance(text, str | bytes) or not isinstance(new, str | bytes):
        return 0
    if not isinstance(old, str | bytes):
        return 0
    times = len(text) + 1 if not old else len(text) // len(old)
    if isinstance(count, int) and count >= 0:
        times = min(times, count)
    return len(text) + times * len(new)


def _join_size(separator: Any, items: list[Any] | tuple[Any, ...]) -> int:
    parts = sum(len(i) if isinstance(i, str | bytes) else len(str(i)) for i in items)
    return parts + len(separator) * max(len(items) - 1, 0)


def _check_call(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any], limits: Limits) -> tuple:
    """Refuse a call of a built-in method that would build a value over the limits."""
    if not isinstance(obj, types.BuiltinMethodType):
        return args
    for value in (*args, *kwargs.values()):
        _check_number(value, limits)
    owner = getattr(obj, "__self__", None)
    if not isinstance(owner, str | bytes | bytearray):
        return args
    name = obj.__name__
    size = 0
    if name == "replace" and len(args) >= 2:
        size = _replace_size(owner, *args[:3])
    elif name == "expandtabs":
        tab = args[0] if args else kwargs.get("tabsize", 8)
        size = len(owner) * tab if isinstance(tab, int) else 0
    elif name == "join" and args:
        items = tuple(args[0]) if not isinstance(args[0], list | tuple) else args[0]
        _checked(items, limits)
        size = _join_size(owner, items)
        args = (items, *args[1:])
    elif name == "translate" and args and isinstance(args[0], Mapping):
        longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
        size = len(owner) * max(longest, 1)
    if size > limits.length:
        raise _too_long(size, limits)
    return args


def _check_binop(operator: str, left: Any, right: Any, limits: Limits) -> None:
    """Refuse an operation whose result would be over the limits, before it is computed."""
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if (
                isinstance(seq, _SEQUENCES)
                and isinstance(times, int)
                and (len(seq) * times > limits.length)
            ):
                raise _too_long(len(seq) * times, limits)
        if (isinstance(left, int) and isinstance(right, int)
                and left.bit_length() + right.bit_length() > limits.int_bits + 1):  # fmt: skip
            raise _big_number(limits)
    elif operator == "**":
        if (isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1
                and max(right, right * (left.bit_length() - 1)) > limits.int_bits):  # fmt: skip
            raise _big_number(limits)
    elif operator == "+":
        if (isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES)
                and len(left) + len(right) > limits.length):  # fmt: skip
            raise _too_long(len(left) + len(right), limits)
    elif operator == "%" and isinstance(left, str):
        _check_percent(left, right, limits)


def _output(text: str) -> str:
    """Every output of a template goes through this (`environment.cg_output`): a step, and
    its characters counted."""
    budget = _BUDGET.get()
    if budget is not None:
        budget.steps -= 1
        if not budget.steps & 255:
            budget.check()
        budget.output -= len(text)
        if budget.output < 0:
            raise TemplateLimit(f"the template writes more than {budget.limits.output:,} "
                                "characters")  # fmt: skip
    return text


def _range(*args: Any) -> range:
    """range(), refused above `Limits.range` items."""
    limits = _tick()
    numbers = range(*args)
    try:
        size = len(numbers)
    except OverflowError:
        size = limits.range + 1
    if size > limits.range:
        raise TemplateLimit(f"the template asks for a range of {size:,} items (at most "
                            f"{limits.range:,})")  # fmt: skip
    return numbers


ITERATE_FILTER = "cg_loop_steps"  # the filter every `{% for %}` loop's items go through


def count_iteration(iterable: Any) -> Iterator[Any]:
    """Every `{% for %}` loop goes through this: each turn is a step."""
    budget = _BUDGET.get()
    if budget is None:
        yield from iterable
        return
    for item in iterable:
        budget.steps -= 1
        if not budget.steps & 255:
            budget.check()
        yield item


class _CheckedFormatter(SandboxedFormatter):
    """str.format in templates: the sandbox's attribute rules, plus widths and size in limits."""

    _left = 0

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        limits = _tick()
        self._limits = limits
        self._left = limits.length - len(format_string)
        return super().vformat(format_string, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> Any:
        for digits in re.findall(r"\d+", format_spec):
            _check_width(digits, self._limits)
        result = super().format_field(value, format_spec)
        self._left -= len(result)
        if self._left < 0:
            raise _too_long(self._limits.length - self._left, self._limits)
        return result


class _CheckedEscapeFormatter(_CheckedFormatter, EscapeFormatter):
    pass


class _CodeGenerator(CodeGenerator):
    """Jinja's code, with every `~` concatenation, and every output into a buffer (a macro, a
    `{% set %}` or `{% filter %}` block), counted against the budget; what the template writes
    at its top level is counted as it is joined (`_Template.render`)."""

    _cg_buffered = False

    def visit_Output(self, node: nodes.Output, frame: Any) -> None:
        self._cg_buffered = frame.buffer is not None
        super().visit_Output(node, frame)

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        text = super()._output_const_repr(group)
        return f"environment.cg_output({text})" if self._cg_buffered else text

    def _output_child_pre(self, node: Any, frame: Any, finalize: Any) -> None:
        if self._cg_buffered:
            self.write("environment.cg_output(")
        super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node: Any, frame: Any, finalize: Any) -> None:
        super()._output_child_post(node, frame, finalize)
        if self._cg_buffered:
            self.write(")")

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Any) -> None:
        if frame.eval_ctx.volatile:
            func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            func_name = "markup_join"
        else:
            func_name = "str_join"
        self.write(f"environment.cg_concat({func_name}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


_SAFE_MESSAGES = (ArithmeticError, TypeError, AttributeError, IndexError, RecursionError)


def _one_line(text: str, limit: int = 300) -> str:
    text = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _where(exc: BaseException, fallback: str) -> tuple[str, int | None]:
    """The template file and line an exception was raised in (Jinja rewrites the traceback so
    that template frames carry the template's file name and line)."""
    if isinstance(exc, TemplateSyntaxError):
        return exc.filename or exc.name or fallback, exc.lineno
    path, line = fallback, None
    tb = exc.__traceback__
    while tb is not None:
        if "__jinja_exception__" in tb.tb_frame.f_globals:
            path, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
        tb = tb.tb_next
    return path, line


def template_error(
    exc: BaseException, name: str, line: int | None = None, names: Iterable[str] = ()
) -> UserError:  # fmt: skip
    """One line naming the template (file and line where known), what went wrong and what to do.

    Messages of errors that may quote a value (a ValueError, a KeyError...) are not shown: a
    template that sees clients' names could put one there.
    """
    if isinstance(exc, UserError):
        return exc
    path, found = _where(exc, name)
    line = found or line
    where = f"{path}:{line}" if line else path
    limit = False
    if isinstance(exc, TemplateSyntaxError):
        what, todo = f"template syntax error: {exc.message}", "fix the template"
    elif isinstance(exc, TemplateLimit):
        what, limit = str(exc), True
        todo = "make the template do less (smaller loops, ranges and texts) or remove the override"
    elif isinstance(exc, SecurityError):
        what = f"the template tried an unsafe operation and was refused: {exc}"
        todo = "remove it from the template"
    elif isinstance(exc, TemplateNotFound):
        what, todo = f"template {exc.name} not found", "check --data-dir templates"
    elif isinstance(exc, RecursionError):
        what = "the template calls itself too deep (a macro or include without an end)"
        todo = "fix the template or remove the override"
    elif isinstance(exc, MemoryError):
        what, todo = "the template builds a value too large for memory", "fix the template"
    elif isinstance(exc, TemplateError):
        what = f"the template failed: {exc.message or type(exc).__name__}"
        todo = "fix the template or remove the override"
    elif isinstance(exc, _SAFE_MESSAGES):
        what = f"the template failed: {type(exc).__name__}: {exc}"
        todo = "fix the template or remove the override"
    else:
        what = f"the template failed with a {type(exc).__name__}"
        todo = "fix the template or remove the override"
    for person in sorted(names, key=len, reverse=True):  # a client's name never in a message
        for form in {person, " ".join(person.split())}:
            if len(form) > 1:
                what = what.replace(form, "[a client's name]")
    message = _one_line(f"{where}: {_one_line(what, 240)}; {todo}", 400)
    return TemplateFailure(message, path, line, limit=limit)


def _client_names(context: Mapping[str, Any]) -> tuple[str, ...]:
    """The clients' names a template was given (the document's signature lines)."""
    doc = context.get("doc")
    signatures = getattr(doc, "signatures", ()) if isinstance(doc, Document) else ()
    return tuple(sig.name for sig in signatures if isinstance(sig.name, str) and sig.name)


class _Template(Template):
    def render(self, *args: Any, **kwargs: Any) -> str:
        """Render within a fresh budget; any failure is one TemplateFailure.

        What the template writes at its top level is counted here, as it is joined (what it
        writes into a macro or a block is counted as it is written, by `_output`)."""
        if _BUDGET.get() is not None:  # rendered from inside another render: its budget
            return super().render(*args, **kwargs)
        budget = _Budget(LIMITS)
        token = _BUDGET.set(budget)
        name = self.filename or self.name or "template"
        try:
            chunks = self.root_render_func(self.new_context(dict(*args, **kwargs)))
            try:
                out = []
                for chunk in chunks:
                    budget.output -= len(chunk)
                    if budget.output < 0:
                        break
                    out.append(chunk)
                else:
                    return self.environment.concat(out)  # type: ignore[attr-defined,no-any-return]
            except Exception:
                self.environment.handle_exception()
            frame = chunks.gi_frame
            line = self.get_corresponding_lineno(frame.f_lineno) if frame is not None else None
            chunks.close()
            limit = TemplateLimit(f"the template writes more than {budget.limits.output:,} "
                                  "characters")  # fmt: skip
            raise template_error(limit, name, line)
        except UserError:
            raise
        except Exception as exc:
            names = _client_names(dict(*args, **kwargs))
            raise template_error(exc, name, names=names) from None
        finally:
            _BUDGET.reset(token)


class Loader(FileSystemLoader):
    """Template files: read whole, at most `Limits.file_bytes`, UTF-8; a file that cannot be read
    is one line. Each template keeps the checksum of the source it was compiled from. A built-in
    template (`builtin`: the installed templates folder, last in the search) may come compiled
    with the wheel (rendering/compiled.py), when it was compiled from this very source."""

    def __init__(self, searchpath: str, builtin: bool = False) -> None:
        super().__init__(searchpath)
        self.builtin = builtin  # consentgen's own templates folder (never a --data-dir one)

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Any]:
        pieces = split_template_path(template)
        for searchpath in self.searchpath:
            filename = posixpath.join(searchpath, *pieces)
            if os.path.isfile(filename):
                break
        else:
            raise TemplateNotFound(template)
        filename = os.path.normpath(filename)
        limit = LIMITS.file_bytes
        try:
            with open(filename, "rb") as fh:
                data = fh.read(limit + 1)
            mtime = os.path.getmtime(filename)
        except OSError as exc:
            raise TemplateFailure(f"{filename}: the template cannot be read "
                                  f"({exc.strerror or type(exc).__name__}); check its permissions "
                                  "or remove it", filename, None) from None  # fmt: skip
        if len(data) > limit:
            raise TemplateFailure(f"{filename}: the template is larger than {limit // 1024} KiB",
                                  filename, None)  # fmt: skip
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise TemplateFailure(f"{filename}:{line}: the template is not UTF-8 text; save it "
                                  "as UTF-8", filename, line) from None  # fmt: skip

        def uptodate() -> bool:
            try:
                return os.path.getmtime(filename) == mtime
            except OSError:
                return False

        return source, filename, uptodate

    def load(self, environment: Any, name: str, globals: Any = None) -> Template:
        source, filename, uptodate = self.get_source(environment, name)
        sha256 = hashlib.sha256(source.encode("utf-8")).digest()
        globals = globals if globals is not None else {}
        template = None
        if self.builtin:  # compiled when the wheel was built, from this very source
            code = compiled.code_for(environment, name, sha256)
            if code is not None:
                template = environment.template_class.from_code(environment, code, globals,
                                                                uptodate)  # fmt: skip
                if not compiled.matches(template.root_render_func.__globals__, environment,
                                        name, sha256):  # fmt: skip
                    template = None
        if template is None:  # compiled from its source: never from a cache on disk
            code = _compile(environment, source, name, filename, sha256)
            template = environment.template_class.from_code(environment, code, globals, uptodate)
        template.filename = filename  # error messages name the template file, not the module
        template._cg_source = source  # type: ignore[attr-defined]
        template._cg_sha256 = sha256  # type: ignore[attr-defined]
        return template


# Code compiled in this process, by template, source and the environment settings that shape
# it (compiled.profile): in memory only, so a long-lived process (lint's workers, a batch, the
# API, an editable install's tests) compiles each template once, not once an environment.
_CODE: dict[tuple[str, str, bytes, str], types.CodeType] = {}


def _compile(env: Any, source: str, name: str, filename: str, sha256: bytes) -> types.CodeType:
    key = (name, filename, sha256, compiled.profile(env))
    code = _CODE.get(key)
    if code is None:
        code = env.compile(source, name, filename)
        if len(_CODE) >= 256:
            _CODE.clear()
        _CODE[key] = code
    return code


_METHOD_TYPES = frozenset((types.MethodType, types.BuiltinMethodType))
_FORMATS = frozenset(("format", "format_map"))
# Names of the methods that change a list, dict, set or deque (the sandbox refuses them).
_MUTATING = frozenset(name for _, names in _mutable_spec for name in names)
_SAFE_ATTRIBUTES: dict[tuple[type, str], bool] = {}


class Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox (lists and dicts read-only) with a budget on every operation."""

    intercepted_binops = frozenset(("+", "-", "*", "/", "//", "%", "**"))
    code_generator_class = _CodeGenerator
    template_class = _Template

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals["range"] = _range
        self.cg_output = _output  # an instance attribute: no method binding per output
        self.globals.pop("lipsum", None)  # placeholder text has no place in a consent form

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in list(tree.find_all(nodes.For)):
            counted = nodes.Filter(loop.iter, ITERATE_FILTER, [], [], None, None,
                                   lineno=loop.iter.lineno)  # fmt: skip
            counted.set_environment(self)
            loop.iter = counted
        return tree

    def compile(self, source: Any, name: str | None = None, filename: str | None = None,
                raw: bool = False, defer_init: bool = False) -> Any:  # fmt: skip
        try:
            return super().compile(source, name, filename, raw, defer_init)
        except TemplateSyntaxError as exc:
            raise template_error(exc, filename or name or "template") from None

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # The answer depends only on the object's type and the name (Jinja's checks are
        # isinstance tests), and a template asks it hundreds of times a render.
        key = (type(obj), attr)
        safe = _SAFE_ATTRIBUTES.get(key)
        if safe is None:
            safe = not (attr[:1] == "_" or is_internal_attribute(obj, attr)) and (
                attr not in _MUTATING or not modifies_known_mutable(obj, attr)
            )
            if len(_SAFE_ATTRIBUTES) < 4096:
                _SAFE_ATTRIBUTES[key] = safe
        return safe

    def getattr(self, obj: Any, attribute: str) -> Any:
        budget = _BUDGET.get()
        if budget is not None:
            budget.steps -= 1
            if not budget.steps & 255:
                budget.check()
        try:
            value = getattr(obj, attribute)
        except AttributeError:
            try:
                return obj[attribute]
            except (TypeError, LookupError):
                pass
        else:
            if type(value) in _METHOD_TYPES and value.__name__ in _FORMATS:
                fmt = self.wrap_str_format(value)
                if fmt is not None:
                    return fmt
            # is_safe_attribute's stored answer, looked up here: a render reads hundreds.
            safe = _SAFE_ATTRIBUTES.get((type(obj), attribute))
            if safe or (safe is None and self.is_safe_attribute(obj, attribute, value)):
                return value
            return self.unsafe_undefined(obj, attribute)
        return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _tick()
        return super().getitem(obj, argument)

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        budget = _BUDGET.get()
        limits = LIMITS if budget is None else budget.limits
        if not self.is_safe_callable(obj):
            raise SecurityError(f"{type(obj).__name__} object is not safely callable")
        if type(obj) in _METHOD_TYPES:
            args = _check_call(obj, args, kwargs, limits)
        if budget is None:
            return _checked(context.call(obj, *args, **kwargs), limits)
        budget.steps -= 1
        if not budget.steps & 255:
            budget.check()
        budget.depth += 1
        try:
            if budget.depth > limits.depth:
                raise TemplateLimit(f"the template's calls nest more than {limits.depth} deep "
                                    "(a macro that calls itself without end?)")  # fmt: skip
            return _checked(context.call(obj, *args, **kwargs), limits)
        finally:
            budget.depth -= 1

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        limits = _tick()
        _check_binop(operator, left, right, limits)
        return _checked(self.binop_table[operator](left, right), limits)

    def cg_concat(self, join: Any, items: tuple[Any, ...]) -> Any:
        limits = _tick()
        size = sum(len(i) for i in items if isinstance(i, str))
        if size > limits.length:
            raise _too_long(size, limits)
        return _checked(join(items), limits)

    def wrap_str_format(self, value: Any) -> Any:
        if type(value) not in _METHOD_TYPES or value.__name__ not in _FORMATS:
            return None
        text = value.__self__
        if not isinstance(text, str):
            return None
        kind = type(text)
        is_map = value.__name__ == "format_map"
        formatter: _CheckedFormatter = (
            _CheckedEscapeFormatter(self, escape=text.escape)
            if isinstance(text, Markup)
            else _CheckedFormatter(self)
        )

        def checked_format(*args: Any, **kwargs: Any) -> str:
            if is_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                kwargs, args = args[0], ()
            return kind(formatter.vformat(text, args, kwargs))

        return functools.update_wrapper(checked_format, value)


def bounded_filter(name: str, func: Any) -> Any:
    """A filter that counts as a step, refuses arguments that would build a value over the
    limits, and whose result is checked. It takes the context, so Jinja never runs it at compile
    time (outside any budget) to fold a constant."""
    pass_arg = _PassArg.from_obj(func)
    sizing = name in _SIZING_FILTERS

    @pass_context
    def bounded(context: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        limits = _tick()
        if args or kwargs or sizing:  # else there is nothing to check (most filters, most calls)
            value = _check_filter(name, value, args, kwargs, limits)
        if pass_arg is None:
            result = func(value, *args, **kwargs)
        elif pass_arg is _PassArg.context:
            result = func(context, value, *args, **kwargs)
        elif pass_arg is _PassArg.eval_context:
            result = func(context.eval_ctx, value, *args, **kwargs)
        else:
            result = func(context.environment, value, *args, **kwargs)
        return _checked(result, limits)

    bounded.__name__ = bounded.__qualname__ = f"{name}_filter"
    return bounded


def _argument(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str,
              default: Any) -> Any:  # fmt: skip
    return args[index] if len(args) > index else kwargs.get(name, default)


_SIZING_FILTERS = frozenset(
    ("join", "format", "replace", "indent", "wordwrap", "urlize", "slice", "batch")
)
_SLOW_TEXT = 100_000  # characters: wordwrap and urlize of more take seconds in one step


def _check_filter(name: str, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                  limits: Limits) -> Any:  # fmt: skip
    for arg in args:
        _check_number(arg, limits)
    for arg in kwargs.values():
        _check_number(arg, limits)
    if name not in _SIZING_FILTERS:
        return value
    size = 0
    if name == "join":
        if not isinstance(value, list | tuple):
            value = list(value) if isinstance(value, Iterable) else value
        if isinstance(value, list | tuple):
            _checked(value, limits)
            separator = _argument(args, kwargs, 0, "d", "")
            size = _join_size(separator if isinstance(separator, str) else "", value)
    elif name == "format" and isinstance(value, str):
        _check_percent(value, kwargs or args, limits)
    elif name == "replace":
        size = _replace_size(str(value), *args[:3])
    elif name == "indent":
        text = str(value)
        width = _argument(args, kwargs, 0, "width", 4)
        per_line = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
        size = len(text) + (text.count("\n") + 1) * max(per_line, 0)
    elif name == "wordwrap":
        text = str(value)
        if len(text) > _SLOW_TEXT:  # textwrap slows down faster than the text grows
            raise TemplateLimit(f"the template wraps a text of {len(text):,} characters (at most "
                                f"{_SLOW_TEXT:,})")  # fmt: skip
        width = _argument(args, kwargs, 0, "width", 79)
        wrap = _argument(args, kwargs, 2, "wrapstring", "\n")
        lines = len(text) // max(width if isinstance(width, int) else 1, 1) + 1
        size = len(text) + lines * (len(wrap) if isinstance(wrap, str) else 1)
    elif name == "urlize" and len(str(value)) > _SLOW_TEXT:
        raise TemplateLimit(f"the template urlizes a text of {len(str(value)):,} characters (at "
                            f"most {_SLOW_TEXT:,})")  # fmt: skip
    elif name in ("slice", "batch"):
        count = _argument(args, kwargs, 0, "slices" if name == "slice" else "linecount", 1)
        if isinstance(count, int) and count > limits.range:
            raise TemplateLimit(f"the template asks for {count:,} {name}s (at most "
                                f"{limits.range:,})")  # fmt: skip
    if size > limits.length:
        raise _too_long(size, limits)
    return value
