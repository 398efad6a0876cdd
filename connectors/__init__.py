"""Network connectors: HTTP clients for each social network and our platform API, the daily
collect step and the raw DuckDB landing. No orchestration code lives here.

Adding a network = one client module declaring its `SPEC` (connectors/registry.py).
"""

from __future__ import annotations

from typing import Any

from connectors.http import HttpClient, credentials_from_env
from connectors.ratelimit import RateBudget
from connectors.registry import NetworkSpec, discover_networks

NETWORKS: dict[str, NetworkSpec] = discover_networks()


def make_client(network: str, base_url: str | None = None, client_caps: bool = True, **http_options: Any):
    """A ready client for `network`: default production URL, credentials from the environment
    and a rate budget, each overridable through `http_options` (HttpClient keywords)."""
    spec = NETWORKS[network]
    options: dict[str, Any] = {
        **credentials_from_env(spec.env_prefix),
        **({"api_key_param": spec.api_key_param} if spec.api_key_param else {}),
        "budget": RateBudget(
            max_requests=spec.max_requests if client_caps else None,
            per_seconds=spec.per_seconds if client_caps else None,
            daily_units=spec.daily_units,
            quota_timezone=spec.quota_timezone,
            signals=spec.rate_signals,
        ),
        **http_options,
    }
    return spec.client_class(HttpClient(network, base_url or spec.default_base_url, **options))
