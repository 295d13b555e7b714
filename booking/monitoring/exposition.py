"""What /metrics shows: every process's counts, and the figures read from the database.

With PROMETHEUS_MULTIPROC_DIR set the counts are those of every process that counted into that
directory (the gunicorn workers, and a scheduler given the same directory); otherwise this
process's own. The oldest due message's age is read from the database at each scrape, so it
is the same whichever process answers, and it shows a dispatcher that has stopped, wherever
the schedulers run.
"""

from __future__ import annotations

import logging
import os

from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from sqlalchemy.exc import SQLAlchemyError

from .. import clock
from ..extensions import db
from ..sms.dispatch import oldest_due_at
from . import metrics

log = logging.getLogger(__name__)


class _ThisProcess:
    """The counts of this process alone (no PROMETHEUS_MULTIPROC_DIR)."""

    def collect(self):
        return metrics.PROCESS.collect()


class _DatabaseFigures:
    """Figures read from the database when scraped: one step down an index each."""

    def collect(self):
        now = clock.now()
        try:
            oldest = oldest_due_at(now)
        except SQLAlchemyError:  # the counts still go out; /readyz says what is wrong
            db.session.rollback()
            log.warning("metrics.database_unavailable")
            return
        yield GaugeMetricFamily(
            "sms_oldest_due_message_age_seconds",
            "Seconds since the message that has waited longest for a dispatcher fell due "
            "(0 when none is waiting).",
            value=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        )


def scrape(accept: str | None) -> tuple[bytes, str]:
    """The metrics in the format the scraper accepts, and its content type."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(metrics.MULTIPROCESS_DIR):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(_DatabaseFigures())
    encode, content_type = choose_encoder(accept)
    return encode(registry), content_type
