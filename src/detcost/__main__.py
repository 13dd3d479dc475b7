import importlib.util
import sys

# Checked before anything imports them, so a missing package is one line, not a traceback.
REQUIRED = {"torch": "torch", "pytest_benchmark": "pytest-benchmark", "pandas": "pandas",
            "plotly": "plotly", "rich": "rich"}
missing = [dist for module, dist in REQUIRED.items() if importlib.util.find_spec(module) is None]
if missing:
    sys.exit(f"detcost: missing packages in {sys.executable}: {', '.join(missing)} "
             f"(pip install {' '.join(missing)})")

from .cli import main  # noqa: E402

sys.exit(main())
