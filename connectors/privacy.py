"""Privacy gates at the front door, before anything reaches a table.

Opted-out persons, minors and private accounts without their owner's consent are not measured
(nor, when the gate lists the measured accounts, anyone who neither registered nor was listed as
a public account): nothing
they post is fetched, reactions *to* them are dropped, and reactions *by* them still count for
the people they reacted to, but under a salted pseudonym with no payload, so they stay
countable (distinct, once) without being identifiable. Forgetting what was landed before someone
became unmeasured is `orchestration.forgetting`'s job.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from connectors.http import ConnectorError, HttpStatusError, NotConnected

PSEUDONYM_PREFIX = "anon-"


@dataclass(frozen=True)
class PrivacyGate:
    """`excluded_account_ids`: unmeasured people's accounts. `consented_private_ids`: private
    accounts whose owners consented; any other account the network marks private (a reactor, a
    mentioned account) is treated as excluded."""

    network: str
    excluded_account_ids: frozenset[str] = field(default_factory=frozenset)
    salt: str = ""
    consented_private_ids: frozenset[str] = field(default_factory=frozenset)
    # when given, only these accounts are measured: anyone else is audience (pseudonymised as a
    # reactor, not landed as a mention target), so nobody is measured who neither registered nor
    # was listed as a public account
    measured_account_ids: frozenset[str] | None = None
    # tracked accounts the network marks private whose owners did not consent: not measured, and
    # remembered so that what was landed while they were public is forgotten too
    private_account_ids: frozenset[str] = field(default_factory=frozenset)

    def allows(self, account_id: str) -> bool:
        """Known to be measurable whatever the network's privacy flag says."""
        return account_id in self.consented_private_ids

    def pseudonym(self, account_id: str) -> str:
        digest = hashlib.sha256(f"{self.salt}|{self.network}|{account_id}".encode()).hexdigest()
        return PSEUDONYM_PREFIX + digest[:20]

    def excludes(self, account_id: str, is_private: bool = False) -> bool:
        return (
            account_id in self.excluded_account_ids
            or (is_private and not self.allows(account_id))
            or (self.measured_account_ids is not None and account_id not in self.measured_account_ids)
        )

    def gate_reaction(
        self, row: dict, *, reactor_is_private: bool = False, target_is_private: bool = False
    ) -> dict | None:
        """The row as it may be stored, or None when it is about an excluded account."""
        if self.excludes(row["target_account_id"], target_is_private):
            return None
        if self.excludes(row["reactor_account_id"], reactor_is_private):
            return {**row, "reactor_account_id": self.pseudonym(row["reactor_account_id"]), "payload": "{}"}
        return row


def resolved_id(client, handle: str, tolerate_failure: bool = True) -> str | None:
    """The handle's account id, or None when the account is gone (or, if tolerated, cannot be
    read now: the account's own fetch will fail and report it). An unmeasured person's handle
    tolerates no failure: we do not land data we might not be allowed to keep."""
    try:
        return client.resolve_account(handle).account_id
    except NotConnected:  # no credentials for it: nothing of it is fetched either
        return None
    except HttpStatusError as exc:
        if exc.status in (400, 404):  # XRPC answers unknown actors with 400
            return None
        if not tolerate_failure:
            raise
    except ConnectorError:
        if not tolerate_failure:
            raise
    return None


def gate_for(
    client,
    network: str,
    unmeasured_accounts: dict[str, str],
    unmeasured_handles: dict[str, str],
    tracked: list[str],
    consenting_handles: list[str],
    landed_ids: set[str],
    salt: str,
    workers: int = 1,
) -> tuple[PrivacyGate, dict[str, str]]:
    """The gate of `network` and its unmeasured people's accounts (account id -> person id, also
    returned for the registry). `unmeasured_accounts` are known account ids, `unmeasured_handles`
    handles to resolve now (both -> person id); measured are the tracked accounts (resolved now,
    or landed before), nobody else; private accounts are allowed only for consenting handles (a
    tracked account the network marks private today is left out: `gate.private_account_ids`).
    Handles are resolved `workers` at a time (within the client's shared rate budget), so one
    handle's retries and Retry-After pauses do not hold up every other resolution."""
    owners = dict(unmeasured_accounts)
    unmeasured = sorted(unmeasured_handles.items())
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=f"gate-{network}") as pool:
        # every resolution is queued at once (no barrier between the three kinds), and results are
        # read in the order given, whatever the timing; an unmeasured handle's failure raises
        strict = [pool.submit(resolved_id, client, h, tolerate_failure=False) for h, _ in unmeasured]
        consenting = [pool.submit(resolved_id, client, h) for h in consenting_handles]
        tracking = [pool.submit(resolved_id, client, h) for h in tracked]
        try:
            for (_, person), account_id in zip(unmeasured, (f.result() for f in strict)):
                if account_id:
                    owners[account_id] = person
        except Exception:
            pool.shutdown(cancel_futures=True)  # the day stops here: ask nothing more
            raise
        consented = {i for i in (f.result() for f in consenting) if i}
        resolved = {i for i in (f.result() for f in tracking) if i}
    flag = getattr(client, "account_is_private", None)  # read from today's resolution where it can be
    private = {i for i in resolved - consented if flag and flag(i)}
    measured = (resolved | landed_ids) - set(owners) - private
    gate = PrivacyGate(
        network, frozenset(owners), salt, frozenset(consented - set(owners)), frozenset(measured), frozenset(private)
    )
    return gate, owners
