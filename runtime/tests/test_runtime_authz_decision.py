import pytest

from chorale_contracts.events.common import Application, Mode
from chorale_runtime.auth import Principal
from chorale_runtime.authz import AccessRequest, Authorizer, Grant, decide
from chorale_runtime.errors import ApiError

S1, S2 = "11111111111111", "22222222222222"
ALICE = Principal("alice", "user")
FR = Application.FACTURES_RECUES


def grant(mode, structure=S1, service=None, app=FR, user="alice"):
    return Grant("g-" + mode.value + (service or ""), user, structure, app, mode, service)


def ask(mode, structure=S1, service=None, app=FR):
    return AccessRequest(structure, app, mode, service)


@pytest.mark.parametrize(
    ("grants", "request_", "allowed", "reason"),
    [
        ([], ask(Mode.CONSULTATION), False, "NO_GRANT"),
        ([grant(Mode.CONSULTATION)], ask(Mode.CONSULTATION), True, "GRANT_CONSULTATION"),
        ([grant(Mode.CONSULTATION)], ask(Mode.MODIFICATION), False, "CONSULTATION_ONLY"),
        ([grant(Mode.MODIFICATION)], ask(Mode.CONSULTATION), True, "GRANT_MODIFICATION"),
        ([grant(Mode.MODIFICATION)], ask(Mode.MODIFICATION, service="SVC1"), True,
         "GRANT_MODIFICATION"),
        ([grant(Mode.MODIFICATION, service="SVC1")], ask(Mode.MODIFICATION, service="SVC1"),
         True, "GRANT_MODIFICATION"),
        ([grant(Mode.MODIFICATION, service="SVC1")], ask(Mode.CONSULTATION, service="SVC2"),
         False, "OTHER_SERVICE"),
        ([grant(Mode.MODIFICATION, service="SVC1")], ask(Mode.CONSULTATION), False,
         "OTHER_SERVICE"),
        ([grant(Mode.MODIFICATION, structure=S2)], ask(Mode.CONSULTATION), False, "NO_GRANT"),
        ([grant(Mode.MODIFICATION, app=Application.ORGANISATION)], ask(Mode.CONSULTATION),
         False, "NO_GRANT"),
        ([grant(Mode.MODIFICATION, user="bob")], ask(Mode.CONSULTATION), False, "NO_GRANT"),
    ],
)
def test_grants_matrix(grants, request_, allowed, reason):
    decision = decide(ALICE, request_, grants=grants, is_gestionnaire_principal=False)
    assert (decision.allowed, decision.reason) == (allowed, reason)
    assert decision.message


def test_gp_operator_technical_and_deactivated():
    req = ask(Mode.MODIFICATION)
    assert decide(ALICE, req, grants=[], is_gestionnaire_principal=True).reason == \
        "GESTIONNAIRE_PRINCIPAL"
    op = Principal("op", "user", frozenset({"operator"}))
    assert decide(op, req, grants=[], is_gestionnaire_principal=False).allowed
    tech = Principal("ta", "technical", structure=S1)
    assert not decide(tech, req, grants=[], is_gestionnaire_principal=False).allowed
    assert decide(ALICE, req, grants=[grant(Mode.MODIFICATION)], is_gestionnaire_principal=True,
                  deactivated=True).reason == "USER_DEACTIVATED"


class Source:
    def __init__(self, grants, gp=None):
        self.grants, self.gp = grants, gp

    async def user(self, user_id):
        return [g for g in self.grants if g.user_id == user_id], False

    async def gestionnaire_principal(self, structure):
        return self.gp


async def test_authorizer_raises_forbidden_with_the_reason():
    authorizer = Authorizer(Source([grant(Mode.CONSULTATION)]))
    await authorizer.require(ALICE, S1, FR, Mode.CONSULTATION)
    with pytest.raises(ApiError) as info:
        await authorizer.require(ALICE, S1, FR, Mode.MODIFICATION)
    assert info.value.status == 403
    assert info.value.details == {"raison": "CONSULTATION_ONLY"}
    assert await Authorizer(Source([], gp="alice")).is_gestionnaire_principal(ALICE, S1)


def test_grants_read_back_as_plain_strings_decide_like_enums():
    stored = Grant("g", "alice", S1, "FACTURES_RECUES", "MODIFICATION")  # type: ignore[arg-type]
    decision = decide(ALICE, AccessRequest(S1, FR, "MODIFICATION"),  # type: ignore[arg-type]
                      grants=[stored], is_gestionnaire_principal=False)
    assert (decision.allowed, decision.reason) == (True, "GRANT_MODIFICATION")
