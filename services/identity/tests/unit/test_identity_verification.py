from datetime import timedelta

import pytest

from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.domain.secrets_util import fingerprint
from chorale_identity.domain.verification import (
    LinkPurpose,
    consume_link,
    issue_link,
    supersede,
)

VERIFY = LinkPurpose.EMAIL_VERIFICATION


def refused(record, token, now, purpose=VERIFY):
    with pytest.raises(DomainError) as caught:
        consume_link(record, token, purpose, now)
    assert caught.value.code is ErrorCode.VERIFICATION_LINK_INVALID
    return caught.value


def test_only_the_hash_is_stored(now):
    issued = issue_link("u1", VERIFY, now)
    assert len(issued.token) >= 43
    assert issued.record.token_hash == fingerprint(issued.token)
    assert issued.token not in issued.record.model_dump_json()
    assert issued.token not in repr(issued)
    assert issued.record.expires_at == now + timedelta(minutes=60)


def test_a_link_works_once(now):
    issued = issue_link("u1", VERIFY, now)
    used = consume_link(issued.record, issued.token, VERIFY, now + timedelta(minutes=10))
    assert used.used_at == now + timedelta(minutes=10)
    refused(used, issued.token, now + timedelta(minutes=11))


def test_a_link_expires_after_sixty_minutes(now):
    issued = issue_link("u1", VERIFY, now)
    consume_link(issued.record, issued.token, VERIFY, now + timedelta(minutes=59, seconds=59))
    refused(issued.record, issued.token, now + timedelta(minutes=60))


def test_unknown_wrong_or_other_purpose_tokens_are_refused_alike(now):
    issued = issue_link("u1", VERIFY, now)
    errors = [
        refused(None, issued.token, now),
        refused(issued.record, issued.token + "x", now),
        refused(issued.record, "", now),
        refused(issued.record, issued.token, now, LinkPurpose.PASSWORD_RESET),
    ]
    assert len({repr(e.to_dict()) for e in errors}) == 1


def test_superseded_links_stop_working(now):
    issued = issue_link("u1", LinkPurpose.PASSWORD_RESET, now)
    retired = supersede(issued.record, now + timedelta(minutes=1))
    refused(retired, issued.token, now + timedelta(minutes=2), LinkPurpose.PASSWORD_RESET)


def test_tokens_are_unique(now):
    assert len({issue_link("u1", VERIFY, now).token for _ in range(50)}) == 50
