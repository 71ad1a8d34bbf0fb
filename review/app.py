"""The analysts' review app: `create_app(config, store)` builds the FastAPI application with its
session handling, security headers, templates, static files, error pages and every router
listed in review/routes (ROUTERS).

Templates get filters for scraped text (autoescape stays on; these add to it): `safe_text`
(controls and bidi overrides removed, links defanged), `one_line` (that, on one line) and
`payload` (an event's payload as one line of JSON, defanged).

Every router is included with `csrf_protect` as a dependency, so no state-changing route can
forget it. Errors are one clear line with their status: a page for browsers, JSON otherwise.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from crawler.config import KyranConfig
from crawler.defang import defang, json_line, one_line, safe
from crawler.store.db import Store
from review.auth import SESSION_COOKIE, Revocations, SessionCodec
from review.i18n import Translator, load_catalogs
from review.routes import ROUTERS
from review.stats import DashboardCache
from review.security import SECURITY_HEADERS, AddressLimiter, load_secret_key
from review.web import CurrentUser, LoginRequired, csrf_protect, render

HERE = Path(__file__).parent
LOG = logging.getLogger("kyran.review")


def wants_html(request: Request) -> bool:
    return (not request.url.path.startswith("/api")
            and "text/html" in request.headers.get("accept", ""))


def _one_line(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid request"
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    return f"{where}: {first.get('msg', 'invalid')}".strip(": ")


def _error(request: Request, status: int, message: str, headers=None) -> Response:
    if wants_html(request):
        try:
            response = render(request, "error.html", status_code=status, message=message)
        except Exception:  # the error page itself failed (e.g. the store is down)
            LOG.exception("error page failed")
            response = Response(message + "\n", status_code=status, media_type="text/plain")
    else:
        key = "error" if request.url.path.startswith("/api") else "detail"  # the API's shape
        response = JSONResponse({key: message}, status_code=status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired):
        if request.method == "GET" and wants_html(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            response = RedirectResponse(f"/login?next={_quote(target)}", status_code=303)
            return response
        key = "error" if request.url.path.startswith("/api") else "detail"
        return JSONResponse({key: "login required"}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        return _error(request, exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        return _error(request, 422, _one_line(exc))

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception):
        LOG.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__,
                  exc_info=exc)
        return _error(request, 500, "internal error; the log says more")


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


def _install_session(app: FastAPI, codec: SessionCodec, config: KyranConfig) -> None:
    review = config.review

    @app.middleware("http")
    async def session_and_headers(request: Request, call_next):
        static = request.url.path.startswith("/static/")
        if not static:
            request.state.session = codec.decode(request.cookies.get(SESSION_COOKIE))
        try:
            response = await call_next(request)
        except Exception as exc:  # a failure no handler took: one line, with the headers too
            LOG.error("%s %s failed: %s", request.method, request.url.path,
                      type(exc).__name__, exc_info=exc)
            response = _error(request, 500, "internal error; the log says more")
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if static:
            return response
        response.headers["cache-control"] = "no-store"
        data = getattr(request.state, "session", None)
        token_request = getattr(request.state, "via_token", False)
        if data is not None and not token_request and (data.changed or data.user_id):
            response.set_cookie(SESSION_COOKIE, codec.encode(data),
                                max_age=review.session_hours * 3600, path="/",
                                httponly=True, samesite="strict",
                                secure=review.secure_cookies)
        return response


def create_app(config: KyranConfig, store: Store) -> FastAPI:
    """The review app on `store`; SecretKeyError when the signing key cannot be used."""
    key = load_secret_key(config.resolve(config.review.secret_key_file))
    app = FastAPI(title="Kyran review", version="1", docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.config = config
    app.state.store = store
    app.state.codec = SessionCodec(key, config.review.session_hours * 3600)
    app.state.revocations = Revocations(config.review.session_hours * 3600)
    with store.reader() as session:
        app.state.revocations.load(session)
    app.state.translator = Translator(load_catalogs())
    app.state.dashboard_cache = DashboardCache()
    app.state.login_limiter = AddressLimiter(
        limit=config.review.login_attempts * 4, window=config.review.lockout_minutes * 60)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.autoescape = True
    templates.env.filters.update(safe_text=safe, one_line=one_line,
                                 payload=lambda value: defang(json_line(value)))
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for name in ROUTERS:
        module = importlib.import_module(name)
        app.include_router(module.router, dependencies=[Depends(csrf_protect)])

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(_user: CurrentUser) -> JSONResponse:
        """The API's OpenAPI schema, for logged-in users and tokens only."""
        return JSONResponse(app.openapi())

    _install_handlers(app)
    _install_session(app, app.state.codec, config)
    return app
