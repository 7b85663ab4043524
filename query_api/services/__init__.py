"""Business rules over the metadata store. Each function takes a Session and does not commit: the caller (a
request, the pipeline bridge) owns the transaction, so the REST calls and the broker's events share one path."""
