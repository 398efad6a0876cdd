"""The network registry: each connector module declares its `SPEC`, and everything else (raw
assets, GX suites, resource settings, the sandbox's check) derives the network list from here."""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    client_class: type
    default_base_url: str
    env_prefix: str  # credentials come from <PREFIX>_TOKEN / <PREFIX>_API_KEY, the URL from <PREFIX>_BASE_URL
    reaction_types: tuple[str, ...]  # native reaction words landed (mentions besides)
    # native words the API gives only as a count on the post (nobody named): landed as the post's
    # observed totals in `raw.<network>_counts`, never as reaction rows
    anonymous_counts: tuple[str, ...] = ()
    # followers_count / following_count / posts_count -> the account payload's field for it
    account_counts: Mapping[str, str] = field(default_factory=dict)
    credentials_required: bool = False  # the API answers nothing without a token or key
    max_requests: int | None = None  # client-side cap until the server announces its own
    per_seconds: float | None = None
    daily_units: int | None = None  # a daily quota in units (YouTube), renewed at quota_timezone's midnight
    quota_timezone: str = "America/Los_Angeles"
    # the network's own rate-limit signal, if the shared parsers do not read it:
    # (lower-cased headers, JSON body, now) -> connectors.ratelimit.RateSignal | None
    rate_signals: Callable | None = None
    api_key_param: str | None = None  # the query parameter that carries <PREFIX>_API_KEY (YouTube: key)
    # an API that reads only its owner's data (Foursquare): each person's own token, from this env
    # var (JSON handle -> token; in production the platform's token store), none for the network
    person_tokens_env: str | None = None


def parse_person_tokens(env_name: str, raw: str | None) -> dict[str, str]:
    """A person-token store's value (JSON object handle -> token), handles lower-cased; an
    unreadable value is an error that names the variable and never quotes the value."""
    if not raw:
        return {}
    try:
        tokens = json.loads(raw)
    except ValueError:
        raise ValueError(f"{env_name} is not valid JSON (expected an object handle -> token)") from None
    if not isinstance(tokens, dict) or not all(isinstance(v, str) for v in tokens.values()):
        raise ValueError(f"{env_name} must be a JSON object of handle -> token strings")
    return {str(handle).lower(): token for handle, token in tokens.items() if token}


def discover_networks() -> dict[str, NetworkSpec]:
    """Every `connectors.<module>.SPEC`, by network name (sorted)."""
    import connectors

    specs = {}
    for info in pkgutil.iter_modules(connectors.__path__):
        spec = getattr(importlib.import_module(f"connectors.{info.name}"), "SPEC", None)
        if isinstance(spec, NetworkSpec):
            specs[spec.name] = spec
    return dict(sorted(specs.items()))
