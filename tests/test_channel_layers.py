"""The channel layer carries group messages in both modes (in-memory and channels-redis)."""

import pytest
from channels.layers import channel_layers, get_channel_layer


async def _round_trip():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("org-1.tower", channel)
    await layer.group_send("org-1.tower", {"type": "position.update", "lat": 60.17, "lng": 24.94})
    received = await layer.receive(channel)
    await layer.group_discard("org-1.tower", channel)
    return received


@pytest.fixture
def layer_settings(settings):
    yield settings
    channel_layers.backends.clear()


@pytest.mark.asyncio
async def test_in_memory_layer_delivers_group_messages(layer_settings):
    layer_settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()

    assert await _round_trip() == {"type": "position.update", "lat": 60.17, "lng": 24.94}


@pytest.mark.redis
@pytest.mark.asyncio
async def test_redis_layer_delivers_group_messages(layer_settings, redis_url):
    layer_settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [redis_url]}}
    }
    channel_layers.backends.clear()

    assert await _round_trip() == {"type": "position.update", "lat": 60.17, "lng": 24.94}
