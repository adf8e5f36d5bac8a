"""A minimal kserve.Model for smoke test e: V2 inference returning each row's sum.

Run as ``python -m tests.integration.kserve_sum_model --http_port P --grpc_port G``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer


class RowSumModel(Model):
    def __init__(self) -> None:
        super().__init__("rowsum")
        self.load()

    def load(self) -> bool:
        self.ready = True
        return self.ready

    async def predict(
        self,
        payload: InferRequest | dict[str, Any],
        headers: dict[str, str] | None = None,
        response_headers: dict[str, str] | None = None,
    ) -> InferResponse:
        assert isinstance(payload, InferRequest)
        rows = payload.inputs[0].as_numpy().astype(np.float32)
        sums = rows.sum(axis=1, keepdims=True)
        output = InferOutput(name="sum", shape=list(sums.shape), datatype="FP32")
        output.set_data_from_numpy(sums)
        return InferResponse(model_name=self.name, infer_outputs=[output], response_id=payload.id)


if __name__ == "__main__":
    ModelServer().start([RowSumModel()])
