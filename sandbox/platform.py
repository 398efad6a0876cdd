"""Our own platform API, as the sandbox serves it (not a network: profiles, links, +K, campaigns)."""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox.dialects.common import Reply, date_param, int_param, iso_ms
from sandbox.index import WorldIndex

# --------------------------------------------------------------------------- Platform API


class Platform:
    """Our own platform: registered profiles with linked accounts, +K gives, perk campaigns."""

    def __init__(self, index: WorldIndex):
        world = index.world
        links = world.profile_links
        by_person = {pid: part for pid, part in links.groupby("person_id")}
        persons = world.persons[world.persons.registered].sort_values("person_id")
        self.profiles, self.changes = [], []  # changes: (opted out on, consent withdrawn on) per profile
        for p in persons.itertuples():
            part = by_person.get(p.person_id)
            linked = [] if part is None else [{"network": n, "handle": h} for n, h in zip(part.network, part.handle)]
            is_private = bool(part is not None and part.is_private.any())
            self.profiles.append(
                {
                    "person_id": p.person_id,
                    "display_name": p.display_name,
                    "birth_date": p.birth_date.isoformat(),
                    "location": p.location,
                    "opted_out": bool(p.opted_out),
                    "is_private": is_private,
                    "private_consent": bool(is_private and p.private_consent),
                    "linked_accounts": linked,
                }
            )
            self.changes.append((getattr(p, "opted_out_on", None), getattr(p, "consent_withdrawn_on", None)))
        self.gives = world.kplus_gives.assign(
            day=world.kplus_gives.given_at.dt.date, ms=world.kplus_gives.given_at.dt.as_unit("ms").astype("int64")
        )
        self.campaigns = world.perk_campaigns
        self.edits = world.topic_edits.assign(
            day=world.topic_edits.edited_at.dt.date, ms=world.topic_edits.edited_at.dt.as_unit("ms").astype("int64")
        )

    @staticmethod
    def _as_of(profile: dict, change: tuple, clock_day) -> dict:
        """The profile as the platform shows it on `clock_day`: later opt-outs and withdrawals applied."""
        opted_out_on, withdrawn_on = change
        if opted_out_on is not None and opted_out_on <= clock_day:
            profile = {**profile, "opted_out": True}
        if withdrawn_on is not None and withdrawn_on <= clock_day:
            profile = {**profile, "private_consent": False}
        return profile

    def route(self, path: str, query: dict, clock_ms: int) -> Reply:
        page = int_param(query, "page", 1, 1, 10**9)
        per_page = int_param(query, "per_page", 100, 1, 1000)
        clock_day = datetime.fromtimestamp(clock_ms / 1000, tz=UTC).date()
        if path == "/platform/v1/profiles":
            items = [self._as_of(profile, change, clock_day) for profile, change in zip(self.profiles, self.changes)]
        elif path == "/platform/v1/kplus":
            day = date_param(query)
            g = self.gives[(self.gives.day == day) & (self.gives.ms <= clock_ms)]
            items = [
                {
                    "give_id": r.give_id,
                    "giver_person_id": r.giver_person_id,
                    "recipient_person_id": r.recipient_person_id,
                    "topic_slug": r.topic_slug,
                    "given_at": iso_ms(int(r.ms)),
                }
                for r in g.itertuples()
            ]
        elif path == "/platform/v1/topic_edits":
            day = date_param(query)
            e = self.edits[(self.edits.day == day) & (self.edits.ms <= clock_ms)]
            items = [
                {
                    "edit_id": r.edit_id,
                    "person_id": r.person_id,
                    "editor_person_id": r.editor_person_id,
                    "topic_slug": r.topic_slug,
                    "action": r.action,
                    "edited_at": iso_ms(int(r.ms)),
                }
                for r in e.itertuples()
            ]
        elif path == "/platform/v1/campaigns":
            c = self.campaigns[self.campaigns.starts_on <= clock_day]
            items = [
                {
                    "campaign_id": r.campaign_id,
                    "brand": r.brand,
                    "title": r.title,
                    "topics": list(r.topics),
                    "min_score": int(r.min_score),
                    "locations": list(r.locations),
                    "starts_on": r.starts_on.isoformat(),
                    "ends_on": r.ends_on.isoformat(),
                    "capacity": int(r.capacity),
                }
                for r in c.itertuples()
            ]
        else:
            return Reply(404, {"error": "not_found"})
        start = (page - 1) * per_page
        return Reply(
            200,
            {
                "items": items[start : start + per_page],
                "page": page,
                "per_page": per_page,
                "has_more": start + per_page < len(items),
            },
        )
