"""The Redis channel layer of the live feed (settings.CHANNEL_LAYERS), with one repair.

A receive cancelled while redis-py is mid-command (a websocket closed right after it
opened: a refused origin, a bad bbox) can lose its CancelledError inside redis-py; the
task then keeps polling Redis. With a socket timeout longer than channels_redis' 5 s
blocking read (so idle sockets stay open), nothing would ever end that loop. The task
still reports the cancellation (Task.cancelling()), so it is honoured after each read.
"""

import asyncio

from channels_redis.core import RedisChannelLayer as BaseRedisChannelLayer


class RedisChannelLayer(BaseRedisChannelLayer):
    async def _brpop_with_clean(self, index, channel, timeout):
        result = await super()._brpop_with_clean(index, channel, timeout)
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            # A popped message stays in the channel's backup queue: nothing is lost.
            raise asyncio.CancelledError
        return result
