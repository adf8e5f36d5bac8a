"""The fraud use case: its features, request-time features, case schema, defaults and Feast repo.

The pipeline is configuration plus this package; another use case is another package of the
same shape.
"""
