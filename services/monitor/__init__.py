"""The monitor deployable: drift and bias over the prediction, explanation and label streams.

Its pure logic lives in services.core.monitoring; here are the edges: artifact
(metadata.json), snapshot (state file), reports_file, kafka_io (FastStream/aiokafka),
telemetry (OpenTelemetry), runner, app, settings, __main__.
"""
