"""Headers, access token and cross-site request protection for the web app.

- Every response carries a strict Content-Security-Policy (no inline script or style), and
  links out send no referrer (same-origin policy: our own forms keep their Origin).
- With a token configured (required off loopback), every request must prove it: an
  ``Authorization: Bearer`` header, an HTTP Basic password (feed readers), or the session
  cookie the login form sets. The token is compared in constant time and never logged.
- State-changing requests are refused when the browser says they come from another site, and
  HTML forms carry a double-submit token bound to a SameSite=Strict cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
       " object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SESSION_COOKIE = "newsmon_session"
CSRF_COOKIE = "newsmon_csrf"
OPEN_PATHS = ("/login", "/static/")
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def session_value(token: str) -> str:
    """What the session cookie holds: derived from the token, so the token itself never is."""
    return hmac.new(token.encode(), b"newsmon web session", hashlib.sha256).hexdigest()


def same_secret(a: str, b: str) -> bool:
    """Constant-time comparison (a token, a cookie): no timing tells how much of it matched."""
    return hmac.compare_digest(a.encode(), b.encode())


def token_ok(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value and same_secret(value.strip(), token):
        return True
    if scheme.lower() == "basic" and value:
        try:
            _user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return same_secret(password, token)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    return bool(cookie) and same_secret(cookie, session_value(token))


def cross_site(request: Request) -> bool:
    """True when the browser tells us the request was made by another site's page."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return urlsplit(origin).netloc != request.headers.get("host", "")
    return origin == "null"


def csrf_ok(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie and submitted) and same_secret(cookie, submitted or "")


class SecurityMiddleware(BaseHTTPMiddleware):
    def __init__(self, app, token: str = "") -> None:
        super().__init__(app)
        self.token = token

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        path = request.url.path
        if self.token and not path.startswith(OPEN_PATHS) and not token_ok(request, self.token):
            if request.method == "GET" and not path.startswith("/api/") and "." not in path:
                response: Response = RedirectResponse("/login", status_code=303)
            else:
                response = PlainTextResponse("access token required", status_code=401,
                                             headers={"WWW-Authenticate": 'Basic realm="newsmon"'})
            return _harden(response)
        if request.method in UNSAFE_METHODS and cross_site(request):
            return _harden(PlainTextResponse("cross-site request refused", status_code=403))
        csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        request.state.csrf = csrf
        response = await call_next(request)
        if CSRF_COOKIE not in request.cookies:
            response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict",
                                secure=request.url.scheme == "https")
        return _harden(response)


def _harden(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"  # outlets get none; our forms an Origin
    response.headers["X-Frame-Options"] = "DENY"
    return response
