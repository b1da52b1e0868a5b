"""The consent domain: template checks, typed-name matching, the validity rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formulary.consent import (
    CONSENT_RULE,
    DEFAULT_TEMPLATE_TEXT,
    Consent,
    ConsentError,
    check_template_text,
    check_typed_name,
    consent_finding,
    normalize_name,
    text_sha256,
    valid_consent,
)
from formulary.safety import Severity

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def consent(**changes: object) -> Consent:
    values: dict[str, object] = dict(
        id=1, patient_id=7, course_id=3, template_version_id=1, template_name="Default",
        template_version=1, text="text", text_sha256=text_sha256("text"),
        typed_name="Zoé Dubois", witness_username="drlee", witness_name="Dr Lee",
        signed_at=T0,
    )
    values.update(changes)
    return Consent(**values)  # type: ignore[arg-type]


def test_the_sha256_is_of_the_exact_text() -> None:
    assert text_sha256("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    assert text_sha256("abc\n") != text_sha256("abc")


def test_the_default_template_names_every_known_effect() -> None:
    assert check_template_text(DEFAULT_TEMPLATE_TEXT) == DEFAULT_TEMPLATE_TEXT
    for words in ("Pain at injection", "Bruising", "Swelling", "Infection",
                  "Allergic reaction", "Temporary shedding", "Alternatives", "course plan"):
        assert words in DEFAULT_TEMPLATE_TEXT


def test_a_template_without_an_effect_says_which() -> None:
    text = DEFAULT_TEMPLATE_TEXT.replace("shedding", "loss").replace("Shedding", "Loss")
    with pytest.raises(ConsentError, match="temporary shedding"):
        check_template_text(text)
    with pytest.raises(ConsentError, match="empty"):
        check_template_text("  \n")


def test_line_endings_are_stored_as_lf() -> None:
    crlf = DEFAULT_TEMPLATE_TEXT.replace("\n", "\r\n")
    assert check_template_text(crlf) == DEFAULT_TEMPLATE_TEXT


@pytest.mark.parametrize("typed", [
    "Zoé Dubois", "zoe dubois", "DUBOIS Zoé", "Dubois, Zoe", "  Zoé   Dubois ",
])
def test_a_typed_name_matches_in_either_order_whatever_the_case_and_accents(typed: str) -> None:
    assert check_typed_name(typed, "Zoé", "Dubois") == " ".join(typed.split())


def test_hyphens_apostrophes_and_spaces_do_not_matter() -> None:
    assert check_typed_name("Anne Marie O Brien", "Anne-Marie", "O'Brien")
    assert check_typed_name("annemarie OBrien", "Anne-Marie", "O'Brien")
    with pytest.raises(ConsentError):
        check_typed_name("Anne O'Brien", "Anne-Marie", "O'Brien")


@pytest.mark.parametrize("typed", ["Zoé", "Zoé Duboi", "Jane Doe", "Z. Dubois"])
def test_a_wrong_or_partial_name_is_refused_saying_how(typed: str) -> None:
    with pytest.raises(ConsentError, match="does not match the patient's name Zoé Dubois"):
        check_typed_name(typed, "Zoé", "Dubois")


def test_an_empty_name_is_refused() -> None:
    with pytest.raises(ConsentError, match="has not typed"):
        check_typed_name("   ", "Zoé", "Dubois")


names = st.text(st.characters(categories=["L"]), min_size=1, max_size=20)


@given(given_name=names, family=names, upper=st.booleans(), swap=st.booleans())
def test_the_patient_own_name_always_matches(
    given_name: str, family: str, upper: bool, swap: bool
) -> None:
    typed = f"{family} {given_name}" if swap else f"{given_name} {family}"
    typed = typed.upper() if upper else typed
    if normalize_name(typed) in {normalize_name(f"{given_name} {family}"),
                                 normalize_name(f"{family} {given_name}")}:
        assert check_typed_name(typed, given_name, family)


@given(st.text(max_size=60))
def test_normalising_is_idempotent_and_never_has_double_spaces(text: str) -> None:
    once = normalize_name(text)
    assert normalize_name(once) == once
    assert "  " not in once and once == once.strip()


def test_a_consent_counts_for_its_patient_and_course_only() -> None:
    signed = consent()
    assert valid_consent([signed], 7, 3, T0) == signed
    assert valid_consent([signed], 7, None, T0) is None
    assert valid_consent([signed], 8, 3, T0) is None
    assert valid_consent([signed], 7, 3, T0 - timedelta(seconds=1)) is None


def test_a_withdrawn_consent_stops_counting_when_withdrawn() -> None:
    withdrawn = consent(withdrawn_at=T0 + timedelta(days=1), withdrawn_reason="moved away")
    assert valid_consent([withdrawn], 7, 3, T0 + timedelta(hours=1)) == withdrawn
    assert valid_consent([withdrawn], 7, 3, T0 + timedelta(days=2)) is None
    finding = consent_finding([withdrawn], 7, 3, "Autumn", T0 + timedelta(days=2))
    assert finding is not None and "withdrew consent" in finding.message
    assert "moved away" in finding.message


def test_no_consent_is_a_block_saying_to_sign_it() -> None:
    finding = consent_finding([], 7, 3, "Autumn course", T0)
    assert finding is not None
    assert finding.rule == CONSENT_RULE and finding.severity is Severity.BLOCK
    assert "Autumn course" in finding.message and "sign the consent" in finding.remedy
    assert consent_finding([consent()], 7, 3, "Autumn course", T0) is None
    outside = consent_finding([consent()], 7, None, "", T0)
    assert outside is not None and "outside a course" in outside.message


def test_a_new_template_version_leaves_the_signed_consent_valid() -> None:
    # The consent keeps the text it was signed on; nothing in it refers to "current".
    old = consent(template_version=1, text="v1", text_sha256=text_sha256("v1"))
    assert old.text_intact() and valid_consent([old], 7, 3, T0 + timedelta(days=400)) == old
