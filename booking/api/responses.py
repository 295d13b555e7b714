"""The API's answers: errors in the contract's shape."""

from flask import jsonify


def error_response(message: str, status: int, errors: dict | None = None, **extra):
    body = {"error": message, "errors": errors or {}}
    body.update(extra)
    return jsonify(body), status
