# ruskontrakt service image: one image, three processes (compose.yaml picks the command):
#   serve (HTTP API), relay (event store -> Kafka), project (Kafka -> read models).
# Configuration only through RUSKONTRAKT_* environment variables (infra/settings.py).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN pip wheel --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN groupadd --system --gid 10001 ruskontrakt \
 && useradd --system --uid 10001 --gid ruskontrakt --home-dir /home/ruskontrakt --create-home \
        --shell /usr/sbin/nologin ruskontrakt
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels
USER ruskontrakt
WORKDIR /home/ruskontrakt
EXPOSE 8000
ENTRYPOINT ["ruskontrakt"]
CMD ["serve"]
