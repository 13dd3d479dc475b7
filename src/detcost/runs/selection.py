"""Which cases a `-k` expression selects, decided in the parent as pytest decides it in the
worker: so that a launch with nothing to measure (a torchrun launch of no distributed
case, say) is never started, and a malformed expression is one line."""

from __future__ import annotations

from _pytest.mark.expression import Expression

from ..cases import Case
from ..errors import DetcostError

# The names pytest matches -k against for a case's item: its test, module and family.
TEST_NAME, MODULE_NAME = "test_case", "test_cases.py"


def keyword_filter(keyword: str | None):
    """A predicate over cases for a `-k` expression (None: every case)."""
    if not keyword or not keyword.strip():
        return lambda case: True
    try:
        expression = Expression.compile(keyword)
    except SyntaxError as exc:
        raise DetcostError(f"-k {keyword!r} is not a valid expression ({exc.msg}): use names "
                           "with and, or, not and parentheses, as pytest -k takes") from None

    def selects(case: Case) -> bool:
        names = (f"{TEST_NAME}[{case.id}]", MODULE_NAME, case.family)
        return expression.evaluate(
            lambda sub, **_: any(sub.lower() in name.lower() for name in names))

    return selects
