"""Hypothesis strategies and samples of valid events, for tests here and in other services.

Imports hypothesis (a dev dependency): never import this module from service code.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from events.build import new_payment_event
from events.comparison import (
    BootstrapFigures,
    ComparisonCounts,
    MetricComparison,
    ModelComparison,
    PromotionRuleFigures,
    PromotionVerdict,
    RuleClause,
    SegmentComparison,
    Verdict,
)
from events.contract import Contract
from events.deadletter_payload import DeadLetter, HttpOrigin, KafkaOrigin, OriginalHeader, Truncation
from events.drift import (
    AttributionDrift,
    DriftReport,
    FeatureDrift,
    Performance,
    ScoreDrift,
    SegmentBias,
    SegmentFigures,
    WindowCounts,
)
from events.drift_alert import AlertMetric, DriftAlert, MonitorWindow
from events.envelope import RESERVED_NAMES, Event
from events.isocodes import COUNTRIES, CURRENCIES
from events.label import Label
from events.payment import CardType, Channel, Payment
from events.reasons import ReasonCode
from events.scoring import (
    Decision,
    ExplainReason,
    Explanation,
    FeatureUse,
    Neighbour,
    Prediction,
    ShadowPrediction,
    ShadowRole,
    TopContribution,
)
from events.types import EVENT_TYPES, event_type_of

_OFFSETS = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
aware_datetimes = st.datetimes(
    min_value=datetime(1970, 1, 2),  # noqa: DTZ001 - bounds only; timezones are added below
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.sampled_from(_OFFSETS),
)
safe_ids = st.from_regex(r"[A-Za-z0-9_.:@-]{1,64}", fullmatch=True)
names = st.text(min_size=1, max_size=16)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
probabilities = st.floats(min_value=0.0, max_value=1.0)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | finite_floats | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=10,
)

payments = st.builds(
    Payment,
    payment_id=safe_ids,
    card_id=safe_ids,
    merchant_id=safe_ids,
    amount=st.floats(min_value=0.0, max_value=1_000_000.0, exclude_min=True),
    currency=st.sampled_from(sorted(CURRENCIES)),
    timestamp=aware_datetimes,
    country=st.sampled_from(sorted(COUNTRIES)),
    merchant_category=st.from_regex(r"[0-9]{4}", fullmatch=True),
    channel=st.sampled_from(Channel),
    card_type=st.sampled_from(CardType),
)
feature_uses = st.builds(
    FeatureUse,
    value=st.none() | finite_floats,
    event_timestamp=st.none() | aware_datetimes,
    age_s=st.none() | finite_floats,
    stale=st.booleans(),
    defaulted=st.booleans(),
)
neighbours = st.builds(Neighbour, id=names, distance=finite_floats, label=st.sampled_from([0, 1, None]))
predictions = st.builds(
    Prediction,
    input_id=names,
    input_source=names,
    entity=st.dictionaries(names, st.text(max_size=16), max_size=3),
    score=probabilities,
    decision=st.sampled_from(Decision),
    threshold=probabilities,
    model_name=names,
    model_version=names,
    features=st.dictionaries(names, feature_uses, max_size=4),
    neighbours=st.lists(neighbours, max_size=3),
    degraded=st.lists(names, max_size=2),
    latency_ms=st.dictionaries(names, st.floats(min_value=0.0, allow_infinity=False), max_size=3),
    segment=st.dictionaries(names, st.text(max_size=8), max_size=3),
    explained=st.booleans(),
)

shadow_predictions = st.builds(
    ShadowPrediction,
    input_id=names,
    input_source=names,
    prediction_id=names,
    role=st.sampled_from(ShadowRole),
    entity=st.dictionaries(names, st.text(max_size=16), max_size=3),
    score=probabilities,
    decision=st.sampled_from(Decision),
    threshold=probabilities,
    decline_at=probabilities,
    model_name=names,
    model_version=names,
    decided_by=names,
    latency_ms=st.none() | st.floats(min_value=0.0, allow_infinity=False),
    segment=st.dictionaries(names, st.text(max_size=8), max_size=3),
)


@st.composite
def explanations(draw: st.DrawFn) -> Explanation:
    contributions = draw(st.dictionaries(names, finite_floats, max_size=6))
    ranked = sorted(contributions.items(), key=lambda item: abs(item[1]), reverse=True)
    k = draw(st.integers(0, len(ranked)))
    top = [
        TopContribution(feature=feature, contribution=value, value=draw(st.none() | finite_floats))
        for feature, value in ranked[:k]
    ]
    return Explanation(
        prediction_id=draw(names),
        input_id=draw(names),
        model_name=draw(names),
        model_version=draw(names),
        score=draw(probabilities),
        base_value=draw(finite_floats),
        contributions=contributions,
        top=top,
        neighbours=draw(st.lists(neighbours, max_size=3)),
        reason=draw(st.sampled_from(ExplainReason)),
    )


origins = st.builds(
    KafkaOrigin, topic=names, partition=st.integers(0, 1000), offset=st.integers(0, 2**62)
) | st.builds(HttpOrigin, path=st.none() | names, remote=st.none() | names)


@st.composite
def dead_letters(draw: st.DrawFn) -> DeadLetter:
    value = draw(st.none() | st.binary(max_size=32))
    key = draw(st.none() | st.binary(max_size=16))
    headers = draw(st.lists(st.tuples(st.text(max_size=12), st.none() | st.binary(max_size=16)), max_size=3))
    truncation = None
    if draw(st.booleans()):
        truncation = Truncation(
            value_size=None if value is None else len(value) + draw(st.integers(0, 2**20)),
            value_kept=len(value or b""),
            key_size=None if key is None else len(key),
            key_kept=len(key or b""),
            header_count=len(headers) + draw(st.integers(0, 5)),
            headers_kept=len(headers),
            headers_size=draw(st.integers(0, 2**20)),
        )
    return DeadLetter(
        value_base64=None if value is None else _b64(value),
        key_base64=None if key is None else _b64(key),
        original_headers=tuple(OriginalHeader.of(name, raw) for name, raw in headers),
        truncated=truncation is not None,
        truncation=truncation,
        origin=draw(origins),
        stage=draw(st.sampled_from(["decode", "enrich", "predict", "explain", "publish"])),
        reason=draw(st.sampled_from([str(code) for code in ReasonCode])),
        message=draw(st.text(max_size=40)),
        field=draw(st.none() | names),
        first_seen=draw(aware_datetimes),
        attempts=draw(st.integers(1, 100)),
        original_type=draw(st.none() | st.sampled_from(sorted(EVENT_TYPES))),
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


labels = st.builds(
    Label,
    payment_id=safe_ids,
    card_id=safe_ids,
    is_fraud=st.sampled_from([0, 1]),
    label_time=aware_datetimes,
    reason=st.none() | names,
)
counts = st.integers(0, 10**6)
non_negative = st.floats(min_value=0.0, max_value=1e6)


@st.composite
def monitor_windows(draw: st.DrawFn) -> MonitorWindow:
    size_s = draw(st.sampled_from([60, 300, 3600, 86400]))
    start = draw(aware_datetimes.filter(lambda moment: moment.year < 2099))
    return MonitorWindow(start=start, end=start + timedelta(seconds=size_s), size_s=size_s)


@st.composite
def drift_alerts(draw: st.DrawFn, window: MonitorWindow | None = None) -> DriftAlert:
    return DriftAlert(
        window=window or draw(monitor_windows()),
        model_name=draw(names),
        model_version=draw(names),
        metric=draw(st.sampled_from([str(metric) for metric in AlertMetric])),
        feature=draw(st.none() | names),
        segment=draw(st.none() | names),
        value=draw(finite_floats),
        threshold=draw(finite_floats),
        direction=draw(st.sampled_from(["above", "below"])),
        message=draw(names),
    )


segment_figures = st.builds(
    SegmentFigures,
    count=counts,
    flag_rate=probabilities,
    negatives=counts,
    positives=counts,
    fpr=st.none() | probabilities,
    tpr=st.none() | probabilities,
)
segment_biases = st.builds(
    SegmentBias,
    values=st.dictionaries(names, segment_figures, max_size=3),
    flag_rate_disparity=st.none() | probabilities,
    fpr_disparity=st.none() | probabilities,
    tpr_disparity=st.none() | probabilities,
)


@st.composite
def drift_reports(draw: st.DrawFn) -> DriftReport:
    window = draw(monitor_windows())
    optional_probability = st.none() | probabilities
    return DriftReport(
        window=window,
        model_name=draw(names),
        model_version=draw(names),
        counts=draw(st.builds(WindowCounts, **dict.fromkeys(WindowCounts.model_fields, counts))),
        features=draw(
            st.dictionaries(
                names, st.builds(FeatureDrift, psi=non_negative, count=counts, missing=counts), max_size=3
            )
        ),
        score=draw(st.none() | st.builds(ScoreDrift, psi=non_negative, mean=probabilities)),
        attribution=draw(
            st.dictionaries(
                names,
                st.builds(
                    AttributionDrift,
                    mean_abs=non_negative,
                    reference=non_negative,
                    ratio=st.none() | non_negative,
                    count=counts,
                ),
                max_size=3,
            )
        ),
        performance=Performance(
            window=window,
            labeled=draw(counts),
            positives=draw(counts),
            roc_auc=draw(optional_probability),
            pr_auc=draw(optional_probability),
            precision=draw(optional_probability),
            recall=draw(optional_probability),
            positive_rate=draw(optional_probability),
            reference_positive_rate=draw(optional_probability),
        ),
        bias=draw(st.dictionaries(names, segment_biases, max_size=2)),
        alerts=draw(st.lists(drift_alerts(window), max_size=2)),
    )


# The comparison payloads (champion and challengers).
differences = st.floats(min_value=-1.0, max_value=1.0)
metric_comparisons = st.builds(
    MetricComparison,
    champion=st.none() | probabilities,
    challenger=st.none() | probabilities,
    difference=st.none() | differences,
    ci_low=st.none() | differences,
    ci_high=st.none() | differences,
)
segment_comparisons = st.builds(
    SegmentComparison,
    count=counts,
    champion_flag_rate=probabilities,
    challenger_flag_rate=probabilities,
    flag_rate_difference=differences,
    labeled=counts,
    positives=counts,
    champion_recall=st.none() | probabilities,
    challenger_recall=st.none() | probabilities,
)
rule_clauses = st.builds(
    RuleClause,
    clause=st.sampled_from(["labelled_frauds", "recall_gain", "recall_gain_ci", "segment_flag_rate"]),
    passed=st.booleans(),
    value=st.none() | finite_floats,
    threshold=finite_floats,
    segment=st.none() | names,
    message=names,
)


@st.composite
def promotion_verdicts(
    draw: st.DrawFn, window: MonitorWindow | None = None, models: tuple[str, ...] | None = None
) -> PromotionVerdict:
    champion, champion_version, challenger, challenger_version = models or tuple(
        draw(names) for _ in range(4)
    )
    return PromotionVerdict(
        window=window or draw(monitor_windows()),
        champion_name=champion,
        champion_version=champion_version,
        challenger_name=challenger,
        challenger_version=challenger_version,
        verdict=draw(st.sampled_from(list(Verdict))),
        labeled_frauds=draw(counts),
        recall_gain=draw(st.none() | differences),
        recall_gain_ci_low=draw(st.none() | differences),
        recall_gain_ci_high=draw(st.none() | differences),
        rule=PromotionRuleFigures(
            min_frauds=draw(st.integers(1, 1000)),
            min_recall_gain=draw(probabilities),
            max_segment_flag_rate_increase=draw(probabilities),
            segment_min_count=draw(st.integers(1, 10**6)),
        ),
        clauses=draw(st.lists(rule_clauses, max_size=4)),
        reasons=draw(st.lists(names, max_size=4)),
    )


@st.composite
def model_comparisons(draw: st.DrawFn) -> ModelComparison:
    window = draw(monitor_windows())
    models = tuple(draw(names) for _ in range(4))
    return ModelComparison(
        window=window,
        champion_name=models[0],
        champion_version=models[1],
        challenger_name=models[2],
        challenger_version=models[3],
        counts=draw(st.builds(ComparisonCounts, **dict.fromkeys(ComparisonCounts.model_fields, counts))),
        alert_budget=draw(st.none() | probabilities),
        roc_auc=draw(metric_comparisons),
        pr_auc=draw(metric_comparisons),
        recall_at_budget=draw(metric_comparisons),
        recall_at_threshold=draw(metric_comparisons),
        flag_rate=draw(metric_comparisons),
        score_psi=draw(st.none() | non_negative),
        bootstrap=BootstrapFigures(
            resamples=draw(st.integers(0, 10**4)),
            confidence=draw(st.floats(0.5, 0.99)),
            seed=draw(st.integers(0, 2**32 - 1)),
        ),
        segments=draw(
            st.dictionaries(names, st.dictionaries(names, segment_comparisons, max_size=2), max_size=2)
        ),
        verdict=draw(promotion_verdicts(window, models)),
    )


PAYLOADS: dict[str, st.SearchStrategy[Any]] = {
    "dev.rtinfer.payment.authorized.v1": payments,
    "dev.rtinfer.prediction.v1": predictions,
    "dev.rtinfer.prediction.shadow.v1": shadow_predictions,
    "dev.rtinfer.explanation.v1": explanations(),
    "dev.rtinfer.deadletter.v2": dead_letters(),
    "dev.rtinfer.label.v1": labels,
    "dev.rtinfer.drift.report.v1": drift_reports(),
    "dev.rtinfer.drift.alert.v1": drift_alerts(),
    "dev.rtinfer.comparison.report.v1": model_comparisons(),
    "dev.rtinfer.promotion.verdict.v1": promotion_verdicts(),
}
extension_names = st.from_regex(r"[a-z0-9]{1,20}", fullmatch=True).filter(
    lambda name: name not in RESERVED_NAMES
)
optional_text = st.none() | names


@st.composite
def events_of(draw: st.DrawFn, type_name: str) -> Event[Any]:
    """Valid events of one type, with every optional attribute sometimes set."""
    data: Contract = draw(PAYLOADS[type_name])
    event_type = event_type_of(data)
    subject = draw(optional_text)
    if event_type.subject_field is not None and subject is not None:
        subject = getattr(data, event_type.subject_field)
    return Event(
        id=draw(names),
        source=draw(names),
        type=type_name,
        time=draw(aware_datetimes),
        data=data,
        subject=subject,
        dataschema=draw(st.sampled_from([None, event_type.dataschema])),
        partitionkey=draw(optional_text),
        traceparent=draw(optional_text),
        tracestate=draw(optional_text),
        causationid=draw(optional_text),
        extensions=draw(st.dictionaries(extension_names, st.text(max_size=12), max_size=2)),
    )


any_events = st.one_of([events_of(name) for name in sorted(EVENT_TYPES)])


def sample_payment(**overrides: Any) -> Payment:
    """A fixed valid payment; override any field."""
    fields: dict[str, Any] = {
        "payment_id": "pay-0001",
        "card_id": "card-42",
        "merchant_id": "m-7",
        "amount": 42.5,
        "currency": "EUR",
        "timestamp": datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
        "country": "FR",
        "merchant_category": "5411",
        "channel": Channel.ECOM,
        "card_type": CardType.CREDIT,
    }
    return Payment(**(fields | overrides))


def sample_payment_event(**overrides: Any) -> Event[Payment]:
    """The input event of `sample_payment(**overrides)`."""
    return new_payment_event(sample_payment(**overrides), source="//tests/acquirer")
