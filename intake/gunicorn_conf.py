"""gunicorn settings for intake: `gunicorn -c python:intake.gunicorn_conf 'intake:create_app()'`.

gunicorn names itself in a `Server:` header on every response and has no setting to stop it;
a scanner need not be told what answers. `post_worker_init` drops that header in each worker.
Only gunicorn imports this module (never `create_app`).
"""

from __future__ import annotations

from typing import Any

# The access log leaves out client addresses: reports must not be traceable to an IP.
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s'


def _without_server(default_headers: Any) -> Any:
    def headers(self: Any) -> list[str]:
        return [h for h in default_headers(self) if not h.lower().startswith("server:")]

    headers.intake_no_server = True  # type: ignore[attr-defined]
    return headers


def post_worker_init(worker: Any) -> None:
    """gunicorn hook: responses from this worker carry no `Server` header."""
    from gunicorn.http import wsgi  # type: ignore[import-untyped]

    if not getattr(wsgi.Response.default_headers, "intake_no_server", False):
        wsgi.Response.default_headers = _without_server(wsgi.Response.default_headers)
