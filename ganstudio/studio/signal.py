"""A plain-Python signal: a list of callbacks, called in the order they were connected (as Qt's direct
connections are). The studio model announces its changes through these, so it never needs Qt."""
from __future__ import annotations

from typing import Any, Callable


class Signal:
    def __init__(self) -> None:
        self._slots: list[Callable[..., Any]] = []

    def connect(self, slot: Callable[..., Any]) -> Callable[..., Any]:
        self._slots.append(slot)
        return slot

    def disconnect(self, slot: Callable[..., Any]) -> None:
        self._slots.remove(slot)

    def connect_once(self, slot: Callable[..., Any]) -> None:
        """Call `slot` at the next emit only."""
        def once(*args: Any) -> None:
            self.disconnect(once)
            slot(*args)
        self.connect(once)

    def emit(self, *args: Any) -> None:
        for slot in list(self._slots):    # a slot may disconnect itself (connect_once) or connect others
            slot(*args)

    def __len__(self) -> int:
        return len(self._slots)
