"""Locust load tests: the Kafka event path (event -> prediction latency) and the HTTP push ingress."""
