"""Requests per user and minute (issue 14, finding 5): 429 with `Retry-After` beyond.

Counted per authenticated user, (agency, `sub`), once the bearer token is verified
(`infra/api/deps.py get_principal`), with the `limits` library's sliding-window counter in
memory: each process counts its own requests, so behind a load balancer of n API processes
a user may make up to n times the rate. Unauthenticated requests are answered 401 before
any work and are not counted.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from infra.auth import Principal
from services.errors import TooManyError

WINDOW_SECONDS = 60


class RateLimitedError(TooManyError):
    """This user made more requests in the last minute than the service accepts."""

    def __init__(self, per_minute: int, retry_after: int) -> None:
        super().__init__(
            f"more than {per_minute} requests a minute from this user; try again in {retry_after} s"
        )
        self.retry_after = retry_after


class RateLimit:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._item = RateLimitItemPerMinute(per_minute)
        self._limiter = SlidingWindowCounterRateLimiter(MemoryStorage())

    def check(self, principal: Principal) -> None:
        """Count one request of the user; refuse it (429) beyond the rate."""
        who = (principal.agency.value, principal.sub)
        if self._limiter.hit(self._item, *who):
            return
        reset = self._limiter.get_window_stats(self._item, *who).reset_time
        retry_after = min(WINDOW_SECONDS, max(1, math.ceil(reset - time.time())))
        raise RateLimitedError(self.per_minute, retry_after)
