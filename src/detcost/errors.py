"""The one error type a user sees: a single line naming what is wrong and what is allowed."""


class DetcostError(Exception):
    """Bad input from the user (name, profile, results file). The CLI prints it on one line."""


def unknown(kind: str, value: object, allowed: "list[str] | tuple[str, ...]") -> DetcostError:
    """`unknown workload 'x' (allowed: a, b, c)`."""
    return DetcostError(f"unknown {kind} {value!r} (allowed: {', '.join(allowed)})")
