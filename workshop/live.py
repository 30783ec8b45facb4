"""Live blocks: the parts of the page that change every frame, updated without a render.

Solara redraws a page by re-running its components and comparing the result with the
last one (React's way); for a page of some eighty widgets that costs more server time
than the frame it shows. The map and the charts are single HTML strings made by the
run's worker, so the page keeps them in :class:`LiveBlock` objects: each frame sets the
new string straight on the block's widget (one message to the browser, no render), and
the components are re-run only when something else changes (a button's state, a
notice, the results card).
"""

from __future__ import annotations

import threading


class LiveBlock:
    """The latest HTML of one block of the page, and the widget(s) that show it."""

    def __init__(self, html: str = ""):
        self.html = html
        self._widgets: list = []
        self._lock = threading.Lock()

    def attach(self, widget) -> None:
        """Show this block in ``widget`` (an HTML widget with ``unsafe_innerHTML``)."""
        with self._lock:
            self._widgets.append(widget)
            if widget.unsafe_innerHTML != self.html:
                widget.unsafe_innerHTML = self.html

    def detach(self, widget) -> None:
        """Stop updating ``widget`` (it left the page)."""
        with self._lock:
            self._widgets = [w for w in self._widgets if w is not widget]

    def update(self, html: str) -> None:
        """Show new HTML (sent to the browser only if it changed)."""
        with self._lock:
            if html == self.html:
                return
            self.html = html
            for widget in self._widgets:
                widget.unsafe_innerHTML = html
