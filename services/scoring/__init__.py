"""The scoring deployable: Kafka pull and HTTP push ingress around one scoring runtime."""
