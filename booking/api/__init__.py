"""The JSON API for custody systems, under /api/v1.

Every shape is defined once, as a pydantic model: request bodies and query parameters in
schemas.py, answers in responses.py. Each route is registered with `operations.operation`,
which names its method, path, operationId, tag, roles, models and further answers; the route
reads and writes through those models, and openapi.py makes /api/v1/openapi.json from the
same register with pydantic's own JSON Schema generator.

Why not spectree or flask-openapi3: both validate requests themselves and answer with error
bodies and status codes of their own (a 422 for a bad query string, pydantic's messages), so
keeping the contract's 400 `Bad parameter` errors, the 400/422 split for bodies, the 409
`alternatives` and `Idempotency-Key` replays would mean overriding most of what they do; and a
new run-time dependency would be needed. The register and the generator are about 300 lines.
"""

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api/v1")

from . import court_routes, pathway_routes, routes  # noqa: E402,F401  (routes register on import)
