"""Base model and field types shared by every payload contract."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class Contract(BaseModel):
    """A strict, closed, immutable payload: parsed from JSON, never coerced."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


NonEmptyStr = Annotated[str, StringConstraints(min_length=1, max_length=256)]
SafeId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:@-]+$")]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
