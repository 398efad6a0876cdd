"""Declarative paginators (in the spirit of dlt's rest_api): each one only says where the next
page is, so `HttpClient.paginate` owns fetching, decoding and the `max_pages` guard.

`next_page(response, body, items, params)` returns `(next_url, next_params)` — `next_url` None
means "same URL with these params" — or None when there is no next page. Paginators keep no
state, so one instance can serve many concurrent walks.
"""

from __future__ import annotations

from typing import Any, Protocol

import requests

NextPage = tuple[str | None, dict[str, Any]] | None


def dig(body: Any, path: str | None) -> Any:
    """Value at a dotted path (`query.usercontribs`); the body itself when path is None."""
    for part in path.split(".") if path else ():
        body = body.get(part) if isinstance(body, dict) else None
    return body


class Paginator(Protocol):
    def next_page(
        self, response: requests.Response, body: Any, items: list[Any], params: dict[str, Any]
    ) -> NextPage: ...


class LinkHeaderPaginator:
    """RFC 8288 `Link: <...>; rel="next"` (Mastodon, GitHub). The URL carries all params."""

    def __init__(self, rel: str = "next"):
        self.rel = rel

    def next_page(self, response, body, items, params) -> NextPage:
        url = response.links.get(self.rel, {}).get("url")
        return (url, {}) if url else None


class JsonCursorPaginator:
    """An opaque cursor in the body sent back as a param (Bluesky `cursor`, Reddit `data.after`).

    Stops on a missing/repeated cursor or an empty page: some APIs keep returning a cursor past
    the end.
    """

    def __init__(self, cursor_path: str = "cursor", param: str = "cursor"):
        self.cursor_path, self.param = cursor_path, param

    def next_page(self, response, body, items, params) -> NextPage:
        cursor = dig(body, self.cursor_path)
        if not cursor or not items or cursor == params.get(self.param):
            return None
        return None, {**params, self.param: cursor}


class PageNumberPaginator:
    """`?page=N` until the body says there is no more (`has_more`: Stack Exchange, our platform
    API) or the page number reaches `total_path` (a total page count)."""

    def __init__(
        self,
        page_param: str = "page",
        *,
        has_more_path: str | None = "has_more",
        total_path: str | None = None,
        base_page: int = 1,
    ):
        if (has_more_path is None) == (total_path is None):
            raise ValueError("give exactly one of has_more_path or total_path")
        self.page_param, self.has_more_path = page_param, has_more_path
        self.total_path, self.base_page = total_path, base_page

    def next_page(self, response, body, items, params) -> NextPage:
        page = int(params.get(self.page_param, self.base_page))
        if not items:
            return None
        if self.has_more_path is not None and not dig(body, self.has_more_path):
            return None
        if self.total_path is not None and page - self.base_page + 1 >= int(dig(body, self.total_path)):
            return None
        return None, {**params, self.page_param: page + 1}


class ContinueTokenPaginator:
    """A continuation token echoed back: a dict merged into the params (Wikipedia `continue`) or
    a single value sent as `param` (YouTube `nextPageToken` -> `pageToken`)."""

    def __init__(self, token_path: str = "continue", param: str | None = None):
        self.token_path, self.param = token_path, param

    def next_page(self, response, body, items, params) -> NextPage:
        token = dig(body, self.token_path)
        if not token:
            return None
        if isinstance(token, dict):
            return None, {**params, **token}
        if self.param is None:
            raise ValueError(f"{self.token_path} is a scalar token: set param")
        return None, {**params, self.param: token}
