"""The live web dashboard: a Starlette app serving the page and its JSON API (``/api/...``)."""
