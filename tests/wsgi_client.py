"""Requests through advisor.wsgi.application, as gunicorn sends them: PageCache in front of Django's handler.

Django's test client calls the handler directly, so it never meets PageCache; these helpers do.
"""

from contextlib import contextmanager
from http.cookies import SimpleCookie

from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory
from django.utils.datastructures import CaseInsensitiveMapping

from advisor.wsgi import application


class Response:
    def __init__(self, status: str, headers: list, body: bytes):
        self.status_code = int(status[:3])
        self.headers = CaseInsensitiveMapping({name: value for name, value in headers if name != "Set-Cookie"})
        self.cookies = SimpleCookie("\n".join(value for name, value in headers if name == "Set-Cookie"))
        self.content = body

    def __getitem__(self, name):
        return self.headers[name]

    def get(self, name, default=None):
        return self.headers.get(name, default)


def wsgi_get(url: str, cookies=None, **headers) -> Response:
    """GET `url` over HTTPS with these request headers and cookies ({name: value} or a SimpleCookie)."""
    return wsgi_request(url, cookies=cookies, headers=headers)


def wsgi_request(url: str, method: str = "GET", cookies=None, headers=None) -> Response:
    """`method` on `url` over HTTPS, as wsgi_get."""
    environ = RequestFactory().generic(method, url, secure=True, headers=headers).environ
    if cookies:
        environ["HTTP_COOKIE"] = "; ".join(
            f"{name}={getattr(value, 'value', value)}" for name, value in cookies.items()
        )
    started = []
    # As Django's test client does: the handler closes "old" connections around each request, and the test's
    # own connection (inside the test transaction) looks old to it: PostgreSQL would lose it.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = application(environ, lambda status, headers, exc_info=None: started.append((status, headers)))
        content = b"".join(body)
        if hasattr(body, "close"):
            body.close()  # Django's request_finished, as a WSGI server calls it
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return Response(*started[0], content)


@contextmanager
def django_handler_runs():
    """A list that gets the path of every request Django's handler starts (the page cache answers in front of it)."""
    seen = []

    def started(environ=None, **kwargs):
        seen.append(environ.get("PATH_INFO") if environ else None)

    request_started.connect(started)  # held by this frame while the block runs
    try:
        yield seen
    finally:
        request_started.disconnect(started)
