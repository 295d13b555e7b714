"""deploy/nginx/booking.conf: accepted by `nginx -t`, and in front of the app (run by
booking-web.service's own commands) it ends TLS, hands the app the client's address and scheme
through the headers PROXY_FIX_HOPS=1 trusts, serves static files with the app's cache headers,
compresses no page, refuses /metrics, and logs no address, query string or feed token.

Needs Debian's nginx and openssl (the certificate is made for each test); without them the
tests are skipped. nginx runs from a folder of the test's own, on free loopback ports.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select

from booking.accounts.users import issue_token
from booking.assets import MANIFEST
from booking.clock import LONDON
from booking.extensions import db
from booking.models import AuditEvent, Role
from tests import support
from tests.deploy.live import DEPLOY, INSTALLED_AT, ROOT, Child, free_port, http_get, rewritten
from tests.deploy.live import web_unit as web_unit_serving

NGINX = shutil.which("nginx") or next(
    (path for path in ("/usr/sbin/nginx",) if os.access(path, os.X_OK)), None
)
OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(
    NGINX is None or OPENSSL is None, reason="no nginx or openssl (apt-get install nginx openssl)"
)
HOST = "booking.example.org"
YEAR = "public, max-age=31536000, immutable"
# The test's client connects from here, so that its address differs from nginx's own.
CLIENT_ADDRESS = "127.0.0.2"
FORGED_ADDRESS = "203.0.113.9"
FEED_TOKEN = "a-secret-feed-token-0123456789"

WRAPPER = """
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log;
{user}
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    # As Debian's /etc/nginx/nginx.conf has it: the site must turn it off for its pages.
    gzip on;
    include {folder}/booking.conf;
}}
"""


@dataclass
class Site:
    folder: Path
    config: Path
    http_port: int
    https_port: int
    certificate: Path

    def access_log(self) -> str:
        return (self.folder / "booking-access.log").read_text()


def make_site(folder: Path, app_port: int) -> Site:
    """The site as installed, with this test's ports, paths and a self-signed certificate."""
    certificate, key = folder / "booking.pem", folder / "booking.key"
    subprocess.run(
        [
            OPENSSL,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={HOST}",
            "-addext",
            f"subjectAltName=DNS:{HOST},IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(certificate),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    http_port, https_port = free_port(), free_port()
    site = rewritten(
        (DEPLOY / "nginx" / "booking.conf").read_text(),
        {
            "listen [::]:80;\n": "",
            "listen [::]:443 ssl http2;\n": "",
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
            "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
            f"{INSTALLED_AT}/": f"{ROOT}/",
            "/etc/ssl/certs/booking.pem": str(certificate),
            "/etc/ssl/private/booking.key": str(key),
            "/var/log/nginx/": f"{folder}/",
        },
    )
    (folder / "booking.conf").write_text(site)
    config = folder / "nginx.conf"
    # As root, nginx's workers would run as nobody, who may not read the test's folder.
    user = "user root;" if os.geteuid() == 0 else ""
    config.write_text(WRAPPER.format(folder=folder, user=user))
    return Site(folder, config, http_port, https_port, certificate)


def test_nginx_accepts_the_site(tmp_path):
    site = make_site(tmp_path, app_port=8000)
    done = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(site.config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr
    assert "warn" not in done.stderr


class Through:
    """Requests to nginx over TLS, checked against the test's certificate."""

    def __init__(self, site: Site):
        self.site = site
        self.context = ssl.create_default_context(cafile=str(site.certificate))

    def request(
        self,
        path: str,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: dict | None = None,
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        connection = http.client.HTTPSConnection(
            "127.0.0.1",
            self.site.https_port,
            context=self.context,
            timeout=30,
            source_address=(CLIENT_ADDRESS, 0),
        )
        try:
            sent = {"Host": HOST, **(headers or {})}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                sent["Content-Type"] = "application/json"
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def plain_http(self, path: str) -> tuple[int, http.client.HTTPMessage]:
        connection = http.client.HTTPConnection("127.0.0.1", self.site.http_port, timeout=30)
        try:
            connection.request("GET", path, headers={"Host": HOST})
            response = connection.getresponse()
            response.read()
            return response.status, response.headers
        finally:
            connection.close()


def wait_for_port(port: int, nginx: Child) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                return
        except OSError:
            assert nginx.process.poll() is None, nginx.log()
            assert time.monotonic() < deadline, nginx.log()
            time.sleep(0.1)


@pytest.fixture
def sergeant_token(app, blocks, team) -> str:
    """A sergeant's token and a rota for today, by the real clock that the served app reads."""
    now = dt.datetime.now(dt.UTC)
    support.fill_rota(now.astimezone(LONDON).date(), 3)
    token = issue_token(support.add_user(Role.SERGEANT, now), now)
    db.session.commit()
    return token


def test_through_nginx(app, schema, sergeant_token, tmp_path):
    with web_unit_serving(schema, tmp_path) as direct:
        site = make_site(tmp_path, app_port=int(direct.rsplit(":", 1)[1]))
        nginx = Child([NGINX, "-p", str(tmp_path), "-c", str(site.config)], {}, tmp_path / "n.log")
        try:
            wait_for_port(site.https_port, nginx)
            through = Through(site)
            check_https_only(through)
            check_health(through, direct)
            check_forwarded_scheme_and_no_compressed_page(through, direct)
            check_metrics_refused(through)
            check_static_files(through, direct)
            check_forwarded_address(through, sergeant_token)
            check_access_log(through, site)
        finally:
            assert nginx.stop() == 0, nginx.log()


def check_https_only(through: Through) -> None:
    status, headers = through.plain_http("/login?next=%2F")
    assert (status, headers["Location"]) == (301, f"https://{HOST}/login?next=%2F")


def check_health(through: Through, direct: str) -> None:
    status, _, body = through.request("/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    # /readyz passes through: the web unit migrated the database before gunicorn started.
    status, _, body = through.request("/readyz")
    assert (status, json.loads(body)) == (200, {"status": "ready"})


def check_forwarded_scheme_and_no_compressed_page(through: Through, direct: str) -> None:
    # The app knows the request came over HTTPS (X-Forwarded-Proto), so it sends HSTS...
    status, headers, _ = through.request(
        "/login", headers={"Accept-Encoding": "gzip", "X-Forwarded-Proto": "http"}
    )
    assert status == 200
    assert headers.get_all("Strict-Transport-Security") == ["max-age=31536000; includeSubDomains"]
    # ... which it does not over plain HTTP, and the page is not compressed (BREACH).
    assert "Strict-Transport-Security" not in http_get(f"{direct}/login")[1]
    assert "Content-Encoding" not in headers
    assert headers["Cache-Control"] == "no-store"


def check_metrics_refused(through: Through) -> None:
    for path in ("/metrics", "/metrics/", "/%6Detrics", "//metrics", "/static/../metrics"):
        assert through.request(path)[0] == 403, path


def check_static_files(through: Through, direct: str) -> None:
    """Every built file, under both names, as the app serves it: same body, same caching."""
    manifest = json.loads(MANIFEST.read_text())
    static = ROOT / "booking" / "static"
    for plain, fingerprinted in manifest.items():
        for name in (plain, fingerprinted):
            status, headers, body = through.request(f"/static/{name}")
            assert status == 200, name
            assert body == (static / name).read_bytes(), name
            app_headers = http_get(f"{direct}/static/{name}")[1]
            assert headers["Cache-Control"] == app_headers["Cache-Control"], name
            assert (
                headers["Content-Type"].split(";")[0] == app_headers["Content-Type"].split(";")[0]
            ), name
            assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Cache-Control"] == YEAR
    status, headers, body = through.request(
        f"/static/{manifest['app.css']}", headers={"Accept-Encoding": "gzip"}
    )
    assert (status, headers["Content-Encoding"]) == (200, "gzip")
    assert len(body) < (static / manifest["app.css"]).stat().st_size
    # A name of no build (not on disk) is a 404, and nobody keeps it for a year.
    status, headers, _ = through.request("/static/app.0123456789.css")
    assert status == 404
    assert "Cache-Control" not in headers
    assert through.request("/static/../config.py")[0] == 404


def check_forwarded_address(through: Through, token: str) -> None:
    """The app records the client's address, not nginx's, nor one the client made up."""
    now = dt.datetime.now(dt.UTC)
    # Not the earliest slot: the minimum lead (an hour) could pass it before it is booked.
    after = quote((now + dt.timedelta(minutes=75)).isoformat(timespec="seconds"))
    status, _, body = through.request(
        f"/api/v1/slots?limit=1&after={after}", headers={"Authorization": f"Bearer {token}"}
    )
    assert status == 200, body
    (slot,) = json.loads(body)
    tested_at = (now - dt.timedelta(hours=1)).isoformat(timespec="seconds")
    status, _, body = through.request(
        "/api/v1/bookings",
        method="POST",
        headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": FORGED_ADDRESS},
        body=support.booking_body(slot, tested_at=tested_at, arrest_block=slot["block"]),
    )
    assert status == 201, body
    reference = json.loads(body)["reference"]
    db.session.remove()
    addresses = db.session.scalars(
        select(AuditEvent.remote_addr).where(AuditEvent.reference == reference)
    ).all()
    db.session.remove()  # SQLite: a transaction left open would hold up the app's next one
    assert addresses and set(addresses) == {CLIENT_ADDRESS}


def check_access_log(through: Through, site: Site) -> None:
    assert through.request(f"/calendar/{FEED_TOKEN}.ics?name=Jo+Bloggs")[0] == 404
    logged = site.access_log()
    assert " GET /calendar/[token].ics 404 " in logged
    assert " POST /api/v1/bookings 201 " in logged
    for withheld in (FEED_TOKEN, "Bloggs", "limit=", CLIENT_ADDRESS, FORGED_ADDRESS):
        assert withheld not in logged
