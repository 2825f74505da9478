"""The checks every public entry point makes on its arguments, written once for both backends.

Each check returns the value (converted where a URL gives text) or raises
:class:`~taskorch.InvalidArgumentError` naming the argument. The engine's hot paths (claim,
complete, get) test the common case inline, ``type(x) is int and 0 < x <= MAX_ID``, and call
these only to build the error or to accept a less common type; so a check costs a type test and a
comparison, no allocation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .errors import InvalidArgumentError

#: Ids are SQL BIGINTs on PostgreSQL and 64-bit integers on SQLite; 0 and negatives are never ids.
MAX_ID = 2**63 - 1
#: The longest lease, timeout or interval accepted: long enough for "a year" (perfkit holds a task
#: that long), short enough that adding it to a clock's reading stays finite and exact to the ms.
MAX_SECONDS = 1e9
#: The longest busy or statement timeout: SQLite and PostgreSQL take these in milliseconds in a C
#: int, and a larger value overflows (SQLite then gives up at once, PostgreSQL refuses it).
MAX_DB_TIMEOUT = 2_147_483


def _describe(value: object) -> str:
    text = repr(value)
    return f"{text[:60]}..." if len(text) > 63 else text


def task_id(value: object, argument: str = "task_id") -> int:
    """A task id: an int (not a bool) in 1..2**63-1."""
    if type(value) is int and 0 < value <= MAX_ID:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        raise InvalidArgumentError(argument, f"an id is between 1 and 2**63-1, got {value}")
    raise InvalidArgumentError(argument, f"an id must be an int, got {_describe(value)}")


def text(value: object, argument: str, *, empty: bool = False) -> str:
    """A string, non-empty unless ``empty``, without NUL (PostgreSQL cannot store one in text;
    refusing it on both backends keeps them alike)."""
    if type(value) is str or isinstance(value, str):
        if "\x00" in value:
            raise InvalidArgumentError(argument, "must not contain a NUL character ('\\x00')")
        if value or empty:
            return str(value)
        raise InvalidArgumentError(argument, "must be a non-empty string")
    what = "a string" if empty else "a non-empty string"
    raise InvalidArgumentError(argument, f"must be {what}, got {_describe(value)}")


def optional_text(value: object, argument: str) -> str | None:
    """None, or a non-empty string."""
    return None if value is None else text(value, argument)


def flag(value: object, argument: str) -> bool:
    """A bool (1 and "yes" are not)."""
    if value is True or value is False:
        return value
    raise InvalidArgumentError(argument, f"must be True or False, got {_describe(value)}")


def seconds(
    value: object,
    argument: str,
    *,
    zero: bool = False,
    high: float = MAX_SECONDS,
    parse: bool = False,
) -> float:
    """A duration: a finite number of seconds, > 0 (>= 0 with ``zero``), at most ``high``.

    Text is parsed only with ``parse`` (URL query values arrive as text); bools are refused.
    """
    t = type(value)
    if t is float or t is int:
        number: float = value  # type: ignore[assignment]
    elif parse and isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise InvalidArgumentError(
                argument, f"must be a number of seconds, got {_describe(value)}"
            ) from None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        raise InvalidArgumentError(argument, f"must be a number of seconds, got {_describe(value)}")
    # Every comparison with NaN is false, so this refuses it as well as the infinities.
    if (number >= 0 if zero else number > 0) and number <= high:
        return float(number)
    low = ">= 0" if zero else "> 0"
    raise InvalidArgumentError(argument, f"must be finite, {low} and <= {high:g}, got {number!r}")


def count(
    value: object, argument: str, *, low: int = 0, high: int = MAX_ID, parse: bool = False
) -> int:
    """An int (not a bool) in ``low..high``; text is parsed only with ``parse``."""
    if parse and isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise InvalidArgumentError(
                argument, f"must be an integer, got {_describe(value)}"
            ) from None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidArgumentError(argument, f"must be an integer, got {_describe(value)}")
    if low <= value <= high:
        return int(value)
    raise InvalidArgumentError(argument, f"must be between {low} and {high}, got {value}")


def choice(value: object, argument: str, allowed: Iterable[str]) -> str:
    """One of ``allowed``."""
    options = tuple(allowed)
    if isinstance(value, str) and value in options:
        return value
    raise InvalidArgumentError(
        argument, f"must be one of {', '.join(options)}, got {_describe(value)}"
    )


def callable_(value: object, argument: str) -> Callable[..., Any]:
    if callable(value):
        return value
    raise InvalidArgumentError(argument, f"must be callable, got {_describe(value)}")


def artifacts(value: object) -> list[Any] | tuple[Any, ...]:
    """A list or tuple of artifacts, or a list of them from any other iterable but a string, bytes
    or a mapping (each of which would be taken apart silently). A list or tuple is passed through
    uncopied: it is only encoded."""
    t = type(value)
    if t is list or t is tuple:
        return value  # type: ignore[return-value]
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, bytearray, Mapping)):
        return list(value)
    raise InvalidArgumentError(
        "artifacts", f"must be a list of JSON values, got {_describe(value)}"
    )


def lone_surrogate(value: object) -> str | None:
    """Why UTF-8 cannot encode the text ``value`` (it holds a lone surrogate, e.g. from
    undecodable bytes on a command line); None when it can, or is not text."""
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError as exc:
            return (
                f"must be valid Unicode text; it holds a lone surrogate ({value[exc.start]!r} at"
                f" index {exc.start}), which UTF-8 cannot encode"
            )
    return None


def unencodable(error: UnicodeEncodeError, arguments: Mapping[str, object]) -> Exception:
    """What to raise once writing ``arguments`` (name -> text as written) raised ``error``: an
    :class:`~taskorch.InvalidArgumentError` naming the first that UTF-8 cannot encode, else
    ``error`` itself. The engine calls it only when the driver refused to encode a call's text,
    so correct text is never scanned."""
    for name, value in arguments.items():
        why = lone_surrogate(value)
        if why is not None:
            return InvalidArgumentError(name, why)
    return error


#: The store options both backends share, and PostgreSQL's own, each with its rule. A value from a
#: URL's query is text and is parsed by the same rule as a keyword's.
STORE_OPTIONS: dict[str, Callable[[object, str], object]] = {
    "durability": lambda v, a: choice(v, a, ("normal", "full", "off")),
    "busy_timeout": lambda v, a: seconds(v, a, zero=True, high=MAX_DB_TIMEOUT, parse=True),
    "schema": lambda v, a: text(v, a),
    "pool_size": lambda v, a: count(v, a, low=1, high=10_000, parse=True),
    "pool_timeout": lambda v, a: seconds(v, a, parse=True),
    "connect_timeout": lambda v, a: seconds(v, a, parse=True),
    "statement_timeout": lambda v, a: seconds(v, a, zero=True, high=MAX_DB_TIMEOUT, parse=True),
}


def store_option(name: str, value: object) -> Any:
    """``value`` of the store option ``name``, checked (and parsed when it is text)."""
    return STORE_OPTIONS[name](value, name)
