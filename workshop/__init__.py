"""The workshop page's pieces (``app.py`` lays them out with Solara).

* :mod:`workshop.settings` -- settings and presets, sliders, the seed field, Play's pace;
* :mod:`workshop.state` -- what the page reads from a model (arrays, metrics, events);
* :mod:`workshop.drawing` -- SVG pictures from arrays (imports no model code);
* :mod:`workshop.palette` -- colours, one meaning each, with contrast and colour-blindness
  checks;
* :mod:`workshop.frames` -- everything a tab shows at one moment, made from a run;
* :mod:`workshop.results` -- the results card's words;
* :mod:`workshop.runs` -- the run behind a tab and the thread that steps it;
* :mod:`workshop.scheduler` -- one fair queue for the server's computing;
* :mod:`workshop.seeds` -- the band over other seeds, computed in the background;
* :mod:`workshop.client` -- the browser-side heartbeat, connection banner and PNG export.
"""
