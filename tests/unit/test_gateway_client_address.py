"""Which address failed logins and code guesses are counted against, behind
trusted reverse proxies (QI_TRUSTED_PROXIES) or without any."""

import pytest

from services.gateway.access import client_address, trusted_networks

PROXIES = trusted_networks("10.0.0.5, 10.1.0.0/16")


def test_without_trusted_proxies_the_header_is_ignored():
    assert client_address("203.0.113.9", "198.51.100.1", ()) == "203.0.113.9"
    assert client_address(None, "", ()) == "unknown"


def test_a_request_not_from_a_trusted_proxy_is_its_own_client():
    """Anyone can write X-Forwarded-For: only a trusted proxy's is read."""
    assert client_address("203.0.113.9", "10.0.0.1", PROXIES) == "203.0.113.9"


def test_behind_proxies_the_nearest_untrusted_address_is_the_client():
    # the client forged a first entry; the proxies appended what they saw
    forwarded = "1.2.3.4, 198.51.100.7, 10.1.2.3"
    assert client_address("10.0.0.5", forwarded, PROXIES) == "198.51.100.7"
    assert client_address("10.0.0.5", "198.51.100.7", PROXIES) == "198.51.100.7"


def test_a_proxy_with_nothing_forwarded_is_counted_as_itself():
    assert client_address("10.0.0.5", "", PROXIES) == "10.0.0.5"
    assert client_address("10.0.0.5", "10.1.9.9", PROXIES) == "10.1.9.9"
    assert client_address("10.0.0.5", "not-an-address", PROXIES) == "10.0.0.5"


def test_a_bad_trusted_proxies_setting_names_itself():
    with pytest.raises(ValueError, match="QI_TRUSTED_PROXIES"):
        trusted_networks("10.0.0.5, gateway.local")
