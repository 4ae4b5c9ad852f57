"""Channel subscriptions made from chat (`/nkru subscribe`), stored as versions, routed live."""
