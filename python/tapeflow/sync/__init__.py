"""Book resync and trade backfill over Binance's REST API, within the IP's request-weight budget."""
