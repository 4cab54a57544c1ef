"""Security headers on every response, and no caching of anything personal.

A plain ASGI middleware (not BaseHTTPMiddleware): it only touches the response's start message,
so file downloads still stream and errors raised by routes pass through unchanged.
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The dashboard has no script at all and one stylesheet; SVG charts are inline markup, and a
# TOTP enrolment QR code may be a data: image. Forms post only to this site, no one may frame
# a page (clickjacking), and no <base> tag may re-point relative links.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'none'", "style-src 'self'", "img-src 'self' data:",
    "object-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'",
])
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # A downloaded file (evidence sent by a worker) is never sniffed into HTML or script.
    "X-Content-Type-Options": "nosniff",
    # Case links carry references; they stay off other sites' logs.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# Only the stylesheet is cacheable: every page and download shows a case, a conversation,
# evidence or figures, which must not stay in a shared computer's browser cache.
CACHEABLE_PREFIXES = ("/staff/static/",)
# FastAPI's own docs page loads its script from a CDN; it is off unless API_DOCS is set.
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name == "Content-Security-Policy" and path in DOCS_PATHS:
                        continue
                    headers[name] = value
                if not path.startswith(CACHEABLE_PREFIXES):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
