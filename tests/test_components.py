"""GOV.UK components kept once drawn (booking/web/components.py) are the same HTML as drawn
afresh, and parameters holding Markup are never kept."""

from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from booking.web import components

BLOCKS = {
    "name": "block",
    "idPrefix": "block-filter",
    "fieldset": {"legend": {"text": "Blocks"}},
    "items": [
        {"value": "bloxwich", "text": "Bloxwich <custody>", "checked": False},
        {"value": "oldbury", "text": "Oldbury & Smethwick", "checked": True},
    ],
}


def test_a_kept_component_is_the_html_drawn_afresh_and_is_drawn_once(app):
    with app.test_request_context():
        components._rendered.cache_clear()
        fresh = Markup(render_template(components.CHECKBOXES, params=BLOCKS))
        assert components.render_component(components.CHECKBOXES, BLOCKS) == fresh
        assert components.render_component(components.CHECKBOXES, BLOCKS) == fresh
        assert "Bloxwich &lt;custody&gt;" in fresh  # text is still escaped
        assert components._rendered.cache_info().hits == 1


def test_parameters_holding_markup_are_drawn_afresh_every_time(app):
    marked = BLOCKS | {"hint": {"html": Markup("<strong>Leave all unticked</strong>")}}
    with app.test_request_context():
        components._rendered.cache_clear()
        drawn = components.render_component(components.CHECKBOXES, marked)
        assert "<strong>Leave all unticked</strong>" in drawn
        assert components._rendered.cache_info().currsize == 0


def test_the_block_select_is_kept_too(app):
    from booking.web.forms.fields import DetailsForm

    with app.test_request_context():
        components._rendered.cache_clear()
        form = DetailsForm(meta={"csrf": False})
        form.arrest_block.choices = [("", "Choose a block"), ("oldbury", "Oldbury")]
        first, again = str(form.arrest_block()), str(form.arrest_block())
        assert first == again and 'value="oldbury"' in first
        assert components._rendered.cache_info().hits == 1


def test_parameters_json_cannot_hold_are_drawn_afresh(app):
    import datetime as dt

    dated = BLOCKS | {"attributes": {"data-day": dt.date(2027, 1, 15)}}
    with app.test_request_context():
        components._rendered.cache_clear()
        drawn = components.render_component(components.CHECKBOXES, dated)
        assert 'data-day="2027-01-15"' in drawn
        assert components._rendered.cache_info().currsize == 0
