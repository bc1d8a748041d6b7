"""A report sent in the browser reaches the inbox's address by real SMTP, without its content."""

from __future__ import annotations

from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page

from intake import outbox

from ..conftest import SMTPServer
from .person import CHILD_CONCERN, CHILD_NAME, GUARDIAN_NAME, child_journey_to_check, send

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# Everything the resident typed or chose, in the words they saw.
ANSWER_TEXTS = (
    CHILD_NAME,
    CHILD_CONCERN,
    "hungrigt",
    GUARDIAN_NAME,
    "Omsorgssvikt",
    "omsorgssvikt",
    "Privatperson",
    "0–17",
)


@pytest.fixture
def live_config(smtp: SMTPServer) -> dict[str, Any]:
    """The served app sends its mail to the loopback SMTP server, for real."""
    # Flask-Mail suppresses sending when TESTING is on, unless told otherwise.
    return {"MAIL_PORT": smtp.port, "MAIL_SUPPRESS_SEND": False}


def _text(message: Message) -> str:
    """Subject and every decoded part of an e-mail."""
    parts = [str(make_header(decode_header(message["Subject"])))]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            parts.append(payload.decode(part.get_content_charset() or "utf-8"))
    return "\n".join(parts)


def test_notification_names_the_inbox_and_nothing_of_the_report(
    page: Page, live_app: Flask, smtp: SMTPServer
) -> None:
    """The outbox delivers one e-mail: a report arrived in Barn och unga, and no answers."""
    # Given a report about a child sent in the browser
    child_journey_to_check(page)
    reference = send(page)
    assert smtp.mailbox.messages == []  # nothing is sent inside the request
    # When the outbox worker runs once
    with live_app.app_context():
        assert outbox.deliver_due() == 1
    # Then the inbox's address gets one notification
    messages = smtp.mailbox.wait_for(1)
    assert len(messages) == 1
    message = messages[0]
    assert message["To"] == "barnochunga@alvsbyn.invalid"
    text = _text(message)
    assert "Ny orosanmälan i inkorgen Barn och unga" in text
    assert "En ny orosanmälan har kommit till inkorgen Barn och unga." in text
    assert "Akut enligt anmälaren: nej" in text
    # And it carries none of the answers, nor the reference the resident was given
    raw = b"".join(smtp.mailbox.raw).decode("utf-8", "replace")
    for answer in ANSWER_TEXTS:
        assert answer not in text and answer not in raw, answer
    assert reference not in text
    # And running the worker again sends nothing twice
    with live_app.app_context():
        assert outbox.deliver_due() == 0
    assert len(smtp.mailbox.messages) == 1
