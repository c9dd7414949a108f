# One image recipe for every Chorale service; docker-compose.yml builds one image per service
# with SERVICE_PACKAGE / SERVICE_MODULE. Only that service's dependencies are installed.
# syntax=docker/dockerfile:1.7
FROM python:3.11-slim AS build
ARG SERVICE_PACKAGE
RUN pip install --no-cache-dir "uv>=0.9,<0.14"
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY contracts contracts
COPY runtime runtime
COPY cli cli
COPY testkit testkit
COPY services services
RUN uv sync --frozen --no-dev --package "${SERVICE_PACKAGE}" --no-editable \
    && rm -rf /root/.cache

FROM python:3.11-slim
ARG SERVICE_MODULE
ENV PATH="/src/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    CHORALE_HTTP_HOST=0.0.0.0 \
    SERVICE_MODULE=${SERVICE_MODULE}
# /data owned by the service's user: a named volume mounted there starts with that owner.
RUN useradd --system --create-home --uid 10001 chorale && mkdir -p /data && chown chorale /data
COPY --from=build /src/.venv /src/.venv
USER chorale
WORKDIR /home/chorale
EXPOSE 8000
CMD ["sh", "-c", "exec python -m ${SERVICE_MODULE}"]
