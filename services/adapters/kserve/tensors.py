"""The V2 tensor contract of the fraud model: names, datatypes and metadata, written once.

The KServe client (wire.py, client.py) builds requests with these names and the model server
(services.model) parses requests and publishes its metadata with them.

Published (model metadata), the one request shape a generic V2 client is told about:
  input "features" FP32 [-1, F]; outputs "score" FP32 [-1] (probability), "label" INT32 [-1].
Also accepted, documented but not published: one tensor per feature name ([N] or [N, 1]),
instead of "features", never together with it.
Parameters: every response carries "label_threshold"; a request with "feature_names": true gets
the feature names, in column order, as a JSON list in the response parameter "feature_names".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

FEATURES_INPUT = "features"
SCORE_OUTPUT = "score"
LABEL_OUTPUT = "label"
OUTPUT_NAMES = (SCORE_OUTPUT, LABEL_OUTPUT)
THRESHOLD_PARAMETER = "label_threshold"
FEATURE_NAMES_PARAMETER = "feature_names"
MATRIX_DATATYPES = ("FP32", "FP64")
COLUMN_DATATYPES = ("FP32", "FP64", "INT32", "INT64")


def input_metadata(feature_names: Sequence[str]) -> list[dict[str, Any]]:
    """V2 model metadata inputs: exactly the inputs of one valid request, the [N, F] matrix.

    V2 clients send every input the metadata lists, so the per-feature alternative is not listed:
    listing both forms would describe a request the server must refuse.
    """
    return [{"name": FEATURES_INPUT, "datatype": "FP32", "shape": [-1, len(feature_names)]}]


def output_metadata() -> list[dict[str, Any]]:
    """V2 model metadata outputs: one value per request row."""
    return [
        {"name": SCORE_OUTPUT, "datatype": "FP32", "shape": [-1]},
        {"name": LABEL_OUTPUT, "datatype": "INT32", "shape": [-1]},
    ]
