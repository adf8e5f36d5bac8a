"""rtinfer tooling: the `rtinfer` CLI, native stack, data generator, producer, dlq tools, demo.

Not needed by the four deployables under services/ (which never import it); installed with
the `tools` extra.
"""
