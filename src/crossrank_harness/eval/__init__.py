"""``crossrank eval``: first stages over a BEIR folder (or its long documents), reranking by each route, scoring and
window, ranx metrics.

- :mod:`.run`: the settings and the run, in this process through each ``--via`` route;
- :mod:`.ray_engine`: the same reranking as one Ray Data job (``--engine ray``);
- :mod:`.candidates`: a query's candidates, and the reranked head put back above their unreranked tail;
- :mod:`.report`: the table and the plot against the window or the chunk size.
"""
