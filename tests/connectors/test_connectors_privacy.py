"""The front-door gate: the network's own privacy flag, consents, and what a payload may keep."""

from __future__ import annotations

from connectors.ingest import without_accounts
from connectors.privacy import PSEUDONYM_PREFIX, PrivacyGate

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
