"""Channel layers for socket tests: the embedded in-memory layer and channels-redis (production's)."""

import contextlib
import uuid

from channels.layers import channel_layers

MEMORY = {"BACKEND": "channels.layers.InMemoryChannelLayer"}
# Redis core (channel queues) or pub/sub (no queues, what revocation and presence use).
REDIS_CORE = "channels_redis.core.RedisChannelLayer"
REDIS_PUBSUB = "channels_redis.pubsub.RedisPubSubChannelLayer"


@contextlib.contextmanager
def channel_layer_of(settings, mode: str, *, redis_url: str | None = None, redis_backend: str = REDIS_CORE):
    """Run the block on the `mode` layer ("memory" or "redis"), each test under its own Redis prefix."""
    if mode == "memory":
        settings.CHANNEL_LAYERS = {"default": MEMORY}
    else:
        config = {"hosts": [redis_url], "prefix": f"test-{uuid.uuid4().hex[:8]}"}
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": redis_backend, "CONFIG": config}}
    channel_layers.backends.clear()
    try:
        yield mode
    finally:
        channel_layers.backends.clear()
