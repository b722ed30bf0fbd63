"""Optional packages, installed by pip extras (pyproject.toml [project.optional-dependencies]): a feature that needs
one checks for it first and, when it is missing, fails with one line that names the extra to install."""
from __future__ import annotations

import importlib.util

from .errors import GanStudioError

# extra -> the import names it provides (what `require` looks for)
EXTRAS = {
    "export": ("tf2onnx", "onnx", "onnxruntime", "ai_edge_litert"),
    "postgres": ("psycopg",),
    "dashboard": ("optuna_dashboard",),
}


class MissingExtra(GanStudioError):
    pass


def missing(*modules: str) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def require(what: str, extra: str, *modules: str) -> None:
    """Raise MissingExtra ("WHAT needs tf2onnx, onnx: pip install 'ganstudio[export]'") unless every module imports."""
    lacking = missing(*modules)
    if lacking:
        raise MissingExtra(f"{what} needs {', '.join(lacking)}, not installed: pip install 'ganstudio[{extra}]'")
