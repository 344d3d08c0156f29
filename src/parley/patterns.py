"""Regular expressions people write (scenario expectations, procedure checks, limits), run with a
time limit.

Python's `re` backtracks without bound: `(a|aa)+$` on sixty a's and a "!" runs for minutes, and a
procedure check runs on the live event loop between two clauses of a reply. The `regex` engine
accepts the same syntax and stops a search after `TIME_LIMIT_S`. A pattern is refused when it is
loaded if it already overruns on short probe texts; one that still overruns at run time raises
`PatternTimeout`, which the live path logs and treats as no match (`Conversation`), so a bad pattern
costs at most one time limit per search, never a stalled call.
"""

from __future__ import annotations

import regex

from parley.errors import ParleyError

TIME_LIMIT_S = 0.05
FLAGS = regex.IGNORECASE | regex.V0  # V0: the `re` module's semantics
_PROBES = ("a" * 40 + "!", "1" * 40 + "x", "ab " * 20 + "!", " " * 40 + "x", "a1-" * 20 + "!")


class PatternTimeout(ParleyError):
    """A user-written pattern that ran past the time limit on some text."""


def validate(pattern: str) -> str:
    """The pattern, or ValueError saying why it cannot be used (syntax, or catastrophic backtracking)."""
    try:
        compiled = regex.compile(pattern, FLAGS)
    except regex.error as exc:
        raise ValueError(f"not a valid regular expression {pattern!r}: {exc}") from None
    for probe in _PROBES:
        try:
            compiled.search(probe, timeout=TIME_LIMIT_S)
        except TimeoutError:
            raise ValueError(f"the regular expression {pattern!r} takes over {TIME_LIMIT_S * 1000:.0f} ms on a "
                             f"{len(probe)}-character text (nested repetition such as (a+)+ backtracks without "
                             "end); rewrite it") from None
    return pattern


def compile(pattern: str, flags: int = FLAGS) -> regex.Pattern:  # noqa: A001 - the module's verb
    return regex.compile(pattern, flags)


def finditer(pattern: regex.Pattern | str, text: str) -> list:
    """All matches, or PatternTimeout."""
    p = _compiled(pattern)
    return _timed(p, text, lambda: list(p.finditer(text, timeout=TIME_LIMIT_S)))


def search(pattern: regex.Pattern | str, text: str) -> bool:
    """Does `pattern` match somewhere in `text` (case-insensitive)? PatternTimeout if it ran past the limit."""
    p = _compiled(pattern)
    return _timed(p, text, lambda: p.search(text, timeout=TIME_LIMIT_S) is not None)


def _compiled(pattern: regex.Pattern | str) -> regex.Pattern:
    return pattern if isinstance(pattern, regex.Pattern) else regex.compile(pattern, FLAGS)


def _timed(p: regex.Pattern, text: str, run):
    try:
        return run()
    except TimeoutError:
        raise PatternTimeout(f"the pattern {p.pattern!r} ran over {TIME_LIMIT_S * 1000:.0f} ms on "
                             f"{len(text)} characters; rewrite it without nested repetition.") from None
