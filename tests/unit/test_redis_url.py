"""The Redis URL forms every service and the CLI accept, Sentinel's included."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from newsflow.runtime.redis_factory import SentinelUrl, parse_sentinel_url
from newsflow.settings import ServiceSettings


def test_a_sentinel_url_names_every_sentinel_the_master_and_the_database() -> None:
    parsed = parse_sentinel_url("redis+sentinel://svc:p%40ss@s1:26379,s2:26380,[::1]:26381/main/3")
    assert parsed == SentinelUrl(
        sentinels=(("s1", 26379), ("s2", 26380), ("::1", 26381)),
        master="main",
        db=3,
        username="svc",
        password="p@ss",
    )
    assert parsed.connection_kwargs() == {"db": 3, "username": "svc", "password": "p@ss"}


def test_the_database_defaults_to_zero_and_credentials_to_none() -> None:
    parsed = parse_sentinel_url("redis+sentinel://h:26379/mymaster")
    assert (parsed.db, parsed.username, parsed.password) == (0, None, None)


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("redis+sentinel://h/mymaster", "host:port"),
        ("redis+sentinel://h:port/mymaster", "host:port"),
        ("redis+sentinel://h:70000/mymaster", "host:port"),
        ("redis+sentinel://h:26379,/mymaster", "host:port"),
        ("redis+sentinel://h:26379", "mastername"),
        ("redis+sentinel://h:26379/m/x", "not a number"),
        ("redis+sentinel://h:26379/m/0/extra", "mastername"),
    ],
)
def test_a_bad_sentinel_url_is_refused_at_start_up_naming_the_problem(
    url: str, complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        ServiceSettings(redis_url=url)


def test_settings_accept_the_sentinel_form() -> None:
    url = "redis+sentinel://a:26379,b:26379/mymaster/0"
    assert ServiceSettings(redis_url=url).redis_url == url


def test_the_ha_settings_default_to_one_host_and_a_week() -> None:
    settings = ServiceSettings()
    assert settings.redis_wait_replicas == 0
    assert settings.retention_window_s == 7 * 86_400


async def test_the_factories_build_sentinel_clients_without_connecting() -> None:
    from faststream.redis import RedisSentinelBroker
    from redis.asyncio.sentinel import SentinelConnectionPool

    from newsflow.runtime.redis_factory import create_broker, create_redis, create_redis_sync

    url = "redis+sentinel://svc:secret@127.0.0.1:1,127.0.0.1:2/mymaster/2"
    client = create_redis(url)
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool)
    assert pool.service_name == "mymaster"
    assert pool.connection_kwargs["password"] == "secret"
    assert pool.connection_kwargs["db"] == 2
    await client.aclose()
    assert isinstance(create_broker(url), RedisSentinelBroker)
    sync = create_redis_sync(url)
    assert sync.connection_pool.connection_kwargs["username"] == "svc"
    sync.close()
