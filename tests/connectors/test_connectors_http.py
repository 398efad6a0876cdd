import email.utils
import logging

import pytest
import requests
from connector_helpers import MASTODON, TOKEN, http, m_account, mastodon_client

from connectors.http import (
    USER_AGENT,
    ConnectorError,
    HttpStatusError,
    MalformedResponse,
    TransportError,
    credentials_from_env,
    redact,
)

LOOKUP = f"{MASTODON}/api/v1/accounts/lookup"
ACCOUNT = f"{MASTODON}/api/v1/accounts/42"


def test_429_retry_after_seconds_is_honoured(rsps, clock):
    rsps.get(ACCOUNT, status=429, headers={"Retry-After": "7"})
    rsps.get(ACCOUNT, json=m_account("42"))
    assert mastodon_client(clock).account("42")["id"] == "42"
    assert clock.sleeps == [7]


def test_traffic_counts_every_request_and_the_time_waited_on_throttling(rsps, clock):
    rsps.get(ACCOUNT, status=429, headers={"Retry-After": "7"})
    rsps.get(ACCOUNT, status=503)  # an error's backoff is not a rate-limit wait
    rsps.get(ACCOUNT, json=m_account("42"))
    client = mastodon_client(clock)
    client.account("42")
    requests_sent, waited = client.http.stats.snapshot()
    assert requests_sent == 3 and waited == 7


def test_429_retry_after_http_date_is_honoured(rsps, clock):
    when = email.utils.formatdate(clock.now + 30, usegmt=True)
    rsps.get(ACCOUNT, status=429, headers={"Retry-After": when})
    rsps.get(ACCOUNT, json=m_account("42"))
    assert mastodon_client(clock).account("42")["id"] == "42"
    assert clock.sleeps == [pytest.approx(30, abs=1)]


def test_503_burst_is_survived_with_growing_backoff(rsps, clock):
    for _ in range(4):
        rsps.get(ACCOUNT, status=503)
    rsps.get(ACCOUNT, json=m_account("42"))
    assert mastodon_client(clock, backoff_factor=0.5).account("42")["id"] == "42"
    assert len(rsps.calls) == 5
    backoffs = [s for s in clock.sleeps if s > 0]
    assert backoffs == sorted(backoffs) and len(backoffs) == 3  # urllib3: first retry is immediate
    assert 1.0 <= backoffs[0] <= 1.5 and 4.0 <= backoffs[-1] <= 4.5  # factor * 2^n + jitter


def test_persistent_503_raises_naming_network_endpoint_account(rsps, clock):
    rsps.get(ACCOUNT, status=503, body="upstream down")
    with pytest.raises(HttpStatusError) as caught:
        mastodon_client(clock, retries=2).account("42")
    assert caught.value.status == 503
    assert len(rsps.calls) == 3
    assert str(caught.value).startswith("mastodon /api/v1/accounts/:id (account 42): HTTP 503")


def test_client_errors_fail_fast(rsps, clock):
    rsps.get(LOOKUP, status=404, json={"error": "Record not found"})
    with pytest.raises(HttpStatusError, match="404"):
        mastodon_client(clock).lookup_account("nobody")
    assert len(rsps.calls) == 1


@pytest.mark.parametrize(
    "timeout",
    [requests.exceptions.ConnectTimeout("connect timed out"), requests.exceptions.ReadTimeout("read timed out")],
)
def test_timeouts_are_retried(rsps, clock, timeout):
    rsps.get(ACCOUNT, body=timeout)
    rsps.get(ACCOUNT, body=timeout)
    rsps.get(ACCOUNT, json=m_account("42"))
    assert mastodon_client(clock).account("42")["id"] == "42"
    assert len(rsps.calls) == 3


def test_persistent_timeout_raises_transport_error(rsps, clock):
    rsps.get(ACCOUNT, body=requests.exceptions.ConnectTimeout("connect timed out"))
    with pytest.raises(TransportError, match=r"mastodon /api/v1/accounts/:id \(account 42\)"):
        mastodon_client(clock, retries=2).account("42")
    assert len(rsps.calls) == 3


def test_truncated_json_is_retried_then_succeeds(rsps, clock):
    rsps.get(ACCOUNT, body='{"id": "42", "acct": "us', content_type="application/json")
    rsps.get(ACCOUNT, json=m_account("42"))
    assert mastodon_client(clock).account("42")["id"] == "42"


@pytest.mark.parametrize("body", ['{"id": "42", "acct": "us', "<html>502 Bad Gateway</html>", ""])
def test_malformed_json_raises_naming_network_endpoint_account(rsps, clock, body):
    rsps.get(ACCOUNT, body=body, content_type="application/json")
    with pytest.raises(MalformedResponse) as caught:
        mastodon_client(clock, retries=2).account("42")
    assert len(rsps.calls) == 3
    assert (caught.value.network, caught.value.endpoint, caught.value.account) == (
        "mastodon",
        "/api/v1/accounts/:id",
        "42",
    )
    assert "mastodon /api/v1/accounts/:id (account 42)" in str(caught.value)


def test_user_agent_and_bearer_token_are_sent(rsps, clock):
    rsps.get(ACCOUNT, json=m_account("42"))
    mastodon_client(clock).account("42")
    sent = rsps.calls[0].request.headers
    assert sent["User-Agent"] == USER_AGENT and "open-klout/" in USER_AGENT
    assert sent["Authorization"] == f"Bearer {TOKEN}"


def test_secrets_never_reach_errors_or_logs(rsps, clock, caplog):
    caplog.set_level(logging.DEBUG)
    key = "ak-0123456789"
    client = http("youtube", "https://yt.test", clock, token=TOKEN, api_key=key, api_key_param="key", retries=1)
    rsps.get("https://yt.test/youtube/v3/videos", status=500, body=f"echo {TOKEN} key={key}")
    with pytest.raises(ConnectorError) as caught:
        client.get("/youtube/v3/videos", params={"id": "x"}, account="chan")
    assert f"key={key}" in rsps.calls[0].request.url  # the key was used...
    rsps.get(
        "https://yt.test/boom",
        body=requests.exceptions.ConnectionError(
            f"Max retries exceeded with url: /boom?key={key}&access_token={TOKEN}"
        ),
    )
    with pytest.raises(TransportError) as transport:
        client.get("/boom")
    for text in (str(caught.value), repr(caught.value), str(transport.value), caplog.text):
        assert TOKEN not in text and key not in text  # ...but never shown
    assert caught.value.__cause__ is None and transport.value.__cause__ is None
    assert "key=***" in str(transport.value)


def test_urllib3_log_records_are_redacted(caplog, clock):
    caplog.set_level(logging.DEBUG)
    http("x", "https://x.test", clock, api_key="zz-secret-zz", api_key_param="key")
    logging.getLogger("urllib3.connectionpool").debug('"GET /v?key=%s HTTP/1.1" 200', "zz-secret-zz")
    assert "zz-secret-zz" not in caplog.text


def test_redact_query_params():
    assert redact("https://h/p?a=1&api_key=abc&token=t#x") == "https://h/p?a=1&api_key=***&token=***#x"


def test_credentials_from_env():
    env = {"MASTODON_TOKEN": "t", "YOUTUBE_API_KEY": "k"}
    assert credentials_from_env("MASTODON", env) == {"token": "t"}
    assert credentials_from_env("YOUTUBE", env) == {"api_key": "k"}


def test_every_call_has_a_timeout(rsps, clock, monkeypatch):
    seen = {}
    original = requests.Session.send

    def spy(self, request, **kwargs):
        seen["timeout"] = kwargs.get("timeout")
        return original(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", spy)
    rsps.get(ACCOUNT, json=m_account("42"))
    mastodon_client(clock).account("42")
    assert seen["timeout"] == (5, 30)
