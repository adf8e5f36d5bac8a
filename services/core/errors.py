"""Failure classes the pipeline maps to actions (retry, degrade, pause, DLQ)."""

from __future__ import annotations


class DependencyError(Exception):
    """A call to a dependency (feature store, model, vector index, broker) failed.

    Args:
        dependency: which one, e.g. "kserve", "weaviate", "milvus", "feast".
        message: what went wrong, for people.
        retryable: True for transient faults (timeouts, connection refused, 429/503).
    """

    def __init__(self, dependency: str, message: str, *, retryable: bool = True) -> None:
        super().__init__(f"{dependency}: {message}")
        self.dependency = dependency
        self.message = message
        self.retryable = retryable


class DependencyUnavailable(DependencyError):
    """The dependency could not be reached or timed out; retrying may help."""

    def __init__(self, dependency: str, message: str) -> None:
        super().__init__(dependency, message, retryable=True)


class BadRequestError(DependencyError):
    """The dependency rejected the request as malformed; retrying will not help."""

    def __init__(self, dependency: str, message: str) -> None:
        super().__init__(dependency, message, retryable=False)
