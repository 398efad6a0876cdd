"""The front-door gate: the network's own privacy flag, consents, and what a payload may keep."""

from __future__ import annotations

import threading

import pytest

from connectors.http import HttpStatusError
from connectors.ingest import AccountSnapshot, without_accounts
from connectors.privacy import PSEUDONYM_PREFIX, PrivacyGate, gate_for

ROW = {
    "network": "mastodon",
    "post_id": "1",
    "target_account_id": "t",
    "reactor_account_id": "r",
    "reaction_type": "favourite",
    "payload": '{"id": "r", "locked": true}',
}


def test_a_private_reactor_counts_only_under_a_pseudonym_unless_their_owner_consented():
    gate = PrivacyGate("mastodon", salt="s")
    hidden = gate.gate_reaction(ROW, reactor_is_private=True)
    assert hidden["reactor_account_id"].startswith(PSEUDONYM_PREFIX) and hidden["payload"] == "{}"
    assert gate.gate_reaction(ROW) == ROW
    consented = PrivacyGate("mastodon", salt="s", consented_private_ids=frozenset({"r"}))
    assert consented.gate_reaction(ROW, reactor_is_private=True) == ROW


def test_reactions_to_a_private_or_excluded_account_are_dropped():
    assert PrivacyGate("mastodon").gate_reaction(ROW, target_is_private=True) is None
    assert PrivacyGate("mastodon", frozenset({"t"})).gate_reaction(ROW) is None
    excluded_reactor = PrivacyGate("mastodon", frozenset({"r"}), consented_private_ids=frozenset())
    assert excluded_reactor.gate_reaction(ROW)["reactor_account_id"] != "r"


def test_a_payload_keeps_nothing_that_names_a_hidden_account():
    status = {
        "id": "9",
        "in_reply_to_account_id": "42",
        "account": {"id": "1"},
        "mentions": [{"id": "42", "acct": "secret", "url": "https://x/@secret"}, {"id": "7", "acct": "open"}],
        "facets": [{"features": [{"$type": "app.bsky.richtext.facet#mention", "did": "42"}]}],
    }
    kept = without_accounts(status, {"42"})
    assert kept == {
        "id": "9",
        "account": {"id": "1"},
        "mentions": [{"id": "7", "acct": "open"}],
        "facets": [{"features": []}],
    }
    assert without_accounts(status, set()) is status


def test_a_quoted_posts_author_goes_whole_handle_and_name_with_it():
    quote = {
        "uri": "at://did:plc:me/app.bsky.feed.post/1",
        "author": {"did": "did:plc:me"},
        "embed": {"record": {"author": {"did": "did:plc:kid", "handle": "kid.bsky.social"}, "value": {"text": "hi"}}},
    }
    assert without_accounts(quote, {"did:plc:kid"}) == {
        "uri": "at://did:plc:me/app.bsky.feed.post/1",
        "author": {"did": "did:plc:me"},
        "embed": {"record": {"value": {"text": "hi"}}},
    }


class _MeetingClient:
    """Resolves `<name>` to `id-<name>` (404 for `gone*`, a server error for `broken*`); every
    resolution first waits at a barrier of `meet`, which only concurrent resolutions pass."""

    network = "mastodon"

    def __init__(self, meet: int):
        self.barrier = threading.Barrier(meet, timeout=10)

    def resolve_account(self, handle: str) -> AccountSnapshot:
        self.barrier.wait()
        if handle.startswith("gone"):
            raise HttpStatusError("mastodon", "/lookup", handle, "HTTP 404", status=404)
        if handle.startswith("broken"):
            raise HttpStatusError("mastodon", "/lookup", handle, "HTTP 503", status=503)
        return AccountSnapshot(f"id-{handle}", handle, {})


def test_the_gate_resolves_handles_workers_at_a_time_to_the_same_gate():
    """One handle's retries and pauses no longer hold up the others': with 4 workers, 4
    resolutions meet at the barrier (one at a time would break it); the gate is what it was."""
    tracked = ["a", "b", "gone1", "c", "d", "e", "f", "g"]
    gate, owners = gate_for(
        _MeetingClient(4), "mastodon", {"known": "p9"}, {"u1": "p1", "u2": "p2", "u3": "p3", "u4": "p4"},
        tracked, ["a", "b", "c", "d"], {"landed"}, "s", workers=4,
    )  # fmt: skip
    assert owners == {"known": "p9", "id-u1": "p1", "id-u2": "p2", "id-u3": "p3", "id-u4": "p4"}
    assert gate.excluded_account_ids == frozenset(owners)
    assert gate.consented_private_ids == {"id-a", "id-b", "id-c", "id-d"}
    assert gate.measured_account_ids == {f"id-{h}" for h in tracked if h != "gone1"} | {"landed"}


def test_the_three_kinds_of_handle_are_resolved_at_once_not_one_kind_after_another():
    """One unmeasured handle, one consenting and two tracked meet at a barrier of 4: a pause in
    one kind's resolution no longer holds up the next kind's."""
    gate, owners = gate_for(_MeetingClient(4), "mastodon", {}, {"u": "p1"}, ["a", "b"], ["c"], set(), "s", workers=4)
    assert owners == {"id-u": "p1"} and gate.consented_private_ids == {"id-c"}
    assert gate.measured_account_ids == {"id-a", "id-b"}


def test_an_unmeasured_handle_that_cannot_be_resolved_still_stops_the_gate():
    with pytest.raises(HttpStatusError):
        gate_for(_MeetingClient(1), "mastodon", {}, {"broken": "p1", "u": "p2"}, ["a"], [], set(), "s", workers=4)
    with pytest.raises(threading.BrokenBarrierError):  # one at a time never meets a second resolution
        client = _MeetingClient(2)
        client.barrier = threading.Barrier(2, timeout=0.5)
        gate_for(client, "mastodon", {}, {}, ["a", "b"], [], set(), "s", workers=1)


class _LockedClient(_MeetingClient):
    """`locked*` handles are accounts their network marks private today."""

    def __init__(self):
        super().__init__(1)

    def account_is_private(self, account_id: str) -> bool:
        return account_id.startswith("id-locked")


def test_a_tracked_account_its_network_marks_private_is_not_measured_unless_its_owner_consents():
    gate, _ = gate_for(_LockedClient(), "mastodon", {}, {}, ["a", "locked1", "locked2"], ["locked2"], set(), "s")
    assert gate.private_account_ids == {"id-locked1"}
    assert gate.measured_account_ids == {"id-a", "id-locked2"}
    assert gate.excludes("id-locked1") and not gate.excludes("id-locked2")
