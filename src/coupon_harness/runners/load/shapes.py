"""Load shapes by name: how many users run at each moment of a closed-model run."""

from __future__ import annotations

__all__ = ["users_at"]


def users_at(shape: str, elapsed_s: float, run_time_s: float, users: int) -> int:
    """steady and soak: all users throughout. ramp: five equal steps up to `users`. spike: a fifth of the users,
    all of them for the middle fifth of the run."""
    fraction = min(max(elapsed_s / run_time_s, 0.0), 1.0) if run_time_s > 0 else 1.0
    if shape == "ramp":
        step = min(int(fraction * 5) + 1, 5)
        return max(1, users * step // 5)
    if shape == "spike":
        base = max(1, users // 5)
        return users if 0.4 <= fraction < 0.6 else base
    return users
