"""Connector resources: the same production clients, pointed at the sandbox or at real networks."""

from __future__ import annotations

import threading
import time
from datetime import date

from dagster import ConfigurableResource
from pydantic import PrivateAttr

from connectors import NETWORKS, make_client
from connectors.http import HttpClient, credentials_from_env
from connectors.ingest import NetworkClient
from connectors.platform import PlatformClient
from connectors.registry import parse_person_tokens

_SANDBOXES: dict[tuple, object] = {}
PLATFORM = "platform"


def env_prefix(name: str) -> str:
    return NETWORKS[name].env_prefix if name in NETWORKS else name.upper()


def base_url_env(name: str) -> str:
    return f"{env_prefix(name)}_BASE_URL"


def token_env(name: str) -> str:
    return f"{env_prefix(name)}_TOKEN"


_SANDBOX_LOCK = threading.Lock()


def shared_sandbox(persons: int, seed: int, days: int, fault_rate: float, end_date: str = "", preset: str = "default"):
    """One sandbox per process and world, started on a free 127.0.0.1 port on first use."""
    from sandbox.process import SandboxProcess  # only sandbox mode starts one

    key = (persons, seed, days, fault_rate, end_date, preset)
    with _SANDBOX_LOCK:
        if key not in _SANDBOXES:
            _SANDBOXES[key] = SandboxProcess(
                persons=persons,
                days=days,
                seed=seed,
                fault_rate=fault_rate,
                end_date=date.fromisoformat(end_date) if end_date else None,
                preset=preset,
            )
        return _SANDBOXES[key]


class SocialNetworks(ConfigurableResource):
    """Network and platform API clients. `mode="sandbox"` (the default) serves a synthetic world
    locally; `mode="live"` uses the base URLs and tokens given (from env vars)."""

    mode: str = "sandbox"
    networks: list[str] = list(NETWORKS)  # the registered networks (connectors.NETWORKS) to measure
    # network or "platform" -> base URL in live mode; a network defaults to its production URL
    base_urls: dict[str, str] = {}
    # network or "platform" -> API token (EnvVar references, masked in the UI)
    tokens: dict[str, str] = {}
    # network -> its person-token store (JSON handle -> each person's own token), an EnvVar reference,
    # for an API that reads only its owner's data (Foursquare: FOURSQUARE_TOKENS)
    person_tokens: dict[str, str] = {}
    public_accounts: list[str] = []  # "network:handle", tracked besides registered profiles' links
    lookback_days: int = 7
    # accounts of one network fetched at once, within the network's rate budget; 8 because the bench's
    # landing under 10% faults took 1.33x the fault-free time with 8 and 1.51x with 4 (target 1.5x)
    fetch_workers: int = 8
    pseudonym_salt: str = "open-klout"  # salts the pseudonyms of unmeasured reactors; set a secret in production
    sandbox_persons: int = 200
    sandbox_seed: int = 7
    sandbox_days: int = 30
    sandbox_fault_rate: float = 0.0
    sandbox_end_date: str = ""  # ISO date of the world's last day; empty = today (UTC)
    # "default" (follower counts drive engagement) or "adversarial" (ability does; rings, bots,
    # bought followers: sandbox/world.py WorldConfig.preset)
    sandbox_preset: str = "default"

    _clients: dict = PrivateAttr(default_factory=dict)
    _sandbox_clocks: dict = PrivateAttr(default_factory=dict)  # network or None (all) -> epoch seconds

    @property
    def sandbox(self):
        if self.mode != "sandbox":
            return None
        return shared_sandbox(
            self.sandbox_persons,
            self.sandbox_seed,
            self.sandbox_days,
            self.sandbox_fault_rate,
            self.sandbox_end_date,
            self.sandbox_preset,
        )

    def _base_url(self, name: str) -> str:
        if self.sandbox is not None:
            return self.sandbox.base_url
        url = self.base_urls.get(name) or (NETWORKS[name].default_base_url if name in NETWORKS else "")
        if not url:
            raise ValueError(f"{name}: no base URL configured for live mode (set {base_url_env(name)})")
        return url

    def client(self, network: str) -> NetworkClient:
        if network not in NETWORKS:
            raise ValueError(f"unknown network {network!r}; known: {sorted(NETWORKS)}")
        if network not in self._clients:
            # Live networks start from their published caps; the sandbox announces its own limits
            # (in each network's own way, which the network's budget still reads).
            client = make_client(
                network, self._base_url(network), client_caps=self.sandbox is None, token=self.tokens.get(network)
            )
            if self.sandbox is not None and NETWORKS[network].person_tokens_env:
                # the sandbox's token store: each connected person's own token
                client.use_tokens(self.sandbox.person_tokens(network))
            elif NETWORKS[network].person_tokens_env:
                client.use_tokens(self._person_tokens(network))
            if self.sandbox is not None and hasattr(client, "now"):
                # a client that measures an API's horizon by the clock (X's 7-day search) measures
                # the sandbox's, as the real API's is the real one
                client.now = lambda: self._sandbox_clocks.get(network) or self._sandbox_clocks.get(None) or time.time()
            self._clients[network] = client
        return self._clients[network]

    def skip_reason(self, network: str) -> str | None:
        """Why `network` is not landed in this run, or None: in live mode, a network whose API
        needs credentials runs only when they are set."""
        spec = NETWORKS[network]
        if self.sandbox is not None or not spec.credentials_required:
            return None
        if self.tokens.get(network) or credentials_from_env(spec.env_prefix):
            return None
        if spec.person_tokens_env:
            if self._person_tokens(network):
                return None
            return f"skipped: no credentials (set {spec.person_tokens_env}: each person's own token)"
        return f"skipped: no credentials (set {token_env(network)} or {spec.env_prefix}_API_KEY)"

    def _person_tokens(self, network: str) -> dict[str, str]:
        spec = NETWORKS[network]
        return parse_person_tokens(spec.person_tokens_env, self.person_tokens.get(network))

    def platform_skip_reason(self) -> str | None:
        """Our platform API is optional in live mode: without it only KLOUT_PUBLIC_ACCOUNTS are measured."""
        if self.sandbox is not None or self.base_urls.get(PLATFORM):
            return None
        return f"skipped: no platform API ({base_url_env(PLATFORM)} unset); measuring KLOUT_PUBLIC_ACCOUNTS only"

    def platform(self) -> PlatformClient:
        if "platform" not in self._clients:
            self._clients["platform"] = PlatformClient(
                HttpClient("platform", self._base_url("platform"), token=self.tokens.get("platform"))
            )
        return self._clients["platform"]

    def public_handles(self, network: str) -> list[str]:
        configured = [a.split(":", 1)[1] for a in self.public_accounts if a.split(":", 1)[0] == network]
        if self.sandbox is not None and not self.public_accounts:
            return self.sandbox.public_handles(network)
        return configured

    def observe_day(self, day: date, network: str | None = None) -> None:
        """In sandbox mode, move the world's clock (or only `network`'s, which networks landing at
        once need) to the end of `day`: the daily run at midnight."""
        if self.sandbox is not None:
            from sandbox.world import end_of_day

            self.sandbox.set_clock(end_of_day(day), network)
            if network is None:
                self._sandbox_clocks.clear()
            self._sandbox_clocks[network] = end_of_day(day).timestamp()
