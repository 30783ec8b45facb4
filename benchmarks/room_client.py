"""A lightweight browser stand-in for load tests: speaks Solara's websocket protocol.

A real page loads Solara's JavaScript, opens a websocket to the server
(``/jupyter/api/kernels/<kernel id>/channels?session_id=<page id>``), opens the
``solara.control`` comm and asks it to ``run`` the app; the server then sends every
widget of the page (``comm_open``) and, after each change, the changed properties
(``comm_msg`` with ``method: update``). A click is a ``custom`` comm message
``{"event": "click"}`` to the button's widget (ipyvue's event protocol).

:class:`PageClient` does exactly that and no more: it keeps the widgets' state as the
server sends it, finds buttons by their CSS class, clicks them, and watches the
"Week N" counter. Twenty of them cost a few per cent of one core, so a load test on a
2-core machine measures the server, not twenty browsers.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.request
import uuid

import websockets

WEEK = re.compile(r'class="civic-counter week civic-week" data-week="(\d+)"')
PICTURE = re.compile(
    r'<svg class="(?:civic-map|civic-chart|civic-compare)[^"]*" data-(?:week|points)="(\d+)"'
)


def _message(msg_type: str, content: dict) -> str:
    return json.dumps(
        {
            "header": {
                "msg_id": uuid.uuid4().hex,
                "msg_type": msg_type,
                "username": "",
                "session": "room-client",
                "date": "",
                "version": "5.3",
            },
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": "shell",
            "buffers": [],
        }
    )


class PageClient:
    """One simulated browser page on a Solara server.

    Args:
        base: The server's address, e.g. ``http://127.0.0.1:8765``.
    """

    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.kernel_id = str(uuid.uuid4())
        self.page_id = str(uuid.uuid4())
        self.session_cookie = str(uuid.uuid4())
        self.widgets: dict[str, dict] = {}
        self.week = 0
        #: Week shown by each picture (map, chart, panel) widget.
        self.pictures: dict[str, int] = {}
        self.ws = None
        self._week_changed = asyncio.Event()
        self._reader: asyncio.Task | None = None
        self._heart: asyncio.Task | None = None
        self.bytes_received = 0

    async def open(self, timeout: float = 60.0) -> None:
        """Connect, run the app, and wait until the page's first frame has arrived."""
        url = (
            self.base.replace("http", "ws", 1)
            + f"/jupyter/api/kernels/{self.kernel_id}/channels?session_id={self.page_id}"
        )
        self.ws = await websockets.connect(
            url,
            additional_headers={"Cookie": f"solara-session-id={self.session_cookie}"},
            max_size=None,
            ping_interval=None,
            open_timeout=timeout,
        )
        control = uuid.uuid4().hex
        await self.ws.send(
            _message("comm_open", {"comm_id": control, "target_name": "solara.control", "data": {}})
        )
        await self.ws.send(
            _message(
                "comm_msg",
                {
                    "comm_id": control,
                    "data": {"method": "run", "args": {"path": "", "appName": None}},
                },
            )
        )
        deadline = time.monotonic() + timeout
        while True:
            msg = await asyncio.wait_for(self._receive(), max(0.1, deadline - time.monotonic()))
            content = msg.get("content", {})
            if msg["header"]["msg_type"] == "comm_msg" and content.get("comm_id") == control:
                break
        self._reader = asyncio.create_task(self._read())
        self._heart = asyncio.create_task(self._heartbeat())
        await self.wait_until(lambda: self.find("civic-step") is not None, timeout)

    async def _heartbeat(self) -> None:
        """Send the page's heartbeat every 3 s, as its browser code does (the server
        pauses Play on a page whose heartbeats stop)."""
        try:
            while True:
                client = next(
                    (
                        w
                        for w, s in self.widgets.items()
                        if "civic-client" in str(s.get("template", ""))
                    ),
                    None,
                )
                if client is not None:
                    await self.ws.send(
                        _message(
                            "comm_msg",
                            {
                                "comm_id": client,
                                "data": {
                                    "method": "custom",
                                    "content": {"event": "ping", "data": int(time.time() * 1000)},
                                },
                            },
                        )
                    )
                await asyncio.sleep(3.0)
        except (websockets.ConnectionClosed, asyncio.CancelledError):
            return

    async def _receive(self) -> dict:
        raw = await self.ws.recv()
        if isinstance(raw, bytes):
            self.bytes_received += len(raw)
            return {"header": {"msg_type": "binary"}, "content": {}}
        self.bytes_received += len(raw)
        msg = json.loads(raw)
        kind = msg["header"]["msg_type"]
        content = msg.get("content", {})
        if kind == "comm_open":
            state = content.get("data", {}).get("state", {})
            self.widgets[content["comm_id"]] = state
            self._note(content["comm_id"], state)
        elif kind == "comm_msg":
            data = content.get("data", {})
            if data.get("method") == "update":
                state = self.widgets.setdefault(content["comm_id"], {})
                state.update(data.get("state", {}))
                self._note(content["comm_id"], data.get("state", {}))
        elif kind == "comm_close":
            self.widgets.pop(content.get("comm_id"), None)
            self.pictures.pop(content.get("comm_id"), None)
        return msg

    def _note(self, wid: str, state: dict) -> None:
        text = state.get("unsafe_innerHTML")
        if isinstance(text, str):
            found = WEEK.search(text)
            if found:
                self.week = int(found.group(1))
            pictures = [int(w) for w in PICTURE.findall(text)]
            if pictures:
                self.pictures[wid] = min(pictures)
            if found or pictures:
                self._week_changed.set()

    @property
    def shown(self) -> int:
        """The week the whole page shows: the counter and every picture agree on it
        (the page has redrawn completely)."""
        return min([self.week, *self.pictures.values()])

    async def _read(self) -> None:
        try:
            while True:
                await self._receive()
        except (websockets.ConnectionClosed, asyncio.CancelledError):
            return

    def find(self, css: str) -> str | None:
        """The id of the (first) widget whose classes include ``css``."""
        for wid, state in self.widgets.items():
            classes = state.get("class_") or ""
            names = classes.split() if isinstance(classes, str) else []
            names += state.get("_dom_classes", []) or []
            if css in names:
                return wid
        return None

    def disabled(self, css: str) -> bool:
        wid = self.find(css)
        return bool(wid and self.widgets[wid].get("disabled"))

    async def click(self, css: str) -> None:
        """Click the button with this CSS class."""
        wid = self.find(css)
        if wid is None:
            raise LookupError(f"no widget with class {css!r}")
        await self.ws.send(
            _message(
                "comm_msg",
                {
                    "comm_id": wid,
                    "data": {"method": "custom", "content": {"event": "click", "data": {}}},
                },
            )
        )

    async def set_value(self, css: str, value) -> None:
        """Set a control's value (a switch, a select), as the browser does."""
        wid = self.find(css)
        if wid is None:
            raise LookupError(f"no widget with class {css!r}")
        self.widgets[wid]["v_model"] = value
        await self.ws.send(
            _message(
                "comm_msg",
                {
                    "comm_id": wid,
                    "data": {"method": "update", "state": {"v_model": value}, "buffer_paths": []},
                },
            )
        )

    async def wait_until(self, predicate, timeout: float = 30.0) -> None:
        """Wait until ``predicate()`` is true (checked whenever a message arrives)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("condition not met in time")
            await asyncio.sleep(0.005)

    async def wait_week(self, week: int, timeout: float = 30.0) -> float:
        """Wait until the whole page shows ``week`` or later (the counter, the map and
        every chart); return when (``time.perf_counter``)."""
        deadline = time.monotonic() + timeout
        while self.shown < week:
            self._week_changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"week {week} not shown in time (at {self.shown})")
            try:
                await asyncio.wait_for(self._week_changed.wait(), remaining)
            except TimeoutError:
                pass
        return time.perf_counter()

    async def close(self, goodbye: bool = True) -> None:
        """Leave: with ``goodbye`` as a closing tab does (Solara's close request), else
        just drop the connection (a laptop lid closed, a lost wifi)."""
        if goodbye:
            request = urllib.request.Request(
                f"{self.base}/_solara/api/close/{self.kernel_id}?session_id={self.page_id}",
                method="POST",
                headers={"Cookie": f"solara-session-id={self.session_cookie}"},
            )
            await asyncio.to_thread(urllib.request.urlopen, request, timeout=10)
        for task in (self._reader, self._heart):
            if task is not None:
                task.cancel()
        if self.ws is not None:
            await self.ws.close()
