"""Keys in the order they were typed, each handled before the next: typing ahead over a slow SSH link loses nothing.

Textual hands a key to the widget focused at the moment the app reads it. Keys that arrive together (typed ahead
over a laggy SSH link, which delivers them in one read, or by `tmux send-keys`) are read back to back, so in
"Tab 7 7" both 7s go to the field that had the focus before the Tab had moved it; and in "ctrl+u bob" the
letters are inserted before ctrl+u (a binding, handled after the key has bubbled up to the app) clears the field.
Keys typed before the editable form exists (the first ~0.5 s show a text preview) would go nowhere.

`KeyPacer` holds every key the app receives and lets one go at a time: the app dispatches it as usual (priority
bindings, the focused widget, bubbling, bindings), and a callback queued behind it on each message pump it passes
(app, focused widget, its ancestors, app) tells when it has been handled; then the next key goes. The first key
waits until `ready` is set (the form is there). A pump that does not answer within `SETTLE_TIMEOUT` (closing, or
busy for long) lets the next key go anyway: the worst case is Textual's own behaviour.
"""

from __future__ import annotations

import asyncio
from typing import Any

from textual import events

SETTLE_TIMEOUT = 1.0  # seconds a key may take to pass before the next one goes anyway


class KeyPacer:
    """Owned by the app, whose `on_event` calls `holds(event)` first and handles the event itself when it is False.

    A held key is posted back to the app later, when its turn comes; `holds` lets that one through (`paced`).
    """

    def __init__(self, app: Any, ready: asyncio.Event) -> None:
        self._app = app
        self._ready = ready
        self._queue: asyncio.Queue[events.Key] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.paced: events.Key | None = None  # the key being dispatched now (the app must not hold it again)

    def holds(self, event: events.Event) -> bool:
        """Take this event if it is a key fresh from the terminal; False when the app should handle it itself."""
        if not isinstance(event, events.Key) or event.is_forwarded or event is self.paced:
            return False
        self._queue.put_nowait(events.Key(event.key, event.character))
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="outmail key pacer")
        return True

    @property
    def pending(self) -> int:
        """Keys held and not yet dispatched."""
        return self._queue.qsize()

    async def idle(self) -> None:
        """Wait until every key held so far has been dispatched and handled (tests)."""
        await self._queue.join()

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        await self._ready.wait()
        while True:
            key = await self._queue.get()
            try:
                target = self._app.focused or self._app.screen
                self.paced = key
                self._app.post_message(key)
                try:
                    await asyncio.wait_for(self._settled(target), SETTLE_TIMEOUT)
                except TimeoutError:
                    pass
            finally:
                self.paced = None
                self._queue.task_done()

    async def _settled(self, target: Any) -> None:
        """Return once the key has passed every pump it can travel through (see the module docstring)."""
        for pump in (self._app, *target.ancestors_with_self):
            done = asyncio.get_running_loop().create_future()
            if pump.call_later(lambda done=done: done.done() or done.set_result(None)):
                await done
