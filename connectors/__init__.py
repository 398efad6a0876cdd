"""Network connectors: HTTP clients for each social network and our platform API, the daily
collect step and the raw DuckDB landing. No orchestration code lives here.

Adding a network = one client module + one `NETWORKS` entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors import bluesky, mastodon
from connectors.http import HttpClient, credentials_from_env
from connectors.ratelimit import RateBudget


@dataclass(frozen=True)
class NetworkSpec:
    client_class: type
    default_base_url: str
    env_prefix: str  # credentials come from <PREFIX>_TOKEN / <PREFIX>_API_KEY
    max_requests: int | None = None  # client-side cap until the server announces its own
    per_seconds: float | None = None


NETWORKS: dict[str, NetworkSpec] = {
    mastodon.NETWORK: NetworkSpec(
        mastodon.MastodonClient, mastodon.DEFAULT_BASE_URL, "MASTODON", max_requests=300, per_seconds=300
    ),
    bluesky.NETWORK: NetworkSpec(
        bluesky.BlueskyClient, bluesky.DEFAULT_BASE_URL, "BLUESKY", max_requests=3000, per_seconds=300
    ),
}


def make_client(network: str, base_url: str | None = None, **http_options: Any):
    """A ready client for `network`: default production URL, credentials from the environment
    and a rate budget, each overridable through `http_options` (HttpClient keywords)."""
    spec = NETWORKS[network]
    options: dict[str, Any] = {
        **credentials_from_env(spec.env_prefix),
        "budget": RateBudget(max_requests=spec.max_requests, per_seconds=spec.per_seconds),
        **http_options,
    }
    return spec.client_class(HttpClient(network, base_url or spec.default_base_url, **options))
