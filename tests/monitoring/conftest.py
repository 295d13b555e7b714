"""Reading /metrics as Prometheus reads it, and what changed between two scrapes."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families


class Scrape:
    """The samples of one /metrics answer, by name and labels."""

    def __init__(self, text: str):
        self.text = text
        self.values = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def value(self, name: str, **labels: str) -> float | None:
        return self.values.get((name, frozenset(labels.items())))

    def __sub__(self, earlier: Scrape) -> Changes:
        return Changes(
            {
                key: value - earlier.values.get(key, 0.0)
                for key, value in self.values.items()
                if value != earlier.values.get(key, 0.0)
            }
        )


class Changes:
    """How much each sample grew between two scrapes (the counters of every test before this
    one are in both)."""

    def __init__(self, grown: dict):
        self.grown = grown

    def of(self, name: str, *label_names: str) -> dict:
        """The growth of `name`'s samples, by the values of these labels (a single value for
        one label, else a tuple)."""
        changes = {}
        for (sample, labels), grown in self.grown.items():
            if sample == name:
                values = tuple(dict(labels)[label] for label in label_names)
                changes[values[0] if len(values) == 1 else values] = grown
        return changes


@pytest.fixture
def scrape(client):
    """GET /metrics as Prometheus on this machine would, parsed."""

    def get() -> Scrape:
        response = client.get("/metrics")
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "text/plain"
        return Scrape(response.get_data(as_text=True))

    return get
