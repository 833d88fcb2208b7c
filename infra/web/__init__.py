"""The caseworker pages (`/ui/`), their assets, and Swagger UI at `/docs`, all served by the
service itself: nothing is fetched from a CDN, so the pages and `/docs` work offline.

The assets are npm packages pinned in `infra/web/package-lock.json` and installed by
`make assets` (`npm ci`) into `infra/web/node_modules/`; `infra/web/ASSETS.md` lists them
with their versions and licences. Without them the pages still work, unstyled.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

log = logging.getLogger("ruskontrakt.web")
HERE = Path(__file__).parent
NODE_MODULES = HERE / "node_modules"
# URL prefix -> directory: only these folders of the packages are served.
ASSETS = {
    "/ui/assets/designsystemet": NODE_MODULES / "@digdir" / "designsystemet-css" / "dist",
    "/ui/assets/htmx": NODE_MODULES / "htmx.org" / "dist",
    "/ui/assets/app": HERE / "static",
    "/docs/assets": NODE_MODULES / "swagger-ui-dist",
}


def install(app: FastAPI) -> None:
    """Mount the assets, `/docs` and the `/ui/` pages on `app` (created with `docs_url=None`)."""
    from infra.web import pages
    from infra.web.router import router

    missing = [str(path) for path in ASSETS.values() if not path.is_dir()]
    if missing:
        log.warning("web assets missing (run `make assets`): %s", ", ".join(missing))
    for prefix, directory in ASSETS.items():
        app.mount(prefix, StaticFiles(directory=directory, check_dir=False), name=prefix.strip("/"))

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} – API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.exception_handler(pages.SignInRequired)
    def _sign_in(request: Request, _: Exception) -> Response:
        target = "/ui/logg-inn?neste=" + request.url.path
        if request.headers.get("hx-request") == "true":
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, 303)

    @app.exception_handler(pages.CsrfRefused)
    def _csrf(request: Request, _: Exception) -> Response:
        return pages.render(
            request,
            request.app.state.container,
            None,
            "refused.html",
            403,
            heading="Skjemaet ble avvist",
            refusal=pages.present.refusal(
                403,
                {"detail": "Skjemaet manglet sikkerhetsnøkkelen (CSRF). Last siden på nytt og prøv igjen."},
            ),
            title="Avvist",
        )

    app.include_router(router)
