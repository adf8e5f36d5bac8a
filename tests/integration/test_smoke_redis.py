"""Smoke test c: a round trip through the real Redis."""

from __future__ import annotations

import redis.asyncio as aioredis

from tests.servers import RedisEndpoint


async def test_c_redis_round_trip(redis_server: RedisEndpoint, unique_name: str) -> None:
    client = aioredis.from_url(redis_server.url)
    try:
        await client.hset(unique_name, mapping={"count_1h": "3", "sum_1h": "41.5"})
        await client.zadd(f"{unique_name}:events", {"evt-1": 1.0, "evt-2": 2.0, "evt-1 ": 3.0})
        stored = await client.hgetall(unique_name)
        members = await client.zrange(f"{unique_name}:events", 0, -1)
        assert stored == {b"count_1h": b"3", b"sum_1h": b"41.5"}
        assert members == [b"evt-1", b"evt-2", b"evt-1 "]
        assert await client.delete(unique_name, f"{unique_name}:events") == 2
        assert await client.exists(unique_name) == 0
    finally:
        await client.aclose()
