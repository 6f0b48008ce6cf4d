"""Consent flags: off by default, every change recorded with its time and audited; the audit log API."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from healthcoach.container import Stores
from healthcoach.errors import NotFound
from healthcoach.privacy import get_consent, list_audit, set_consent


@pytest.fixture
def stores(make_stores: Callable[..., Stores]) -> Stores:
    return make_stores()


def test_flags_are_off_by_default(stores: Stores) -> None:
    stores.records.ensure_user("ann")
    state = get_consent(stores.records, "ann")
    assert (state.use_records_in_chat, state.remote_llm, state.history) == (False, False, [])


def test_unknown_user_is_not_found(stores: Stores) -> None:
    with pytest.raises(NotFound):
        get_consent(stores.records, "nobody")


def test_changes_are_recorded_with_time_and_audited(stores: Stores) -> None:
    state = set_consent(stores.records, "ann", records=True)
    assert state.use_records_in_chat and not state.remote_llm
    state = set_consent(stores.records, "ann", records=True, remote_llm=True)  # records unchanged: no event
    state = set_consent(stores.records, "ann", records=False)
    assert [(e.flag, e.value) for e in state.history] == [
        ("use_records_in_chat", True), ("remote_llm", True), ("use_records_in_chat", False)]
    assert all(e.at.tzinfo is not None or e.at.year > 2000 for e in state.history)
    assert [e.at for e in state.history] == sorted(e.at for e in state.history)
    audit = list_audit(stores.records, "ann")
    assert [(e.action, e.detail) for e in audit] == [
        ("consent", {"use_records_in_chat": True}), ("consent", {"remote_llm": True}),
        ("consent", {"use_records_in_chat": False})]


def test_no_flags_changes_nothing(stores: Stores) -> None:
    set_consent(stores.records, "ann", records=True)
    set_consent(stores.records, "ann")
    assert len(get_consent(stores.records, "ann").history) == 1
    assert len(list_audit(stores.records, "ann")) == 1


def test_audit_is_per_user_and_limit_keeps_the_newest(stores: Stores) -> None:
    for value in (True, False, True):
        set_consent(stores.records, "ann", records=value)
    set_consent(stores.records, "bob", remote_llm=True)
    assert [e.detail for e in list_audit(stores.records, "ann", limit=1)] == [{"use_records_in_chat": True}]
    assert [e.detail for e in list_audit(stores.records, "bob")] == [{"remote_llm": True}]
    assert list_audit(stores.records, "carol") == []
