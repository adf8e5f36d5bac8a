"""The direct online read (each feature view through the provider's online_read_async, values
turned into rows in one pass) answers exactly what Feast's get_online_features_async answers, on
the real Redis online store: known and unknown entities, duplicates, both entity types."""

from __future__ import annotations

from services.adapters.feast.store import FeastOnlineFeatures, open_store
from tests.integration.scoring_env import ScoringEnv


async def test_direct_read_equals_get_online_features(env: ScoringEnv) -> None:
    sample = env.payments.iloc[:256]
    rows = [
        {"card_id": card, "merchant_id": merchant}
        for card, merchant in zip(sample.card_id, sample.merchant_id, strict=True)
    ]
    rows += [{"card_id": "card-nobody", "merchant_id": "m-nobody"}, dict(rows[0])]
    direct = FeastOnlineFeatures(open_store(env.feast), env.feast.feature_service, direct=True)
    through_feast = FeastOnlineFeatures(open_store(env.feast), env.feast.feature_service, direct=False)
    try:
        got, want = await direct.read(rows), await through_feast.read(rows)
    finally:
        await direct.close()
        await through_feast.close()
    differing = [
        (index, name, got[index].get(name), want[index].get(name))
        for index in range(len(rows))
        for name in sorted(set(got[index]) | set(want[index]))
        if got[index].get(name) != want[index].get(name)
    ]
    assert differing == [], differing[:5]
    assert all(feature.value is None for feature in got[-2].values())
    assert sum(feature.value is not None for row in got[:256] for feature in row.values()) > 256 * 5
