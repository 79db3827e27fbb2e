"""The personal-data table and its masks: what reaches a log line or an audit diff."""

from __future__ import annotations

import io
import json
import logging

import pytest

from platform_common.personal_data import (
    MASK,
    PERSONAL_FIELDS,
    PersonalDataFilter,
    PersonalKind,
    install_personal_data_masking,
    mask_email,
    mask_identifier,
    mask_mapping,
    mask_name,
    mask_text,
    mask_value,
)
from platform_common.telemetry import JsonFormatter


def test_seed_004_example_email_mask() -> None:
    assert mask_email("john.doe@company.com") == "joh***@company.com"


@pytest.mark.parametrize(
    ("masker", "value", "masked"),
    [
        (mask_email, "no-at-sign", MASK),
        (mask_email, "tom@example.com", "t***@example.com"),  # never the whole local part
        (mask_email, "anna@example.com", "an***@example.com"),
        (mask_email, "@company.com", MASK),
        (mask_name, "John Doe", "J*** D***"),
        (mask_name, "   ", MASK),
        (mask_identifier, "u-alice-1234", "u-a***"),
        (mask_identifier, "u-1", MASK),  # too short to show any of it
    ],
)
def test_masks(masker: object, value: str, masked: str) -> None:
    assert masker(value) == masked  # type: ignore[operator]


def test_every_kind_masks_and_secrets_keep_nothing() -> None:
    assert set(PERSONAL_FIELDS.values()) == set(PersonalKind)
    for field in ("password", "new_password", "password_hash"):
        assert mask_value(field, "S3cret!pass") == MASK
    assert mask_value("isin", "DE0001102580") == "DE0001102580"  # not personal
    assert mask_value("email", None) is None
    assert mask_value("user_id", 12345) == MASK


def test_mask_mapping_masks_at_any_depth_and_emails_in_free_text() -> None:
    data = {
        "user_id": "u-alice-1234",
        "nested": [{"email": "alice@example.com", "isin": "DE0001102580"}],
        "reason": "duplicate of bob.smith@example.org",
    }
    assert mask_mapping(data) == {
        "user_id": "u-a***",
        "nested": [{"email": "al***@example.com", "isin": "DE0001102580"}],
        "reason": "duplicate of bob***@example.org",
    }
    assert mask_text("no address here") == "no address here"


def test_a_field_is_personal_however_it_is_spelled() -> None:
    # JSON bodies from other clients (the SPA, a third party) spell fields in camelCase.
    assert mask_mapping({"displayName": "John Doe", "userId": "u-alice-1234"}) == {
        "displayName": "J*** D***",
        "userId": "u-a***",
    }
    assert mask_value("EMAIL", "john.doe@company.com") == "joh***@company.com"
    assert mask_value("displayname_x", "John") == "John"  # another field, not a spelling


def _json_logger() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("test"))
    logger = logging.getLogger("test.personal_data")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    install_personal_data_masking(logger)
    install_personal_data_masking(logger)  # idempotent: one filter per handler
    assert sum(isinstance(f, PersonalDataFilter) for f in handler.filters) == 1
    return logger, stream


def test_no_personal_value_reaches_a_json_log_line() -> None:
    logger, stream = _json_logger()
    logger.info("signed in %s", "alice@example.com", extra={"user_id": "u-alice-1234"})
    logger.info("created", extra={"details": {"display_name": "Alice Liddell"}})
    try:
        raise ValueError("duplicate key alice@example.com")
    except ValueError:
        logger.exception("insert failed")
    text = stream.getvalue()
    for value in ("alice@example.com", "u-alice-1234", "Alice Liddell"):
        assert value not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["message"] == "signed in al***@example.com"
    assert lines[0]["user_id"] == "u-a***"
    assert lines[1]["details"] == {"display_name": "A*** L***"}
    assert "al***@example.com" in lines[2]["exc_info"]
    assert "personal_data_masked" not in lines[0]


def test_a_record_is_masked_once_even_through_two_handlers() -> None:
    logger, _ = _json_logger()
    second = io.StringIO()
    handler = logging.StreamHandler(second)
    handler.setFormatter(logging.Formatter("%(message)s %(user_id)s"))
    logger.addHandler(handler)
    install_personal_data_masking(logger)
    logger.info("hello", extra={"user_id": "u-alice-1234"})
    assert second.getvalue().strip() == "hello u-a***"  # not masked twice ("u-a***" -> "***")
