"""Keys and single-use links across real service processes.

* A signing key an operator revokes: every service refuses the tokens it signed once its
  JWKS cache (CHORALE_JWKS_MAX_AGE_SECONDS, short here) expires; a new sign-in works at once.
* A verification link: the usable token reaches the person's mailbox and nothing else — not
  the Kafka topics (nor their DLQs), not the notifications database — and a delivery retried
  after an SMTP outage carries a link that verifies the account.
* The link that confirms a new contact e-mail (sent to that address) likewise rests only in
  the mail, and confirms the address for the signed-in person.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo import AsyncMongoClient

from chorale_cli.journey import Mailbox
from chorale_cli.journey.operators import admin_command_creator
from chorale_cli.journey.stack import running_stack
from chorale_runtime.testing.kafka_probe import eventually
from chorale_runtime.testing.plugin import Namespace

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

PASSWORD = "Chorale-Cles-Liens-2026!"
FAST = {
    "CHORALE_JWKS_MAX_AGE_SECONDS": "1",  # how long a revoked key may still verify elsewhere
    "CHORALE_SIGNING_KEY_REFRESH_SECONDS": "0.5",
    "CHORALE_DELIVERY_BACKOFF": "0.5",
    "CHORALE_ARGON2_TIME_COST": "1",
    "CHORALE_ARGON2_MEMORY_KIB": "8",
    "CHORALE_ARGON2_INSECURE_FOR_TESTS": "true",  # identity refuses such costs otherwise
    "CHORALE_LINK_RESEND_COOLDOWN_SECONDS": "0",  # a contact change right after verifying
}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(infra, tmp_path_factory):
    namespace = Namespace("k" + uuid.uuid4().hex[:10])
    folder = tmp_path_factory.mktemp("keys-links")
    async with running_stack(infra, namespace, folder, only=("structures", "notifications"),
                             shared_env=FAST) as running:
        try:
            yield running, namespace
        except Exception:
            for service in running.processes:
                print(f"----- {service}\n" + running.logs(service)[-4000:])
            raise


async def signed_in(http: httpx.AsyncClient, identity: str, email: str) -> str:
    answer = await http.post(f"{identity}/v1/auth/login",
                             json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return answer.json()["accessToken"]


async def status_of(http: httpx.AsyncClient, url: str, token: str) -> int:
    return (await http.get(url, headers={"Authorization": f"Bearer {token}"})).status_code


async def test_a_revoked_signing_key_is_refused_by_every_service(stack):
    running, _ = stack
    identity = running.url("identity")
    protected = {  # one route per service that any signed-in operator may read
        "identity": f"{identity}/v1/me",
        "structures": f"{running.url('structures')}/v1/demandes",
        "notifications": f"{running.url('notifications')}/v1/me/messages",
    }
    email = f"ops-{uuid.uuid4().hex[:6]}@exemple.fr"
    await admin_command_creator(running.envs["identity"])(email, PASSWORD)
    async with httpx.AsyncClient(timeout=30) as http:
        token = await signed_in(http, identity, email)
        for url in protected.values():
            assert await status_of(http, url, token) == 200, url
        kid = jwt.get_unverified_header(token)["kid"]

        revoked = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "chorale_identity.admin",
                             "revoke-signing-key", "--kid", kid],
            env={**os.environ, **running.envs["identity"]}, capture_output=True, text=True,
            timeout=120, stdin=subprocess.DEVNULL,
        )
        assert revoked.returncode == 0, revoked.stderr

        async def refused_everywhere() -> bool:
            return all([await status_of(http, url, token) == 401
                        for url in protected.values()])

        await eventually(refused_everywhere, timeout=60, interval=0.2)

        fresh = await signed_in(http, identity, email)
        assert jwt.get_unverified_header(fresh)["kid"] != kid
        for url in protected.values():  # a new key is fetched at once (unknown kid)
            assert await status_of(http, url, fresh) == 200, url


async def kafka_records(bootstrap: str, prefix: str) -> list[bytes]:
    """Every record (key, value, headers) of every topic of this namespace, DLQs included."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        topics = sorted(t for t in await consumer.topics() if t.startswith(prefix))
        assert any(t.endswith(".dlq") for t in topics) and any("identity" in t for t in topics)
        client = consumer._client  # aiokafka: no public metadata query for unassigned topics
        for topic in topics:
            client.add_topic(topic)
        await client.force_metadata_update()
        partitions = [TopicPartition(t, p) for t in topics
                      for p in client.cluster.partitions_for_topic(t) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[bytes] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(timeout_ms=1000)
            for batch in batches.values():
                for r in batch:
                    records.append(b"|".join([r.key or b"", r.value or b"",
                                              *(v for _, v in r.headers or ())]))
        return records
    finally:
        await consumer.stop()


async def database_dump(client: AsyncMongoClient, database: str) -> str:
    db = client[database]
    docs: list[Any] = []
    for name in await db.list_collection_names():
        docs += await db[name].find({}).to_list(None)
    return json.dumps(docs, default=str)


async def test_the_usable_link_rests_only_in_the_mail_and_a_retried_delivery_works(
    stack, infra
):
    running, namespace = stack
    identity = running.url("identity")
    email = f"agent-{uuid.uuid4().hex[:6]}@ville.fr"
    mailbox = Mailbox(running.mail_dir)
    mongo: AsyncMongoClient = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    deliveries = mongo[namespace.database("notifications")]["deliveries"]
    running.stop_smtp()  # the mail server is down when the link is first sent
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            registered = await http.post(f"{identity}/v1/users", json={
                "email": email, "password": PASSWORD, "prenom": "Inès", "nom": "Agent"})
            assert registered.status_code == 202, registered.text

            async def failed_once() -> dict | None:
                doc = await deliveries.find_one({"to": email})
                return doc if doc and doc.get("tentatives", 0) >= 1 else None

            first_try = await eventually(failed_once, timeout=60)
            assert first_try["log"][0]["resultat"] == "TRANSIENT"
            running.start_smtp()
            [mail] = await eventually(lambda: mailbox.to(email), timeout=60)
            token = re.search(r"[?&]token=([A-Za-z0-9_.\-]+)", mail.text).group(1)
            link_id = first_try["linkId"]
            assert token.startswith(link_id + ".")

            async def sent() -> dict | None:
                doc = await deliveries.find_one({"_id": first_try["_id"]})
                return doc if doc["statut"] == "SENT" else None

            await eventually(sent, timeout=30)  # recorded just after the SMTP answer
            records = await kafka_records(infra.kafka_bootstrap, namespace.topic_prefix)
            assert any(link_id.encode() in r for r in records)  # the event names the link
            assert not [r for r in records if token.encode() in r]
            notifications_db = await database_dump(
                mongo, namespace.database("notifications"))
            assert link_id in notifications_db and token not in notifications_db
            assert token not in await database_dump(mongo, namespace.database("identity"))

            verified = await http.post(f"{identity}/v1/users/verify", json={"token": token})
            assert verified.status_code == 200, verified.text
            assert await signed_in(http, identity, email)
    finally:
        running.start_smtp()  # if the test stopped before (no-op otherwise)
        await mongo.close()


def token_in(mail: Any) -> str:
    return re.search(r"[?&]token=([A-Za-z0-9_.\-]+)", mail.text).group(1)


async def test_the_contact_confirmation_link_rests_only_in_the_mail(stack, infra):
    running, namespace = stack
    identity = running.url("identity")
    login = f"elu-{uuid.uuid4().hex[:6]}@ville.fr"
    contact = f"secretariat-{uuid.uuid4().hex[:6]}@ville.fr"
    mailbox = Mailbox(running.mail_dir)
    mongo: AsyncMongoClient = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            registered = await http.post(f"{identity}/v1/users", json={
                "email": login, "password": PASSWORD, "prenom": "Élu", "nom": "Local"})
            assert registered.status_code == 202, registered.text
            [verification] = await eventually(lambda: mailbox.to(login), timeout=60)
            verified = await http.post(f"{identity}/v1/users/verify",
                                       json={"token": token_in(verification)})
            assert verified.status_code == 200, verified.text
            headers = {"Authorization": f"Bearer {await signed_in(http, identity, login)}"}

            asked = await http.post(f"{identity}/v1/me/contact-email", headers=headers, json={
                "contactEmail": contact, "currentPassword": PASSWORD})
            assert asked.status_code == 202, asked.text
            [mail] = await eventually(lambda: mailbox.to(contact), timeout=60)
            assert "/compte/confirmation-contact?token=" in mail.text
            token = token_in(mail)

            records = await kafka_records(infra.kafka_bootstrap, namespace.topic_prefix)
            assert not [r for r in records if token.encode() in r]
            for service in ("notifications", "identity"):
                assert token not in await database_dump(mongo, namespace.database(service))

            confirmed = await http.post(f"{identity}/v1/me/contact-email/confirm",
                                        headers=headers, json={"token": token})
            assert confirmed.status_code == 200, confirmed.text
            assert confirmed.json()["contactEmail"] == contact
    finally:
        await mongo.close()
