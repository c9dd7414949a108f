"""Accounts of the journey: registration, e-mail verification from the mail actually sent,
sign-in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chorale_cli.journey.env import JourneyEnv
from chorale_cli.journey.http import Api, eventually

PASSWORD = "Chorale-Demo-2026!"
TOKEN_IN_LINK = re.compile(r"[?&]token=([A-Za-z0-9_\-.~%]+)")


@dataclass
class Person:
    email: str
    prenom: str
    nom: str
    user_id: str = ""
    token: str = ""

    @property
    def name(self) -> str:
        return f"{self.prenom} {self.nom}"


async def sign_in(identity: Api, person: Person) -> Person:
    answer = await identity.call(
        "POST", "/v1/auth/login", json={"email": person.email, "password": PASSWORD}
    )
    person.token = answer["accessToken"]
    me = await identity.as_(person.token).call("GET", "/v1/me")
    person.user_id = me["id"]
    return person


async def register_and_verify(env: JourneyEnv, identity: Api, person: Person) -> Person:
    await identity.call(
        "POST", "/v1/users", expect=202,
        json={"email": person.email, "password": PASSWORD, "prenom": person.prenom,
              "nom": person.nom},
    )

    def verification_token() -> str | None:
        for mail in env.mailbox.to(person.email):
            found = TOKEN_IN_LINK.search(mail.text)
            if found:
                return found.group(1)
        return None

    token = await eventually(verification_token, env.timeout,
                             f"the verification mail to {person.email}")
    await identity.call("POST", "/v1/users/verify", json={"token": token})
    return await sign_in(identity, person)
