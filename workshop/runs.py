"""A run of the page: the model(s) behind one tab, and the thread that steps them.

The page's buttons only leave requests here (step, play, pause, run to year 10, reset)
and return at once. Each :class:`Run` has one worker thread that does all the computing
on its models, inside a slot of the server-wide :mod:`workshop.scheduler`, then draws a
finished frame and hands it to the page. So:

* a click never waits for computing while it holds the page's locks, and the page never
  reads a model while it is being stepped (it reads finished frames only);
* Play keeps its pace (weeks a second) whatever the server's load: a frame carries the
  weeks that have come due since the last one, so a busy server draws fewer frames, not
  a slower run;
* Play stops at the horizon (ten years) and pauses when the page's connection is lost;
* a second click on Play within :data:`DEBOUNCE_SECONDS` (a double-click) is ignored;
* Reset drops the old model before the new one is built, so memory does not grow.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from workshop import scheduler as sched
from workshop.settings import DEFAULT_PACE, HORIZON_WEEKS, PACES

logger = logging.getLogger("civic-sim.workshop")

#: Shortest time between two Play frames of one run (seconds): at most 5 frames a second.
FRAME_SECONDS = 0.2

#: Most weeks one Play frame advances: a year (after a long wait the run catches up no
#: further; Play pauses anyway when the page is gone).
MAX_WEEKS_PER_FRAME = 52

#: Weeks stepped per slot while running to the horizon (other sessions get turns between).
RUN_TO_CHUNK = 13

#: A click on Play or Pause this soon after the last one is taken as part of a double-click.
DEBOUNCE_SECONDS = 0.45

#: Seconds between frames drawn while running to the horizon.
RUN_TO_FRAME_SECONDS = 0.4


class Run:
    """The models of one tab of one browser session, stepped by a worker thread.

    Args:
        build: Makes the run's models (a tuple, stepped in lockstep).
        draw: Makes a frame for the page from the run (called by the worker only).
        publish: Hands a finished frame to the page (called by the worker only).
        scheduler: The server-wide scheduler.
        horizon: Weeks in a run; Play and Step stop here.
        connected: Whether the page is still connected (Play pauses when it is not).
        name: For the worker thread's name and the log.
    """

    def __init__(
        self,
        build: Callable[[], tuple],
        draw: Callable[[Run], Any],
        publish: Callable[[Any], None],
        *,
        scheduler: sched.Scheduler | None = None,
        horizon: int = HORIZON_WEEKS,
        connected: Callable[[], bool] = lambda: True,
        name: str = "run",
    ):
        self._build = build
        self._draw = draw
        self._publish = publish
        self.scheduler = scheduler or sched.shared
        self.horizon = horizon
        self.connected = connected
        self.name = name
        self.models: tuple = ()
        self.playing = False
        self.notice = ""
        self.projector = False
        self.visible = True
        #: Play's pace in weeks a second.
        self.pace = horizon / PACES[DEFAULT_PACE]
        #: Anything the draw function needs besides the models (kept runs, bands...).
        self.extras: dict[str, Any] = {}
        #: Frames published and weeks stepped (for tests and benchmarks).
        self.frames = 0
        self._cv = threading.Condition()
        #: Held by the worker while it steps or reads the models; hold it to read them
        #: from another thread (for example to export the metrics).
        self.lock = threading.RLock()
        self._jobs: list[Callable[[Run], None]] = []
        self._steps = 0
        self._target: int | None = None
        self._rebuild = True
        self._redraw = False
        self._dirty = False
        self._closed = False
        self._last_toggle = -1e9
        self._credit = 0.0
        self._last_advance = 0.0
        self._last_frame = 0.0
        self._run_to_frame = 0.0
        self._thread = threading.Thread(target=self._loop, name=f"civic-{name}", daemon=True)
        self._thread.start()

    # --- requests from the page (return at once) -------------------------------------------
    @property
    def week(self) -> int:
        """Weeks run so far (0 before the models are built)."""
        return int(self.models[0].steps) if self.models else 0

    @property
    def at_horizon(self) -> bool:
        """Whether the run has reached its horizon."""
        return bool(self.models) and self.week >= self.horizon

    def step(self, weeks: int = 1) -> None:
        """Ask for ``weeks`` more weeks (each click of Step adds one)."""
        with self._cv:
            self.playing = False
            self._target = None
            self._steps += weeks
            self._cv.notify_all()

    def toggle_play(self, now: float | None = None) -> bool:
        """Start or pause Play; a second click within the debounce time is ignored.

        Returns:
            Whether the run is playing after the click.
        """
        now = time.monotonic() if now is None else now
        with self._cv:
            if now - self._last_toggle < DEBOUNCE_SECONDS:
                return self.playing
            self._last_toggle = now
            if self.playing:
                self.playing = False
            elif not self.at_horizon:
                self.playing = True
                self.notice = ""
                self._credit = 0.0
                self._last_advance = time.monotonic()
                self._target = None
            self._redraw = True
            self._cv.notify_all()
            return self.playing

    def pause(self, notice: str = "") -> None:
        """Stop Play (and a run to the horizon)."""
        with self._cv:
            if self.playing or self._target is not None:
                self.notice = notice
            self.playing = False
            self._target = None
            self._redraw = True
            self._cv.notify_all()

    def run_to_horizon(self) -> None:
        """Run straight to the horizon (drawing a frame every so often on the way)."""
        with self._cv:
            self.playing = False
            self._target = self.horizon
            self.notice = ""
            self._cv.notify_all()

    def reset(self, build: Callable[[], tuple] | None = None) -> None:
        """Start again at week 0 (with a new way to build the models, if given)."""
        with self._cv:
            if build is not None:
                self._build = build
            self.playing = False
            self._target = None
            self._steps = 0
            self.notice = ""
            self._rebuild = True
            self._cv.notify_all()

    def call(self, job: Callable[[Run], None]) -> None:
        """Run ``job(run)`` in the worker, with the models locked, then draw a frame."""
        with self._cv:
            self._jobs.append(job)
            self._cv.notify_all()

    def redraw(self) -> None:
        """Ask for a new frame (after a change of what is drawn, not of the models)."""
        with self._cv:
            self._redraw = True
            self._cv.notify_all()

    def set_visible(self, visible: bool) -> None:
        """Whether the page shows this run (a hidden run steps on but draws no frames)."""
        with self._cv:
            self.visible = visible
            if visible and self._dirty:
                self._redraw = True
            self._cv.notify_all()

    def close(self) -> None:
        """Stop the worker and drop the models (when the browser session ends)."""
        with self._cv:
            self._closed = True
            self.playing = False
            self._cv.notify_all()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the worker to finish (after :meth:`close`)."""
        self._thread.join(timeout)

    # --- the worker --------------------------------------------------------------------------
    def _play_due(self, now: float) -> float:
        """Seconds until the next Play frame is due (0 if it is due now)."""
        return max(0.0, FRAME_SECONDS - (now - self._last_frame))

    def _next_job(self) -> tuple[str, float | None]:
        """What to do next, or ("wait", timeout) (called with the lock held)."""
        if self._closed:
            return "close", None
        if self._rebuild:
            return "rebuild", None
        if self._steps:
            return "step", None
        if self._jobs:
            return "job", None
        if self._target is not None:
            return "run-to", None
        if self._redraw:
            return "draw", None
        if self.playing:
            due = self._play_due(time.monotonic())
            return ("play", None) if due <= 0 else ("wait", due)
        return "wait", None

    def _loop(self) -> None:
        try:
            while True:
                with self._cv:
                    job, timeout = self._next_job()
                    while job == "wait":
                        self._cv.wait(timeout)
                        job, timeout = self._next_job()
                if job == "close":
                    break
                getattr(self, "_do_" + job.replace("-", "_"))()
        except Exception:  # noqa: BLE001 - a model error ends the run, not the server
            logger.exception("run %s stopped", self.name)
            with self._cv:
                self.playing = False
                self.notice = "The run stopped with an error; press Reset."
        finally:
            self.models = ()
            self.extras = {}

    def _frame(self) -> None:
        """Draw and publish a frame (inside a slot), or mark the run as needing one."""
        if not self.visible:
            self._dirty = True
            return
        self._dirty = False
        with self.lock:
            frame = self._draw(self)
        self.frames += 1
        self._publish(frame)

    def _do_rebuild(self) -> None:
        with self._cv:
            self._rebuild = False
            self._redraw = False
            build = self._build
        with self.lock:
            self.models = ()  # the old models go before the new ones are built
        with self.scheduler.slot(sched.STEP):
            models = build()
            with self._cv:
                if self._rebuild or self._closed:  # superseded while building
                    return
            with self.lock:
                self.models = models
            self._frame()

    def _advance(self, weeks: int, priority: int = sched.STEP) -> int:
        """Step the models up to ``weeks`` weeks, never past the horizon; return weeks run.

        Between weeks, a slot held at a lower ``priority`` than a waiting press of a
        button is handed over and taken back after it, so a press of Step waits for at
        most one week of someone else's Play, not for the whole frame.
        """
        weeks = max(0, min(weeks, self.horizon - self.week))
        for k in range(weeks):
            if k:
                self.scheduler.yield_to(priority)
            for model in self.models:
                model.step()
        if self.at_horizon:
            with self._cv:
                if self.playing or self._target is not None:
                    self.notice = "Ten years are up: see the results. Reset to run again."
                self.playing = False
                self._target = None
        return weeks

    def _do_step(self) -> None:
        with self.scheduler.slot(sched.STEP):
            with self._cv:
                weeks, self._steps = self._steps, 0
                self._redraw = False
            with self.lock:
                self._advance(weeks)
            self._frame()

    def _do_job(self) -> None:
        with self.scheduler.slot(sched.STEP):
            with self._cv:
                jobs, self._jobs = self._jobs, []
                self._redraw = False
            with self.lock:
                for job in jobs:
                    job(self)
            self._frame()

    def _do_draw(self) -> None:
        with self.scheduler.slot(sched.STEP):
            with self._cv:
                self._redraw = False
            self._frame()

    def _do_run_to(self) -> None:
        with self.scheduler.slot(sched.PROJECTOR):
            with self._cv:
                target = self._target
            if target is None:
                return
            with self.lock:
                self._advance(min(RUN_TO_CHUNK, target - self.week), sched.PROJECTOR)
            now = time.monotonic()
            with self._cv:
                if self._target is not None and self.week >= self._target:
                    self._target = None
                done = self._target is None
            if done or now - self._run_to_frame >= RUN_TO_FRAME_SECONDS:
                self._run_to_frame = now
                self._frame()

    def _do_play(self) -> None:
        if not self.connected():
            self.pause(
                f"Play paused at week {self.week}: the connection to this page was lost. "
                "Press Play to go on."
            )
            return
        priority = sched.PROJECTOR if self.projector else sched.PLAY
        with self.scheduler.slot(priority):
            with self._cv:
                if not self.playing:
                    return
                now = time.monotonic()
                self._credit = min(
                    self._credit + self.pace * (now - self._last_advance), MAX_WEEKS_PER_FRAME
                )
                self._last_advance = now
                weeks = int(self._credit)
                self._credit -= weeks
                self._redraw = False
            self._last_frame = time.monotonic()
            if weeks:
                with self.lock:
                    self._advance(weeks, priority)
                self._frame()
