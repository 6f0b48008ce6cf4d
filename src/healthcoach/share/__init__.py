"""'Share with my doctor': a one-page summary of a person's own records as data, HTML and PDF."""

from healthcoach.share.summary import Line, Section, Summary, build_summary

__all__ = ["Line", "Section", "Summary", "build_summary"]
