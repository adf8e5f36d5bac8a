"""The V2 tensor contract of the fraud model: names, datatypes and metadata, written once.

The KServe client (wire.py) builds requests with these names and the model server
(services.model) parses requests and publishes its metadata with them.
Inputs: either one "features" tensor [N, F] or one tensor per feature name ([N] or [N, 1]).
Outputs: "score" FP32 [N] (probability) and "label" INT32 [N].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

FEATURES_INPUT = "features"
SCORE_OUTPUT = "score"
LABEL_OUTPUT = "label"
OUTPUT_NAMES = (SCORE_OUTPUT, LABEL_OUTPUT)
THRESHOLD_PARAMETER = "label_threshold"
MATRIX_DATATYPES = ("FP32", "FP64")
COLUMN_DATATYPES = ("FP32", "FP64", "INT32", "INT64")


def input_metadata(feature_names: Sequence[str]) -> list[dict[str, Any]]:
    """V2 model metadata inputs: the matrix form, then one entry per feature in column order."""
    matrix = {"name": FEATURES_INPUT, "datatype": "FP32", "shape": [-1, len(feature_names)]}
    return [matrix] + [{"name": name, "datatype": "FP32", "shape": [-1]} for name in feature_names]


def output_metadata() -> list[dict[str, Any]]:
    return [
        {"name": SCORE_OUTPUT, "datatype": "FP32", "shape": [-1]},
        {"name": LABEL_OUTPUT, "datatype": "INT32", "shape": [-1]},
    ]
