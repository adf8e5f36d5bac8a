"""Feature definitions for `feast apply` in this folder; the objects come from rtinfer."""

from pathlib import Path

from services.fraud.feast_repo import build_repo

_repo = build_repo(Path(__file__).parent / "data")
card = _repo.card
merchant = _repo.merchant
card_rolling_push = _repo.push_source
card_rolling = _repo.card_rolling
card_profile = _repo.card_profile
merchant_profile = _repo.merchant_profile
fraud_v1 = _repo.service
