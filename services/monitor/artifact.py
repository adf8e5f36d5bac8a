"""The model a monitor watches, from the artifact's metadata.json (read by the one reader)."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from services.core.model_metadata import MetadataError, read_metadata
from services.core.monitoring.reference import Reference
from services.core.monitoring.report import ModelReference


class ArtifactError(Exception):
    """The artifact has no readable metadata.json, or it lacks what the monitor needs."""


def load_model_reference(model_dir: Path) -> ModelReference:
    """The model name, version and training reference from `model_dir`/metadata.json."""
    try:
        metadata = read_metadata(model_dir)
        reference = Reference.model_validate(metadata.reference)
    except MetadataError as error:
        raise ArtifactError(str(error)) from None
    except ValidationError as error:
        raise ArtifactError(f"{model_dir}/metadata.json has an unusable reference: {error}") from None
    return ModelReference(
        name=metadata.name,
        version=metadata.version,
        reference=reference,
        feature_names=metadata.feature_names,
    )
