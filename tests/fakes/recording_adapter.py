"""A delivery adapter for tests that records what it was asked to send."""

from __future__ import annotations

from bot.core.models import Alert, DeliveryReceipt


class RecordingAdapter:
    """Remembers every alert; answers with a made-up remote id."""

    def __init__(self) -> None:
        self.sent: list[Alert] = []

    async def send(self, alert: Alert) -> DeliveryReceipt:
        """Record the alert."""
        self.sent.append(alert)
        return DeliveryReceipt(f"r-{alert.outbox_id}")
