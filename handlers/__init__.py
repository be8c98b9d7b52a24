"""One module per service; every user-facing Chinese string lives in ``handlers.texts``."""
