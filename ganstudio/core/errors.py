"""User-facing errors. Every bad input becomes a GanStudioError whose message names the thing and the fix;
the CLI prints it without a traceback (exit 2), the GUI shows it in a dialog and stays usable."""
from __future__ import annotations


class GanStudioError(Exception):
    """Base class for errors caused by user input (config, data, files), never by a bug."""


class ConfigError(GanStudioError):
    """`field`: the config field at fault, where one is (the studio marks its widget without parsing the text)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DataError(GanStudioError):
    pass


class RunDirError(GanStudioError):
    pass


class WriteError(RunDirError):
    """A write into the run folder failed (disk full, read-only, permission denied). The run itself is fine: the
    CLI exits (resume later), the studio pauses the run until the user has fixed the cause."""


class CheckpointError(GanStudioError):
    pass
