"""healthcoach: a local-first health coach over your own records. A wellness coach, not a clinician."""

__version__ = "0.1.0"
