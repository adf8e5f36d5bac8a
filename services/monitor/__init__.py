"""Drift and bias monitor over the prediction, explanation and label streams.

Pure core (no I/O, no SDK): config, reference, psi, ranking, window, outcomes, bias, report,
alerts, monitor, runner. Edges: artifact (metadata.json), snapshot (state file), reports_file,
kafka_io (FastStream/aiokafka), telemetry (OpenTelemetry), render (rich, matplotlib), app,
settings, __main__, cli.
"""
