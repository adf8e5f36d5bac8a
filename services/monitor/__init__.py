"""Drift and bias monitor over the prediction, explanation and label streams.

Pure core: reference, psi, ranking, bias, window, outcomes, report, alerts, monitor, config.
Edges: artifact (metadata.json), snapshot (state file), runner, app, telemetry, kafka_io, cli.
"""
