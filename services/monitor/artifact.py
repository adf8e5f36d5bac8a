"""Reading the model artifact's metadata.json: only the keys the monitor needs."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from services.monitor.reference import Reference
from services.monitor.report import ModelReference

METADATA_FILE = "metadata.json"


class ArtifactError(Exception):
    """The artifact has no readable metadata.json, or it lacks what the monitor needs."""


class _Metadata(BaseModel):
    # Our own small view of metadata.json (the model package owns the full schema).
    model_config = ConfigDict(frozen=True, extra="ignore", protected_namespaces=())

    name: str = "fraud"
    version: str
    feature_names: tuple[str, ...] = ()
    thresholds: dict[str, float] = {}
    reference: Reference = Reference()


def load_model_reference(model_dir: Path) -> ModelReference:
    """The model name, version and training reference from `model_dir`/metadata.json."""
    path = model_dir / METADATA_FILE
    try:
        metadata = _Metadata.model_validate_json(path.read_bytes())
    except OSError as error:
        raise ArtifactError(f"cannot read {path}: {error}") from error
    except ValidationError as error:
        raise ArtifactError(f"{path} is not a usable model metadata file: {error}") from error
    return ModelReference(
        name=metadata.name,
        version=metadata.version,
        reference=metadata.reference,
        feature_names=metadata.feature_names,
    )
