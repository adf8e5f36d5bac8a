"""KServe: the V2 client, the wire format and tensor names (shared with the model server), the SDK shim."""
