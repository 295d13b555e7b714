"""What a page costs over a slow network: compressed answers, static files under fingerprinted
names that a browser keeps for a year, and only the GOV.UK styles and scripts the pages use.

The pages' own static URLs come from the build `make assets` made (booking/static/); the cache
rules are also shown on a static folder of the test's own. bench/page_weight.py measures the
bytes in a real browser.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import brotli
import govuk_frontend_jinja
import govuk_frontend_wtf.wtforms_widgets as govuk_widgets
import pytest
from flask import url_for

from booking.assets import Manifest
from booking.models import Role
from booking.web.forms import fields as own_widgets

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
YEAR = "public, max-age=31536000, immutable"
STATIC_URL = re.compile(r'(?:href|src)="(/static/[^"]+)"')
FINGERPRINTED = re.compile(r"\.[0-9a-f]{10}\.\w+$")
DECODE = {"br": brotli.decompress, "gzip": gzip.decompress}


@pytest.fixture
def sergeant(client, users, login):
    assert login(Role.SERGEANT).status_code == 302
    return client


def nonce(response) -> str:
    return re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])[1]


def static_urls(html: str) -> list[str]:
    return STATIC_URL.findall(html)


# Compressed answers ------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["br", "gzip", "gzip, deflate, br"])
def test_a_page_is_never_compressed_for_it_holds_the_csrf_token(sergeant, encoding):
    """A compressed page holding a secret beside text someone else chose leaks the secret by
    its size (BREACH): pages go as they are, whatever the browser takes."""
    response = sergeant.get("/bookings/new", headers={"Accept-Encoding": encoding})

    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    html = response.get_data(as_text=True)
    assert 'name="csrf_token"' in html
    assert f'<script nonce="{nonce(response)}">' in html
    assert response.headers["Cache-Control"] == "no-store"


def test_a_tiny_answer_is_not_compressed(client, app):
    response = client.get("/healthz", headers={"Accept-Encoding": "br, gzip"})

    assert response.status_code == 200
    assert len(response.get_data()) < app.config["COMPRESS_MIN_SIZE"]
    assert "Content-Encoding" not in response.headers


def test_api_answers_come_compressed(client):
    response = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})

    assert response.headers["Content-Encoding"] == "gzip"
    assert "paths" in json.loads(gzip.decompress(response.get_data()))


# Fingerprinted static files ----------------------------------------------------------------------


def test_a_page_names_its_static_files_by_fingerprint_and_they_are_kept_a_year(sergeant):
    page = sergeant.get("/bookings/new")
    urls = static_urls(page.get_data(as_text=True))

    assert len(urls) == 4  # the stylesheet, the icon, GOV.UK's scripts and the time-out's
    for url in urls:
        assert FINGERPRINTED.search(url), url
        with sergeant.get(url, headers={"Accept-Encoding": "br"}) as response:
            assert response.status_code == 200, url
            assert response.headers["Cache-Control"] == YEAR
            assert "Set-Cookie" not in response.headers
            # The session cookie changes with every page: a file varying by it would be
            # asked for again.
            assert "Cookie" not in response.headers["Vary"]
            if url.endswith((".css", ".js")):
                assert response.headers["Content-Encoding"] == "br"
                body = response.get_data()
                assert len(brotli.decompress(body)) > 2 * len(body)


def test_the_sign_in_page_loads_no_script_for_the_signed_in(client):
    urls = static_urls(client.get("/login").get_data(as_text=True))

    scripts = [url for url in urls if url.endswith(".js")]
    assert len(scripts) == 1 and scripts[0].startswith("/static/js/govuk.")


def test_a_fingerprint_the_build_did_not_make_is_not_found(client):
    response = client.get("/static/app.0123456789.css")

    assert response.status_code == 404


@pytest.fixture
def own_static(app, tmp_path):
    """A static folder of the test's own: one stylesheet, built twice, the second current."""
    (tmp_path / "app.css").write_text("body{color:#0b0c0c}")
    (tmp_path / "app.1111111111.css").write_text("body{color:red}")
    (tmp_path / "app.2222222222.css").write_text("body{color:#0b0c0c}")
    (tmp_path / "asset-manifest.json").write_text(json.dumps({"app.css": "app.2222222222.css"}))
    app.static_folder = str(tmp_path)
    app.extensions["assets"] = Manifest(tmp_path / "asset-manifest.json")
    return tmp_path


def test_url_for_gives_the_current_fingerprint(app, own_static):
    with app.test_request_context():
        assert url_for("static", filename="app.css") == "/static/app.2222222222.css"
        assert url_for("static", filename="other.css") == "/static/other.css"


def test_only_the_current_fingerprint_is_served_and_for_a_year(client, own_static):
    with client.get("/static/app.2222222222.css") as current:
        assert current.status_code == 200
        assert current.headers["Cache-Control"] == YEAR
    # Still on disk, but not the build's now.
    with client.get("/static/app.1111111111.css") as earlier:
        assert earlier.status_code == 404


def test_a_file_under_its_plain_name_is_kept_five_minutes(client, own_static):
    with client.get("/static/app.css") as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=300"
        etag = response.headers["ETag"]

    # Then asked again, and answered 304 while unchanged.
    with client.get("/static/app.css", headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304


def test_a_new_build_is_followed_without_a_restart(app, own_static):
    (own_static / "app.3333333333.css").write_text("body{color:blue}")
    manifest = own_static / "asset-manifest.json"
    manifest.write_text(json.dumps({"app.css": "app.3333333333.css"}))
    app.extensions["assets"].current()._read_at = None  # as if the file's time had changed

    with app.test_request_context():
        assert url_for("static", filename="app.css") == "/static/app.3333333333.css"


# Only what the pages use -------------------------------------------------------------------------

COMPONENTS = Path(govuk_frontend_jinja.__file__).parent / "templates" / "components"
COMPONENT_NAMES = {path.name for path in COMPONENTS.iterdir() if path.is_dir()}
MACRO = re.compile(r"components/([a-z-]+)/macro\.html")
GOVUK_CLASS = re.compile(r"\bgovuk-([a-z]+(?:-[a-z]+)*)(?:__|--|\b)")


def service_sources() -> list[Path]:
    return [*TEMPLATES.rglob("*.html"), *(ROOT / "booking").rglob("*.py")]


def components_in_use() -> set[str]:
    """GOV.UK components the pages render: by macro, by form widget, by class name, and the
    skip link of GOV.UK's page template."""
    used = {"skip-link"}
    for path in service_sources():
        text = path.read_text()
        used |= set(MACRO.findall(text))
        used |= {name for name in GOVUK_CLASS.findall(text) if name in COMPONENT_NAMES}
        for name in re.findall(r"\bwidget\s*=\s*(\w+)\(", text):
            widget = getattr(govuk_widgets, name, None) or getattr(own_widgets, name)
            template = widget.template.removeprefix("govuk_frontend_wtf/")
            source = Path(govuk_widgets.__file__).parent / "templates" / template
            used |= set(MACRO.findall(source.read_text()))
    return used


def test_the_stylesheet_compiles_exactly_the_govuk_components_the_pages_use():
    compiled = set(re.findall(r'@use "govuk-frontend/dist/govuk/components/([a-z-]+)"', _scss()))

    assert compiled == components_in_use()


def _scss() -> str:
    return (ROOT / "assets" / "app.scss").read_text()


def test_govuk_scripts_start_exactly_the_components_the_pages_render():
    modules = set()
    for name in components_in_use():
        modules |= set(re.findall(r'data-module="govuk-([a-z-]+)"', _component_source(name)))
    for path in TEMPLATES.rglob("*.html"):
        modules |= set(re.findall(r'data-module="govuk-([a-z-]+)"', path.read_text()))
    source = (ROOT / "assets" / "js" / "govuk.mjs").read_text()
    imported = re.search(r"import \{([^}]*)\} from 'govuk-frontend'", source)[1]
    started = {
        re.sub(r"(?<!^)([A-Z])", r"-\1", name).lower()
        for name in re.findall(r"\b[A-Z]\w+", imported)
    }

    assert started == modules


def _component_source(name: str) -> str:
    return "".join(path.read_text() for path in (COMPONENTS / name).glob("*.html"))


@pytest.mark.parametrize(
    "script, hook",
    [("js/print.js", "data-app-print"), ("js/scroll-hint.js", "data-app-scroll-hint")],
)
def test_a_page_script_is_loaded_by_exactly_the_templates_that_need_it(script, hook):
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        assert (hook in text) == (f"filename='{script}'" in text), path.relative_to(ROOT)


def test_every_govuk_class_the_pages_name_is_in_the_built_stylesheet_as_in_govuk_frontend():
    """A class GOV.UK Frontend styles (in its own stylesheet of everything) is styled here too."""
    everything = ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk"
    if not (everything / "govuk-frontend.min.css").exists():
        pytest.skip("GOV.UK Frontend is not installed: `make assets` installs it")
    full = (everything / "govuk-frontend.min.css").read_text()
    built = (ROOT / "booking" / "static" / "app.css").read_text()
    missing = set()
    for path in service_sources():
        for name in GOVUK_CLASS_NAME.findall(path.read_text()):
            selector = re.compile(re.escape("." + name.replace("!", "\\!")) + r"(?![\w-])")
            if selector.search(full) and not selector.search(built):
                missing.add(name)

    assert missing == set()


GOVUK_CLASS_NAME = re.compile(r"\bgovuk-(?:!-)?[a-z0-9]+(?:(?:-|__|--)[a-z0-9]+)*")
