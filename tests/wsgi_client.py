"""Requests through advisor.wsgi.application, as gunicorn sends them: PageCache in front of Django's handler.

Django's test client calls the handler directly, so it never meets PageCache; these helpers do.
"""

from http.cookies import SimpleCookie

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
    environ = RequestFactory().get(url, secure=True, headers=headers).environ
    if cookies:
        environ["HTTP_COOKIE"] = "; ".join(
            f"{name}={getattr(value, 'value', value)}" for name, value in cookies.items()
        )
    started = []
    body = application(
        environ, lambda status, response_headers, exc_info=None: started.append((status, response_headers))
    )
    try:
        content = b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()  # Django's request_finished, as a WSGI server calls it
    return Response(*started[0], content)
