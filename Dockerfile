# ruskontrakt service image: one image, three processes (compose.yaml picks the command):
#   serve (HTTP API), relay (event store -> Kafka), project (Kafka -> read models).
# Configuration only through RUSKONTRAKT_* environment variables (infra/settings.py).
# The web assets (Designsystemet CSS, htmx, Swagger UI) come from an npm stage of their own.
#
# Installs from requirements.lock, the lock `make` uses: every wheel is downloaded by its pinned
# version and checked against the lock's hashes, and the image's virtualenv is then installed
# from those wheels alone (no index), so only the runtime dependencies of the project land in it,
# at exactly the locked versions. Nothing is resolved against the index.

# The pages' and /docs' front-end assets (infra/web/ASSETS.md): exactly infra/web/package-lock.json,
# no install scripts run (one package has a telemetry script), and not the devDependencies
# (axe-core is for the browser tests only). `npm ci` checks every package's integrity hash.
FROM node:20-bookworm-slim AS assets
WORKDIR /assets
COPY infra/web/package.json infra/web/package-lock.json ./
RUN npm ci --ignore-scripts --omit=dev --no-audit --no-fund

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements.lock ./
RUN pip download --require-hashes --no-deps --only-binary :all: --dest /wheels -r requirements.lock
COPY . .
# The locked setuptools builds the project's wheel (no build isolation: nothing else fetched);
# the image's virtualenv gets no pip or setuptools of its own.
RUN python -m venv /build \
 && /build/bin/pip install --upgrade --no-index --find-links /wheels setuptools \
 && /build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /wheels . \
 && python -m venv --without-pip /opt/venv \
 && /build/bin/pip --python /opt/venv/bin/python install --no-index --find-links /wheels ruskontrakt

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN groupadd --system --gid 10001 ruskontrakt \
 && useradd --system --uid 10001 --gid ruskontrakt --home-dir /home/ruskontrakt --create-home \
        --shell /usr/sbin/nologin ruskontrakt
COPY --from=build /opt/venv /opt/venv
# Where the installed package looks for them (infra/web/__init__.py NODE_MODULES: beside the
# package's own files, in the venv's site-packages of this image's Python 3.11).
COPY --from=assets /assets/node_modules /opt/venv/lib/python3.11/site-packages/infra/web/node_modules
USER ruskontrakt
WORKDIR /home/ruskontrakt
# A container is reached from outside, so the image listens on every address. There the
# development secret and pepper published in this repository are refused: `serve` stops with
# one line until RUSKONTRAKT_JWT_SECRET (at least 32 bytes, or RUSKONTRAKT_JWT_PUBLIC_KEY_FILE /
# _JWKS_FILE) and RUSKONTRAKT_KEY_PEPPER are given, e.g. `docker run -e RUSKONTRAKT_JWT_SECRET=...
# -e RUSKONTRAKT_KEY_PEPPER=...` (compose.yaml requires both).
ENV RUSKONTRAKT_HOST=0.0.0.0
EXPOSE 8000
ENTRYPOINT ["ruskontrakt"]
CMD ["serve"]
