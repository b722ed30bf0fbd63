"""`ganstudio desktop-install [--uninstall]`: a freedesktop.org menu entry and icon for the current user.

Writes $XDG_DATA_HOME/applications/ganstudio.desktop (Exec = this Python running `-m ganstudio`, so the entry
works from a venv that is not on PATH) and the scalable icon under $XDG_DATA_HOME/icons/hicolor/scalable/apps/.
The entry's name matches QGuiApplication.setDesktopFileName("ganstudio"), so the desktop groups the window
under it. Nothing is written outside the user's data folder; no Qt here.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from .errors import GanStudioError
from .fileio import atomic_write_bytes, atomic_write_text
from .resources import resource_path

APP_ID = "ganstudio"
ICON = "ganstudio.svg"


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def entry_paths() -> tuple[Path, Path]:
    """(the .desktop file, the icon) under the user's data folder."""
    base = data_home()
    return base / "applications" / f"{APP_ID}.desktop", base / "icons" / "hicolor" / "scalable" / "apps" / ICON


# The Desktop Entry spec's reserved characters in Exec arguments: an argument holding one is double-quoted
EXEC_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#`()")


def exec_arg(arg: str) -> str:
    """One argument of an Exec= value as the freedesktop.org Desktop Entry spec ("The Exec key") reads it: quoted
    in double quotes when it holds a reserved character, with `"`, backtick, `$` and `\\` backslash-escaped inside
    the quotes; `%` doubled (a literal percent, not a field code); then the string-value escapes (`\\` for a
    backslash, `\\n` `\\t` `\\r`), which the spec applies before the quoting rules (so a literal backslash in a
    quoted argument is four backslashes in the file)."""
    if not arg or any(c in EXEC_RESERVED for c in arg):
        arg = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
    arg = arg.replace("%", "%%")
    return arg.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


def desktop_entry(python: str | None = None) -> str:
    exe = exec_arg(python or sys.executable)
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Name=ganstudio",
        "GenericName=GAN training studio",
        "Comment=Train GANs on TensorFlow/Keras with live plots and sample grids",
        f"Exec={exe} -m ganstudio gui",
        f"Icon={APP_ID}",
        "Terminal=false",
        "Categories=Science;Education;Development;",
        f"StartupWMClass={APP_ID}",
        "",
    ])


def install() -> list[Path]:
    entry, icon = entry_paths()
    try:
        for folder in (entry.parent, icon.parent):
            folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(icon, resource_path(ICON).read_bytes())
        atomic_write_text(entry, desktop_entry())
    except OSError as e:
        raise GanStudioError(f"{data_home()}: cannot write the desktop entry ({e.strerror or e}); set XDG_DATA_HOME "
                             f"to a writable folder") from None
    return [entry, icon]


def uninstall() -> list[Path]:
    removed = []
    for p in entry_paths():
        if p.exists():
            p.unlink()
            removed.append(p)
    return removed
