"""torch's own list of what deterministic mode changes, read from the text of
`torch.use_deterministic_algorithms.__doc__`: the ops it names, and what it says
deterministic mode does to each (makes it deterministic, or raises) and when. Text only:
the worker records the statements in every header, the report sets them against records."""

from __future__ import annotations

import re
from typing import Any

_DOC_ENTRY = re.compile(r"^\s*\* :(?:class|func|meth):`([^`]+)`", re.M)


def doc_ops(doc: str) -> list[str]:
    """The op names, in order and once each, in the bullet lists of
    `torch.use_deterministic_algorithms.__doc__`."""
    return list(dict.fromkeys(_DOC_ENTRY.findall(doc)))


DETERMINISTIC, RAISES, NOT_STATED = "deterministic", "raises", "not stated"
_RAISE_SECTION = re.compile(r"nondeterministic operations will throw a")
_BULLET = re.compile(r"^(\s*)\* :(?:class|func|meth):`([^`]+)`(.*)$")


def doc_statements(doc: str) -> list[dict[str, str]]:
    """Each bullet of `torch.use_deterministic_algorithms.__doc__`: the op, what the doc
    says deterministic mode does to it (deterministic or raises) and when (the bullet's
    text, continuation lines and sub-bullets joined into one line)."""
    statements: list[dict[str, str]] = []
    sections = _RAISE_SECTION.split(doc, maxsplit=1)
    for says, text in zip((DETERMINISTIC, RAISES), sections, strict=False):
        current, indent = None, 0
        for line in text.splitlines():
            bullet = _BULLET.match(line)
            if bullet:
                indent = len(bullet.group(1))
                current = {"op": bullet.group(2), "says": says,
                           "when": bullet.group(3).strip()}
                statements.append(current)
            elif current is not None and line.strip():
                if len(line) - len(line.lstrip()) <= indent:
                    current = None  # the paragraph after the list
                else:
                    current["when"] = f"{current['when']} {line.strip()}".strip()
    return statements


def _mentions(when: str, params: dict[str, Any]) -> bool:
    def tokens(key: str, value: Any) -> tuple[str, ...]:
        return (f"{key}={value}", f"{key}='{value}'", f"``{value}``", f"'{value}'")

    return all(any(t in when for t in tokens(k, v)) for k, v in params.items())


def doc_expectation(statements: list[dict[str, str]], op: str,
                    variant: dict[str, Any]) -> tuple[str, str]:
    """What the doc says of `op` (in `variant`) on a CUDA tensor, and the statement's text.
    Statements about CPU tensors alone are set aside; for a variant, only the statements
    that name it count."""
    mine = [s for s in statements if s["op"] == op
            and not ("CPU" in s["when"] and "CUDA" not in s["when"])]
    if variant:
        mine = [s for s in mine if _mentions(s["when"], variant)]
    if len({s["says"] for s in mine}) != 1:
        return NOT_STATED, "; ".join(s["when"] for s in mine)
    return mine[0]["says"], "; ".join(s["when"] for s in mine)
