"""`/nkru` commands, implemented once for every platform (see `model` for the contract)."""
