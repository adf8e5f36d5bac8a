"""`rtinfer vectors`: indexing labelled cases and querying an index."""
