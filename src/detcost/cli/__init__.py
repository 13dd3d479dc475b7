"""The command line: the parser (parser.py), one module per command, and the terminal views
(views.py). The packages each command needs are checked before its module is imported, so
that a machine without torch can still build reports, and a missing package is one line."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import warnings
from collections.abc import Sequence

from ..errors import DetcostError, ResultsWarning
from .parser import build_parser

# command -> (its module in this package, the modules it imports beyond rich)
COMMANDS = {
    "run": ("run", ("torch", "pytest_benchmark", "pandas", "plotly", "filelock")),
    "validate": ("validate", ("torch", "pytest_benchmark", "pandas", "filelock")),
    "report": ("report", ("pandas", "plotly")),
    "compare": ("compare", ("pandas",)),
    "stability": ("stability", ("pandas",)),
    "merge": ("merge", ()),
    "list": ("listing", ()),
}
DISTRIBUTIONS = {"torch": "torch", "pytest_benchmark": "pytest-benchmark", "pandas": "pandas",
                 "plotly": "plotly", "filelock": "filelock", "rich": "rich"}


def missing(modules: Sequence[str]) -> list[str]:
    """The distributions of `modules` that this interpreter cannot find."""
    def absent(module: str) -> bool:
        try:
            return importlib.util.find_spec(module) is None
        except (ImportError, ValueError):
            return True

    return [DISTRIBUTIONS.get(m, m) for m in modules if absent(m)]


_SHOWN: set[str] = set()  # the warnings this call of the command line has shown


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Skipped results are one line each, once each (a resumed run reads its files many
    times), not a Python warning with its source line."""
    from .views import say

    if issubclass(category, ResultsWarning):
        if str(message) not in _SHOWN:
            _SHOWN.add(str(message))
            say(f"detcost: warning: {message}", "yellow")
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


_python_showwarning = warnings.showwarning


def _error(text: str) -> int:
    from .views import say

    say(f"detcost: {text}", "red")
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module_name, needs = COMMANDS[args.command]
    lacking = missing(("rich", *needs))
    if lacking:
        sys.stderr.write(f"detcost: {args.command} needs packages missing in "
                         f"{sys.executable}: {', '.join(lacking)} "
                         f"(pip install {' '.join(lacking)})\n")
        return 2
    command = importlib.import_module(f"{__name__}.{module_name}")
    _SHOWN.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("always", ResultsWarning)
        warnings.showwarning = _show_warning
        try:
            return command.execute(args)
        except DetcostError as exc:
            return _error(str(exc))
        except OSError as exc:  # a read-only or full disk, a name too long, a missing path
            where = f": {exc.filename}" if exc.filename else ""
            return _error(f"{exc.strerror or exc}{where}")
        except KeyboardInterrupt:
            return _error("interrupted; records written so far are kept (resume with "
                          "--run-id)")

