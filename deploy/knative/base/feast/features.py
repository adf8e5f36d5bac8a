"""Feast repo for the `feast` CLI on the cluster: rtinfer's own feature definitions.

The objects come from services/fraud/feast_repo.py with the batch sources where the
services' RTINFER_*_FEAST__DATA_DIR points, so `feast apply` registers exactly what
`rtinfer features apply` would.
"""

import os
from pathlib import Path

from services.fraud.feast_repo import build_repo

_repo = build_repo(
    Path(os.environ.get("RTINFER_FEAST_DATA_DIR", "/var/lib/rtinfer/features")),
    service_name=os.environ.get("RTINFER_FEAST_FEATURE_SERVICE", "fraud_v1"),
)
card = _repo.card
merchant = _repo.merchant
card_rolling_push = _repo.push_source
card_rolling = _repo.card_rolling
card_profile = _repo.card_profile
merchant_profile = _repo.merchant_profile
fraud_v1 = _repo.service
