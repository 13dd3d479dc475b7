"""The one error type a user sees: a single line naming what is wrong and what is allowed;
and the one warning type, for damaged results that are skipped rather than fatal."""


class DetcostError(Exception):
    """Bad input from the user (name, profile, results file) or an environment that refuses
    (a read-only folder, a full disk). The CLI prints it on one line and exits with 2."""


class ResultsWarning(UserWarning):
    """A torn or corrupt line, or a whole results file, that was skipped: everything else
    stays readable. The CLI prints each on one line."""


def unknown(kind: str, value: object, allowed: "list[str] | tuple[str, ...]") -> DetcostError:
    """`unknown workload 'x' (allowed: a, b, c)`."""
    return DetcostError(f"unknown {kind} {value!r} (allowed: {', '.join(allowed)})")
