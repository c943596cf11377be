"""The ``dlhub`` command: run a hub (``dlhub serve``) and administer it (``dlhub users ...``)."""
