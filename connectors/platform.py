"""Client for our own platform API: registered profiles and their linked accounts, +K gives,
perk campaigns. Page-number pagination: `?page=&per_page=` -> `{"items": [...], "has_more": bool}`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from connectors.http import HttpClient
from connectors.pagination import PageNumberPaginator

NETWORK = "platform"
_PAGES = PageNumberPaginator("page", has_more_path="has_more")


class PlatformClient:
    def __init__(self, http: HttpClient, *, per_page: int = 100):
        self.http, self.per_page = http, per_page

    def profiles(self) -> Iterator[dict[str, Any]]:
        """person_id, display_name, birth_date, location, opted_out, is_private, private_consent,
        linked_accounts [{network, handle}]."""
        return self._items("/platform/v1/profiles")

    def kplus(self, day: date) -> Iterator[dict[str, Any]]:
        """+K gives made on `day`."""
        return self._items("/platform/v1/kplus", date=day.isoformat())

    def topic_edits(self, day: date) -> Iterator[dict[str, Any]]:
        """Profile topic edits made on `day`: person_id (owner), editor_person_id, topic_slug, action."""
        return self._items("/platform/v1/topic_edits", date=day.isoformat())

    def campaigns(self) -> Iterator[dict[str, Any]]:
        return self._items("/platform/v1/campaigns")

    def _items(self, endpoint: str, **params: Any) -> Iterator[dict[str, Any]]:
        for page in self.http.paginate(
            endpoint, _PAGES, items_path="items", params={**params, "page": 1, "per_page": self.per_page}
        ):
            yield from page
