"""Which report heads a story, and when a story was last active (README: "One headline").

A story is headed by its first report that matched a watchlist theme (the first stored, so
the one its first alert was raised for), else by its lead (its first report). Once a story
has matched, its headline never changes: alerts, `latest`, digests and search show the same
title, link, outlet and time. A story's latest activity is the publication time of its newest
report.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, exists, func, select
from sqlalchemy.orm import aliased

from storage.schema import article_themes, articles, stories

_report = aliased(articles, name="report")


def _first_matched() -> ScalarSelect[Any]:
    return (
        select(func.min(_report.c.id))
        .where(_report.c.story_id == stories.c.id)
        .where(exists().where(article_themes.c.article_id == _report.c.id))
        .correlate(stories)
        .scalar_subquery()
    )


def head_id() -> ColumnElement[Any]:
    """The id of the report heading each row of `stories` (correlated)."""
    return func.coalesce(_first_matched(), stories.c.lead_article_id)


def active_at() -> ScalarSelect[Any]:
    """The publication time of each `stories` row's newest report (correlated)."""
    return (
        select(func.max(_report.c.published_at))
        .where(_report.c.story_id == stories.c.id)
        .correlate(stories)
        .scalar_subquery()
    )
