"""The interactive dashboard (``ceasefire app``): a Solara page over the batch of worlds.

Needs the ``app`` extra (``pip install 'ceasefire[app]'``). :mod:`sim.app.state` and :mod:`sim.app.figures`
hold the computation and the drawing and import no Solara; :mod:`sim.app.page` is the page and
:mod:`sim.app.server` serves it.
"""
