"""Keys in the order they were typed, each handled before the next: typing ahead over a slow SSH link loses nothing.

Textual hands a key to the widget focused at the moment the app reads it. Keys that arrive together (typed ahead
over a laggy SSH link, which delivers them in one read, or by `tmux send-keys`) are read back to back, so in
"Tab 7 7" both 7s go to the field that had the focus before the Tab had moved it; and in "ctrl+u bob" the
letters are inserted before ctrl+u (a binding, handled after the key has bubbled up to the app) clears the field.
Keys typed before the editable form exists (the first ~0.5 s show a text preview) would go nowhere.

`KeyPacer` holds every key the app receives and lets one go at a time: the app dispatches it as usual (priority
bindings, the focused widget, bubbling, bindings), and a callback queued behind it on each message pump it passes
(the app, the focused widget, then each ancestor it bubbles to, up to the app's bindings) tells when it has been
handled; a key a widget stops is done there. Then the next key goes. A key the focused widget says it consumes
(`check_consume_key`: a printable character for an Input) changes no focus and bubbles nowhere, so the next key
follows it at once, queued behind it on the same widget: a burst of letters costs no waiting. Any other key first
waits for those letters to land, so ctrl+s, ctrl+q or F5 right after them act on the value the screen shows. The first key
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

    A held key is posted back to the app later, when its turn comes; `holds` lets that one through.
    """

    def __init__(self, app: Any, ready: asyncio.Event) -> None:
        self._app = app
        self._ready = ready
        self._queue: asyncio.Queue[events.Key] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._paced: dict[int, events.Key] = {}  # keys posted back to the app, which must not hold them again

    def holds(self, event: events.Event) -> bool:
        """Take this event if it is a key fresh from the terminal; False when the app should handle it itself."""
        if not isinstance(event, events.Key) or event.is_forwarded:
            return False
        if self._paced.pop(id(event), None) is event:
            return False  # its turn has come
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
        typed_into: Any = None  # the field that letters went to without waiting, if they may not be handled yet
        while True:
            key = await self._queue.get()
            try:
                target = self._target()
                consumed = target is not None and target.check_consume_key(key.key, key.character)
                if not consumed and typed_into is not None:
                    # Anything else (ctrl+s, ctrl+q, F5, Tab) acts on the field's value: let the letters land first.
                    await _bounded(self._drained(typed_into))
                    typed_into = None
                    target = self._target()
                self._paced[id(key)] = key
                self._app.post_message(key)
                if consumed:
                    typed_into = target  # a letter for a field: it moves no focus, so the next may follow at once
                else:
                    await _bounded(self._settled(key, target))
            finally:
                self._queue.task_done()

    def _target(self) -> Any:
        """Where the app will send the next key: the focused widget, else the screen (None while the app closes)."""
        try:
            return self._app.focused or self._app.screen
        except Exception:  # noqa: BLE001 - no screen left
            return None

    async def _drained(self, target: Any) -> None:
        """Return once the keys already handed out have been handled by the app and by `target`."""
        await _passed(self._app)
        await _passed(target)

    async def _settled(self, key: events.Key, target: Any) -> None:
        """Return once the key has been handled: the app has read it, and the focused widget and each ancestor it
        bubbled to has passed it on or stopped it (Textual bubbles a key until a handler stops it)."""
        await _passed(self._app)
        for pump in target.ancestors_with_self:  # the widget, its parents, the screen, the app (bindings)
            await _passed(pump)
            if key._stop_propagation:
                return


async def _bounded(wait: Any) -> None:
    """Wait at most SETTLE_TIMEOUT. Pacing is a courtesy: a pump that closes or stays busy, or any failure while
    waiting, lets the next key go (Textual's own behaviour), never holds the keys back."""
    try:
        await asyncio.wait_for(wait, SETTLE_TIMEOUT)
    except Exception:  # noqa: BLE001 - TimeoutError included
        pass


async def _passed(pump: Any) -> None:
    """Wait until the messages queued on this pump so far have been handled."""
    done = asyncio.get_running_loop().create_future()
    if pump.call_later(lambda: done.done() or done.set_result(None)):
        await done
