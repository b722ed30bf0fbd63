"""Desktop-app conventions, wired onto the MainWindow by `install_desktop(win)`:

- File ▸ Open Recent (qt/recent.py), File ▸ Import run… / Export checkpoint… (ganstudio.archive, in a Task),
- View ▸ Theme (qt/theme.py), Help ▸ Keyboard shortcuts and Help ▸ About (qt/about.py),
- the runs root: the Runs tab shows where runs go and why, and the folder chosen there is kept in QSettings and
  becomes GANSTUDIO_RUNS for this process (a GANSTUDIO_RUNS set by the user at launch wins over the saved one).

Everything here is reachable from tests through the returned `Desktop` object, with injectable file choosers.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from ..runs import runs_root
from .about import AboutDialog, ShortcutsDialog
from .recent import RecentRuns
from .theme import MODES, Theme
from .worker import Task, describe_error

ROOT_KEY = "runs/root"


def _menu(win, title: str) -> QMenu:
    for a in win.menuBar().actions():
        if a.menu() is not None and a.text().replace("&", "") == title:
            return a.menu()
    return win.menuBar().addMenu(f"&{title}")


def engine_summary(device: str) -> tuple[str, str]:
    """Started.device ('CPU, XLA off, mixed_bfloat16, …') -> (device, precision)."""
    parts = [p.strip() for p in device.split(",") if p.strip()]
    precision = next((p for p in parts if p == "float32" or p.startswith("mixed_")), "")
    return ", ".join(p for p in parts if p != precision), precision


class Desktop(QObject):
    def __init__(self, win) -> None:
        super().__init__(win)
        self.win = win
        self.recent = RecentRuns(win.settings)
        self.theme = Theme(win.settings, self)
        self.about: AboutDialog | None = None
        self.shortcuts: ShortcutsDialog | None = None
        self.choose_archive: Callable[[], str] = lambda: QFileDialog.getOpenFileName(
            win, "Import run from a checkpoint archive", str(Path.home()), "Checkpoint archive (*.tar.gz *.tgz)")[0]
        self._build_menus()
        self._init_runs_root()
        win.stateChanged.connect(self._state_changed)
        win.sessionFinished.connect(self._remember_run)
        win.tasks.changed.connect(self._update_actions)
        self.theme.apply()

    # -- menus ------------------------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        win = self.win
        file_menu = _menu(win, "File")
        self.recent_menu = QMenu("Open &Recent", win)
        self.recent_menu.aboutToShow.connect(self.fill_recent_menu)
        file_menu.insertMenu(win.act_watch, self.recent_menu)
        self.act_import = win._action("Import run…", self.import_run_dialog,
                                      tip="Unpack a checkpoint archive into a new run folder and open it")
        file_menu.insertAction(win.act_watch, self.act_import)
        self.act_export_ckpt = win._action("Export checkpoint…", self.export_checkpoint_dialog,
                                           tip="One portable archive of the selected (or latest) checkpoint: config, "
                                               "models, optimizers, RNG, fixed noise, metrics; `resume` continues it")
        file_menu.insertAction(win.export_menu.menuAction(), self.act_export_ckpt)

        view = _menu(win, "View")
        view.addSeparator()
        theme_menu = view.addMenu("&Theme")
        group = QActionGroup(win)
        self.theme_actions: dict[str, QAction] = {}
        for mode, text in MODES.items():
            a = QAction(text, win, checkable=True, checked=mode == self.theme.mode)
            a.triggered.connect(lambda _=False, m=mode: self.theme.set_mode(m))
            group.addAction(a)
            theme_menu.addAction(a)
            self.theme_actions[mode] = a

        help_menu = _menu(win, "Help")
        self.act_shortcuts = win._action("Keyboard shortcuts", self.show_shortcuts, QKeySequence.HelpContents,
                                         "List every keyboard shortcut")
        self.act_about = win._action("About ganstudio", self.show_about, tip="Versions, device and precision")
        help_menu.addAction(self.act_shortcuts)
        help_menu.addAction(self.act_about)
        self._update_actions()

    def _update_actions(self) -> None:
        win = self.win
        idle = win.session is None and not win.tasks.busy("import")
        self.act_import.setEnabled(idle)
        self.recent_menu.setEnabled(idle)
        self.act_export_ckpt.setEnabled(win.run_path is not None and not win.tasks.busy("export"))

    def _state_changed(self, _state: str) -> None:
        self._update_actions()
        self._remember_run()

    def _remember_run(self) -> None:
        if self.win.run_path is not None:
            self.recent.add(self.win.run_path)     # only once its config.json exists

    # -- Open Recent ------------------------------------------------------------------------------------------
    def fill_recent_menu(self) -> None:
        m = self.recent_menu
        m.clear()
        paths = self.recent.paths()
        for p in paths:
            a = m.addAction(p.name, lambda p=p: self.win.open_run(p))
            a.setStatusTip(str(p))
        if not paths:
            m.addAction("No recent runs").setEnabled(False)
        m.addSeparator()
        m.addAction("Clear recent runs", self.recent.clear).setEnabled(bool(paths))

    # -- Help -------------------------------------------------------------------------------------------------
    def show_about(self) -> AboutDialog:
        device, precision = engine_summary(self.win.device_info)
        self.about = AboutDialog(device, precision, self.win)
        self.about.open()
        return self.about

    def show_shortcuts(self) -> ShortcutsDialog:
        self.shortcuts = ShortcutsDialog(self.win.findChildren(QAction), self.win)
        self.shortcuts.open()
        return self.shortcuts

    # -- checkpoint archives ----------------------------------------------------------------------------------
    def export_checkpoint_dialog(self) -> Task | None:
        from ..archive import default_archive_path  # noqa: PLC0415
        from ..engine.checkpoints import find_checkpoint  # noqa: PLC0415
        from ..errors import GanStudioError  # noqa: PLC0415
        from ..runs import RunDir  # noqa: PLC0415

        win = self.win
        if win.run_path is None:
            win._error("Open or train a run first: the archive holds one of its checkpoints")
            return None
        try:
            run = RunDir.open(win.run_path)
            info = find_checkpoint(run.checkpoints, win._selected_checkpoint_step())
        except GanStudioError as e:
            win._error(str(e))
            return None
        path = win.choose_save_path("Export checkpoint archive", str(default_archive_path(run, info.step)),
                                    "Checkpoint archive (*.tar.gz)")
        if not path:
            return None
        if not path.endswith((".tar.gz", ".tgz")):
            path += ".tar.gz"
        return win.export_run("checkpoint", path, step=info.step)

    def import_run_dialog(self) -> Task | None:
        path = self.choose_archive()
        return self.import_run(path) if path else None

    def import_run(self, archive: str | Path) -> Task | None:
        """Unpack in the background, then open the new run (Start resumes it)."""
        win = self.win
        if win.session is not None:
            win._error("Stop training before importing a run")
            return None

        def job(_progress):
            from ..archive import import_checkpoint  # noqa: PLC0415

            return import_checkpoint(archive)

        task = Task(job, name="import", parent=win)
        task.done.connect(lambda path: win.open_run(path))
        task.failed.connect(lambda exc: win._error(f"Import failed: {describe_error(exc)}"))
        win.tasks.start(task)
        win.statusBar().showMessage(f"Importing {archive} …")
        return task

    # -- runs root --------------------------------------------------------------------------------------------
    def _init_runs_root(self) -> None:
        saved = self.win.settings.value(ROOT_KEY, "", str)
        if saved and not os.environ.get("GANSTUDIO_RUNS"):
            os.environ["GANSTUDIO_RUNS"] = saved
        self.win.runs_panel.rootChosen.connect(self.set_runs_root)
        self._show_runs_root()

    def set_runs_root(self, folder: str | Path) -> Path:
        """Where new runs go from now on (this process, and later launches)."""
        os.environ["GANSTUDIO_RUNS"] = str(folder)
        self.win.settings.setValue(ROOT_KEY, str(folder))
        self._show_runs_root()
        return Path(folder)

    def _show_runs_root(self) -> None:
        root, saved = runs_root(), self.win.settings.value(ROOT_KEY, "", str)
        if saved and str(root) == saved:
            why = "chosen here (Choose folder…)"
        elif os.environ.get("GANSTUDIO_RUNS"):
            why = "from GANSTUDIO_RUNS"
        elif root.is_absolute():
            why = "started from the home folder or /, so not ./runs there"
        else:
            why = f"./runs under {Path.cwd()}"
        panel = self.win.runs_panel
        panel.root_note = f" <span style='color: palette(mid)'>({why}); new runs go here</span>"
        if panel.root != root:
            panel.set_root(root)
        else:
            panel._update_root_label()


def install_desktop(win) -> Desktop:
    return Desktop(win)
