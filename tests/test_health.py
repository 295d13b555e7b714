from booking import create_app
from booking.models import Role
from tests.support import sign_in


def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_pages_need_a_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_sign_in_with_the_right_password(client, users, login):
    response = login("sergeant")
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_answer(client, users):
    wrong = sign_in(client, Role.SERGEANT, password="nope")
    unknown = client.post("/login", data={"email": "nobody@test.example", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 400
    assert b"Enter a correct email address and password" in wrong.data
    assert b"Enter a correct email address and password" in unknown.data


def test_healthz_answers_503_when_the_database_does_not_answer(tmp_path):
    """The load balancer takes a process out of service when its database is out of reach."""
    unreachable = f"sqlite:///{tmp_path / 'no-such-folder' / 'booking.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": unreachable})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}
