from datetime import timedelta

import pytest

from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.domain.secrets_util import fingerprint
from chorale_identity.domain.verification import (
    LinkPurpose,
    consume_link,
    issue_link,
    link_id_of,
    mint_token,
)

VERIFY = LinkPurpose.EMAIL_VERIFICATION


def refused(record, token, now, purpose=VERIFY):
    with pytest.raises(DomainError) as caught:
        consume_link(record, token, purpose, now)
    assert caught.value.code is ErrorCode.VERIFICATION_LINK_INVALID
    return caught.value


def minted(now, purpose=VERIFY):
    return mint_token(issue_link("u1", purpose, now), now)


def test_an_issued_link_holds_no_usable_token_until_minted(now):
    record = issue_link("u1", VERIFY, now)
    assert record.token_hash is None and record.expires_at == now + timedelta(minutes=60)
    refused(record, f"{record.link_id}.anything", now)


def test_only_the_hash_of_a_minted_token_is_stored(now):
    token, record = minted(now)
    assert len(token) >= 43 + len(record.link_id) and link_id_of(token) == record.link_id
    assert record.token_hash == fingerprint(token)
    assert token not in record.model_dump_json() and token not in repr(record)


def test_minting_again_replaces_the_token(now):
    first, record = minted(now)
    second, again = mint_token(record, now + timedelta(minutes=1))
    assert first != second
    refused(again, first, now + timedelta(minutes=2))
    consume_link(again, second, VERIFY, now + timedelta(minutes=2))


def test_used_or_expired_links_are_not_minted(now):
    token, record = minted(now)
    used = consume_link(record, token, VERIFY, now)
    for link, at in ((used, now), (record, now + timedelta(minutes=60)), (None, now)):
        with pytest.raises(DomainError) as caught:
            mint_token(link, at)
        assert caught.value.code is ErrorCode.MAIL_LINK_UNAVAILABLE


def test_a_link_works_once(now):
    token, record = minted(now)
    used = consume_link(record, token, VERIFY, now + timedelta(minutes=10))
    assert used.used_at == now + timedelta(minutes=10)
    refused(used, token, now + timedelta(minutes=11))


def test_a_link_expires_after_sixty_minutes(now):
    token, record = minted(now)
    consume_link(record, token, VERIFY, now + timedelta(minutes=59, seconds=59))
    refused(record, token, now + timedelta(minutes=60))


def test_unknown_wrong_or_other_purpose_tokens_are_refused_alike(now):
    token, record = minted(now)
    errors = [
        refused(None, token, now),
        refused(record, token + "x", now),
        refused(record, "", now),
        refused(record, token, now, LinkPurpose.PASSWORD_RESET),
    ]
    assert len({repr(e.to_dict()) for e in errors}) == 1


def test_a_token_of_an_earlier_version_is_found_under_its_fingerprint():
    assert link_id_of("legacy-token-without-separator") == fingerprint(
        "legacy-token-without-separator"
    )


def test_link_ids_and_tokens_are_unique(now):
    assert len({issue_link("u1", VERIFY, now).link_id for _ in range(50)}) == 50
    record = issue_link("u1", VERIFY, now)
    assert len({mint_token(record, now)[0] for _ in range(50)}) == 50
