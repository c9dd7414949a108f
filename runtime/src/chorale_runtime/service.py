"""A service process: MongoDB, the producer, the outbox relay, the FastStream subscribers,
background tasks and the FastAPI app, started and stopped in the right order.

Each service's composition root builds one `Runtime`, wires its use cases to `runtime.db`,
`runtime.relay` and `runtime.publish_soon`, declares its subscriptions, then calls `create_app`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from faststream.kafka import KafkaBroker, KafkaRouter

from chorale_contracts import Topic
from chorale_runtime import metrics
from chorale_runtime.api_docs import BEARER, install_api_docs
from chorale_runtime.auth import Principal, TokenVerifier, bearer_token
from chorale_runtime.authz import Authorizer, AuthzReadModel, authz_subscription
from chorale_runtime.consumer import ReliableConsumer, Subscription, read_models_readiness
from chorale_runtime.http import (
    ReadinessCheck,
    create_admin_app,
    install_error_handlers,
    install_middleware,
    install_probes,
)
from chorale_runtime.inbox import Inbox
from chorale_runtime.kafka import Producer, ensure_topics, physical_topics
from chorale_runtime.logging import configure, get_logger
from chorale_runtime.mongo import IndexSpec, connect, ensure_indexes
from chorale_runtime.outbox import OutboxRelay
from chorale_runtime.retry import RetryPolicy
from chorale_runtime.serialized import SerializedDatabase
from chorale_runtime.settings import ServiceSettings

log = get_logger(__name__)

BackgroundTask = Callable[[], Awaitable[None]]
GestionnaireLookup = Callable[[str], Awaitable[str | None]]


class _OwnGestionnaires:
    """Grants from the read model, the structure's GP from the owning service's records."""

    def __init__(self, grants: AuthzReadModel, gestionnaire_principal: GestionnaireLookup):
        self._grants = grants
        self._gestionnaire_principal = gestionnaire_principal

    async def user(self, user_id: str) -> Any:
        return await self._grants.user(user_id)

    async def gestionnaire_principal(self, structure: str) -> str | None:
        return await self._gestionnaire_principal(structure)

    async def structures_of_gestionnaire(self, user_id: str) -> list[str]:
        return await self._grants.structures_of_gestionnaire(user_id)


class Runtime:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        produces: Iterable[Topic] = (),
        outbox_collections: Sequence[str] = (),
        indexes: Sequence[IndexSpec] = (),
        configure_logging: bool = True,
        verifier: TokenVerifier | None = None,
    ):
        self.settings = settings
        self.service = settings.service_name
        if configure_logging:
            configure(self.service, settings.log_level, settings.log_format)
        self.mongo = connect(settings.mongodb_uri.get_secret_value(), settings.client_id)
        # Serialized per document: FerretDB's updates are not atomic (see serialized.py).
        self.db: Any = SerializedDatabase(self.mongo[settings.database_name])
        self.producer = Producer(settings.kafka_bootstrap_servers, settings.client_id)
        self.relay = OutboxRelay(
            self.db,
            outbox_collections,
            self.producer,
            service=self.service,
            topic_prefix=settings.topic_prefix,
            scan_interval=settings.outbox_scan_interval,
        )
        self.router = KafkaRouter()
        self.broker: KafkaBroker | None = None
        self.verifier = verifier or TokenVerifier.from_settings(settings)
        self.stopping = asyncio.Event()
        self.consumers: list[ReliableConsumer] = []
        self._produces = set(produces)
        self._indexes = list(indexes)
        self._background: list[tuple[str, BackgroundTask]] = []
        self._on_stop: list[Callable[[], Awaitable[None]]] = []
        self._tasks: list[asyncio.Task[Any]] = []
        self.readiness: dict[str, ReadinessCheck] = {
            "database": self._database_ready,
            "broker": self._broker_ready,
            "read_models": self._read_models_ready,
        }
        self.started = asyncio.Event()

    # -- declaration ------------------------------------------------------------------------
    def subscribe(self, subscription: Subscription) -> ReliableConsumer:
        consumer = ReliableConsumer(
            subscription,
            service=self.service,
            topic_prefix=self.settings.topic_prefix,
            inbox=Inbox(self.db, f"{self.service}-{subscription.name}"),
            producer=self.producer,
            retry=RetryPolicy(
                self.settings.consumer_max_retries,
                self.settings.consumer_retry_backoff,
                self.settings.consumer_retry_backoff_max,
            ),
            stopping=self.stopping,
            catch_up_grace=self.settings.consumer_catch_up_grace,
        )
        consumer.register(self.router)
        self.consumers.append(consumer)
        return consumer

    def enable_authorization(
        self, gestionnaire_principal: GestionnaireLookup | None = None
    ) -> Authorizer:
        """Keep a local read model of grants and gestionnaires, and decide from it.

        ``gestionnaire_principal``: for the service that owns the GP records (identity), its
        own lookup answers the GP question instead of the read model's copy of its events.
        """
        model = AuthzReadModel(self.db)
        self.subscribe(authz_subscription(model))
        self.add_background("authz-gestionnaires-by-user", model.fill_gestionnaires_by_user)
        if gestionnaire_principal is None:
            return Authorizer(model)
        return Authorizer(_OwnGestionnaires(model, gestionnaire_principal))

    def add_background(self, name: str, task: BackgroundTask) -> None:
        self._background.append((name, task))

    def on_stop(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Runs first at shutdown, before consumers stop: stop taking new work there."""
        self._on_stop.append(hook)

    def add_indexes(self, specs: Iterable[IndexSpec]) -> None:
        self._indexes.extend(specs)

    def publish_soon(self, collection: str, doc_id: Any) -> None:
        self.relay.notify(collection, doc_id)

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        s = self.settings
        log.info("service_starting", config=s.effective())
        await self.db.command("ping")
        await ensure_indexes(self.db, self._indexes)
        consumed = {t for c in self.consumers for t in c.subscription.topics}
        topics = physical_topics(self._produces, s.topic_prefix, with_dlq=False)
        topics.update(physical_topics(consumed, s.topic_prefix, with_dlq=True))
        await ensure_topics(s.kafka_bootstrap_servers, topics, client_id=s.client_id)
        await self.producer.start()
        self._spawn("outbox-relay", self.relay.run)
        if self.consumers:
            self.broker = KafkaBroker(
                s.kafka_bootstrap_servers,
                client_id=s.client_id,
                graceful_timeout=s.shutdown_timeout / 2,
                logger=None,
            )
            self.broker.include_router(self.router)
            await self.broker.start()
            self._spawn("offset-committer", self._commit_periodically)
        self._spawn("metrics-sampler", self._sample_metrics)
        self._spawn("inbox-cleanup", self._clean_inbox)
        for name, task in self._background:
            self._spawn(name, task)
        self.started.set()
        log.info("service_started", http=f"{s.http_host}:{s.http_port}")

    async def stop(self) -> None:
        self.stopping.set()
        log.info("service_stopping")
        try:
            async with asyncio.timeout(self.settings.shutdown_timeout):
                for hook in self._on_stop:
                    await hook()
                if self.broker is not None:
                    await self.broker.stop()  # waits for in-flight handlers (graceful_timeout)
                for consumer in self.consumers:
                    await consumer.commit()
                await self.relay.wait_idle(self.settings.shutdown_timeout / 4)
        except TimeoutError:
            log.warning("shutdown_timeout_reached")
        for task in self._tasks:
            task.cancel()
        # Bounded: a task that ignores its cancellation must not hold the process for ever.
        _done, stuck = await asyncio.wait(self._tasks, timeout=5) if self._tasks else ((), ())
        for task in stuck:
            log.error("background_task_not_stopping", task=task.get_name())
        self._tasks.clear()
        with contextlib.suppress(Exception):
            await self.relay.flush()
        await self.producer.stop()
        await self.mongo.close()
        log.info("service_stopped")

    def _spawn(self, name: str, factory: BackgroundTask) -> None:
        async def supervised() -> None:
            while not self.stopping.is_set():
                try:
                    await factory()
                    return
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("background_task_crashed", task=name)
                    await asyncio.sleep(1)

        self._tasks.append(asyncio.create_task(supervised(), name=f"{self.service}:{name}"))

    async def _commit_periodically(self) -> None:
        while True:
            await asyncio.sleep(0.2)
            for consumer in self.consumers:
                await consumer.commit()

    async def _sample_metrics(self) -> None:
        while True:
            for consumer in self.consumers:
                try:
                    lag = await consumer.lag()
                except Exception as exc:
                    log.debug("lag_sample_failed", error=str(exc))
                    continue
                for topic, value in (lag or {}).items():
                    metrics.CONSUMER_LAG.labels(self.service, consumer.group_id, topic).set(value)
                try:
                    for dlq, size in (await consumer.dlq_sizes()).items():
                        metrics.DLQ_SIZE.labels(self.service, dlq).set(size)
                except Exception as exc:
                    log.debug("dlq_size_sample_failed", error=str(exc))
            await asyncio.sleep(self.settings.metrics_interval if self.started.is_set() else 0.5)

    async def _clean_inbox(self) -> None:
        while True:
            await asyncio.sleep(3600)
            for consumer in self.consumers:
                await consumer._inbox.forget_older_than(timedelta(days=7))

    # -- readiness ----------------------------------------------------------------------------
    async def _database_ready(self) -> tuple[bool, str]:
        await asyncio.wait_for(self.db.command("ping"), 3)
        return True, "ok"

    async def _broker_ready(self) -> tuple[bool, str]:
        ok = await self.producer.ready()
        return ok, "ok" if ok else "aucun broker ne répond"

    async def _read_models_ready(self) -> tuple[bool, str]:
        return await read_models_readiness(self.consumers)

    # -- HTTP ---------------------------------------------------------------------------------
    def principal_dependency(self) -> Callable[..., Awaitable[Principal]]:
        verifier = self.verifier

        # BEARER declares the security scheme in the OpenAPI document of every route that
        # depends on this; the header itself is read (and refused) by `bearer_token`.
        async def current_principal(request: Request,
                                    _scheme: Annotated[Any, Depends(BEARER)]) -> Principal:
            principal = await verifier.verify(bearer_token(request))
            request.state.principal = principal
            return principal

        return current_principal

    def create_app(
        self,
        *,
        title: str,
        routers: Sequence[APIRouter] = (),
        description: str = "",
        status_overrides: dict[str, int] | None = None,
    ) -> FastAPI:
        @contextlib.asynccontextmanager
        async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan,
                      docs_url=None, redoc_url=None)  # /docs from the service's own assets
        install_api_docs(app, title)
        app.state.runtime = self
        install_middleware(app, self.service, status_overrides)
        install_error_handlers(app)
        install_probes(app, self.service, self.readiness)
        for router in routers:
            app.include_router(router)
        # /metrics and the detailed /ready, served apart (see chorale_runtime.serve)
        app.state.admin_app = create_admin_app(self.service, self.readiness)
        return app


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Depends(runtime_of)
