"""GOV.UK components rendered once per process for each set of parameters they are given.

A component's HTML depends on its parameters alone, but the Jinja macros build it slowly: a
select or a set of checkboxes listing every custody block took most of a page's time at
national scale (about 25 ms for 200 blocks). The same list is drawn again and again, so each
rendering is kept, keyed by its parameters. Parameters holding Markup (HTML the caller has
marked safe), or anything JSON cannot hold, are rendered afresh every time: a key made of
plain strings could not tell Markup from text to escape.
"""

from __future__ import annotations

import json
from functools import lru_cache

from flask import render_template
from govuk_frontend_wtf.wtforms_widgets import GovSelect
from markupsafe import Markup

# govuk_frontend_wtf's template for checkboxes: it calls the component's macro with `params`.
CHECKBOXES = "govuk_frontend_wtf/checkboxes.html"


def render_component(template: str, params: dict) -> Markup:
    """The component's HTML, from this process's store when it has been drawn before."""
    if _holds_markup(params):
        return Markup(render_template(template, params=params))
    try:
        key = json.dumps(params, sort_keys=True)
    except TypeError:  # a value JSON cannot hold (a date, say): no key, so drawn afresh
        return Markup(render_template(template, params=params))
    return _rendered(template, key)


@lru_cache(maxsize=256)
def _rendered(template: str, params_json: str) -> Markup:
    return Markup(render_template(template, params=json.loads(params_json)))


def _holds_markup(value) -> bool:
    if isinstance(value, Markup):
        return True
    if isinstance(value, dict):
        return any(_holds_markup(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_holds_markup(item) for item in value)
    return False


class Kept:
    """For a govuk_frontend_wtf widget: its HTML kept for each set of parameters."""

    template: str

    def render(self, params):
        return render_component(self.template, params)


class KeptSelect(Kept, GovSelect):
    """GovSelect, drawn once for each set of choices, choice and error."""


def register(app) -> None:
    """`checkboxes_kept(params)` for templates: govukCheckboxes(params), kept."""
    app.jinja_env.globals["checkboxes_kept"] = lambda params: render_component(CHECKBOXES, params)
