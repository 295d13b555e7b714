"""Court work's set-up: the courts."""

from __future__ import annotations

import pytest

from tests.support import add_courts


@pytest.fixture
def courts(app):
    return add_courts()
