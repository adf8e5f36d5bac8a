"""`python -m services.model --model-dir DIR [--extra-model NAME=DIR ...]`: serve model artifacts
with kserve.ModelServer."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pydantic import ValidationError

from services.model.settings import settings_from_args

PROG = "python -m services.model"


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = settings_from_args(argv, prog=PROG)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}" for issue in error.errors()
        )
        print(f"{PROG}: invalid settings: {problems}", file=sys.stderr)
        return 2
    # Our flags are parsed; KServe (and REST worker processes it spawns) must not parse them again.
    sys.argv = sys.argv[:1]
    from services.model.app import ModelLoadError, ModelServerApp, PortInUseError
    from services.model.artifact import ArtifactError

    try:
        ModelServerApp(settings).run_until_signal()
    except (ArtifactError, PortInUseError) as error:
        name = error.model_name if isinstance(error, ModelLoadError) else settings.model_name
        print(f"{PROG}: cannot serve model {name!r}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
