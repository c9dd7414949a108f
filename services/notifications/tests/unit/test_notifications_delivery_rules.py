"""Retry policy, SMTP failure classification, message ids, categories."""

import aiosmtplib

from chorale_notifications.adapters.smtp import Mail, build_message, classify
from chorale_notifications.domain.categories import Category, email_enabled
from chorale_notifications.domain.ids import mail_message_id, message_id
from chorale_notifications.domain.retry import RetryPolicy


def test_backoff_doubles_and_is_capped():
    policy = RetryPolicy(max_attempts=5, backoff=2, backoff_max=10)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5)] == [2, 4, 8, 10, 10]


def test_after_an_attempt():
    policy = RetryPolicy(max_attempts=3, backoff=1, backoff_max=10)
    assert policy.after("SENT", 1) == "SENT"
    assert policy.after("TRANSIENT", 2) == "RETRY"
    assert policy.after("TRANSIENT", 3) == "FAILED"
    assert policy.after("PERMANENT", 1) == "FAILED"


def test_temporary_failures_are_retried_permanent_refusals_are_not():
    assert classify(aiosmtplib.SMTPConnectError("refused")).outcome == "TRANSIENT"
    assert classify(aiosmtplib.SMTPServerDisconnected("bye")).outcome == "TRANSIENT"
    assert classify(aiosmtplib.SMTPReadTimeoutError("slow")).outcome == "TRANSIENT"
    assert classify(aiosmtplib.SMTPResponseException(451, "try later")).outcome == "TRANSIENT"
    assert classify(aiosmtplib.SMTPResponseException(554, "no")).outcome == "PERMANENT"
    refused = aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(550, "unknown", "a@x.test")])
    result = classify(refused)
    assert result.outcome == "PERMANENT" and "550 unknown" in result.answer
    greylisted = aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(450, "greylisted", "a@x.test")])
    assert classify(greylisted).outcome == "TRANSIENT"
    # a wrong password is the platform's to fix, not a reason to give up the message
    assert classify(aiosmtplib.SMTPAuthenticationError(535, "bad")).outcome == "TRANSIENT"


def test_message_ids_are_deterministic_per_event_and_recipient():
    assert message_id("e1", "u1") == message_id("e1", "u1")
    assert len({message_id("e1", "u1"), message_id("e1", "u2"), message_id("e2", "u1")}) == 3
    assert mail_message_id("abc", "chorale.local") == "<abc@chorale.local>"


def test_the_mail_carries_a_stable_message_id_and_both_parts():
    mail = Mail(to="a@x.test", subject="Sujet é", text="texte", html="<p>html</p>",
                message_id="<m1@chorale.local>", category="FLUX_REJETE")
    msg = build_message(mail, "Chorale <no-reply@chorale.local>")
    assert msg["Message-ID"] == "<m1@chorale.local>"
    assert msg["X-Chorale-Category"] == "FLUX_REJETE"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]


def test_email_is_on_by_default_and_security_mails_cannot_be_switched_off():
    assert email_enabled(Category.FLUX_REJETE, {})
    assert not email_enabled(Category.FLUX_REJETE, {"FLUX_REJETE": False})
    assert email_enabled(Category.SECURITE_COMPTE, {"SECURITE_COMPTE": False})
