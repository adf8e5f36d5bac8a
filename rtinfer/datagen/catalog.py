"""Static reference tables the generator draws from: countries, currencies, merchant categories.

Every code here is a real ISO 3166-1 alpha-2 country, ISO 4217 currency or ISO 18245 merchant
category code; the exchange rates are round illustrative figures, not market data.
"""

from __future__ import annotations

import numpy as np

# code, currency, UTC offset in January (hours), share of cards issued there, share of merchants there
_COUNTRY_ROWS: tuple[tuple[str, str, float, float, float], ...] = (
    ("DE", "EUR", 1.0, 0.16, 0.14),
    ("FR", "EUR", 1.0, 0.13, 0.12),
    ("ES", "EUR", 1.0, 0.08, 0.08),
    ("IT", "EUR", 1.0, 0.08, 0.07),
    ("NL", "EUR", 1.0, 0.05, 0.04),
    ("BE", "EUR", 1.0, 0.03, 0.03),
    ("AT", "EUR", 1.0, 0.02, 0.02),
    ("IE", "EUR", 0.0, 0.02, 0.02),
    ("PT", "EUR", 0.0, 0.02, 0.02),
    ("FI", "EUR", 2.0, 0.01, 0.01),
    ("GB", "GBP", 0.0, 0.14, 0.12),
    ("US", "USD", -5.0, 0.12, 0.12),
    ("CH", "CHF", 1.0, 0.02, 0.02),
    ("SE", "SEK", 1.0, 0.02, 0.02),
    ("NO", "NOK", 1.0, 0.01, 0.01),
    ("DK", "DKK", 1.0, 0.01, 0.01),
    ("PL", "PLN", 1.0, 0.03, 0.03),
    ("CZ", "CZK", 1.0, 0.01, 0.01),
    ("CA", "CAD", -5.0, 0.02, 0.02),
    ("AU", "AUD", 10.0, 0.02, 0.02),
    # No cards are issued in these; they only host merchants (travel, cross-border online shops).
    ("BR", "BRL", -3.0, 0.0, 0.01),
    ("MX", "MXN", -6.0, 0.0, 0.01),
    ("TR", "TRY", 3.0, 0.0, 0.01),
    ("ZA", "ZAR", 2.0, 0.0, 0.01),
    ("TH", "THB", 7.0, 0.0, 0.01),
    ("AE", "AED", 4.0, 0.0, 0.01),
    ("IN", "INR", 5.5, 0.0, 0.01),
)

# Units of each currency per euro: round illustrative figures so amounts look plausible.
FX_PER_EUR: dict[str, float] = {
    "EUR": 1.0, "GBP": 0.85, "USD": 1.08, "CHF": 0.95, "SEK": 11.3, "NOK": 11.6, "DKK": 7.46,
    "PLN": 4.3, "CZK": 25.0, "CAD": 1.47, "AUD": 1.63, "BRL": 5.6, "MXN": 19.0, "TRY": 35.0,
    "ZAR": 20.0, "THB": 38.0, "AED": 3.97, "INR": 90.0,
}  # fmt: skip

COUNTRY_CODES: tuple[str, ...] = tuple(row[0] for row in _COUNTRY_ROWS)
CURRENCY_CODES: tuple[str, ...] = tuple(dict.fromkeys(row[1] for row in _COUNTRY_ROWS))
COUNTRY_CURRENCY = np.array([CURRENCY_CODES.index(row[1]) for row in _COUNTRY_ROWS], dtype=np.int16)
COUNTRY_UTC_OFFSET_H = np.array([row[2] for row in _COUNTRY_ROWS], dtype=np.float64)
COUNTRY_CARD_WEIGHT = np.array([row[3] for row in _COUNTRY_ROWS], dtype=np.float64)
COUNTRY_MERCHANT_WEIGHT = np.array([row[4] for row in _COUNTRY_ROWS], dtype=np.float64)
CURRENCY_FX = np.array([FX_PER_EUR[code] for code in CURRENCY_CODES], dtype=np.float64)

CHANNELS: tuple[str, ...] = ("pos", "ecom", "atm", "moto")
POS, ECOM, ATM, MOTO = range(4)
CARD_TYPES: tuple[str, ...] = ("credit", "debit", "prepaid")
CARD_TYPE_WEIGHT = np.array([0.55, 0.40, 0.05])

# mcc, name, median amount (EUR), lognormal sigma, share of merchants, channel mix (pos, ecom, atm, moto),
# baseline risk added to a merchant's risk score
_MCC_ROWS: tuple[tuple[str, str, float, float, float, tuple[float, float, float, float], float], ...] = (
    ("5411", "grocery stores", 35.0, 0.70, 0.16, (0.92, 0.08, 0.0, 0.0), 0.00),
    ("5812", "restaurants", 28.0, 0.60, 0.14, (0.95, 0.05, 0.0, 0.0), 0.00),
    ("5814", "fast food", 11.0, 0.50, 0.08, (0.90, 0.10, 0.0, 0.0), 0.00),
    ("5541", "fuel stations", 55.0, 0.40, 0.06, (1.00, 0.00, 0.0, 0.0), 0.05),
    ("5311", "department stores", 60.0, 0.80, 0.05, (0.70, 0.30, 0.0, 0.0), 0.02),
    ("5732", "electronics", 180.0, 1.00, 0.04, (0.50, 0.50, 0.0, 0.0), 0.10),
    ("5651", "clothing", 70.0, 0.70, 0.07, (0.60, 0.40, 0.0, 0.0), 0.02),
    ("5912", "pharmacies", 18.0, 0.60, 0.05, (0.90, 0.10, 0.0, 0.0), 0.00),
    ("4121", "taxis and ride hailing", 19.0, 0.50, 0.05, (0.30, 0.70, 0.0, 0.0), 0.03),
    ("4511", "airlines", 320.0, 0.70, 0.02, (0.00, 0.85, 0.0, 0.15), 0.08),
    ("7011", "hotels", 210.0, 0.70, 0.04, (0.40, 0.50, 0.0, 0.10), 0.05),
    ("5999", "miscellaneous retail", 40.0, 1.00, 0.07, (0.20, 0.80, 0.0, 0.0), 0.12),
    ("4814", "telecom services", 30.0, 0.50, 0.03, (0.00, 0.70, 0.0, 0.30), 0.10),
    ("5815", "digital goods", 9.0, 0.80, 0.06, (0.00, 1.00, 0.0, 0.0), 0.15),
    ("6011", "cash withdrawal (ATM)", 120.0, 0.60, 0.05, (0.00, 0.00, 1.0, 0.0), 0.08),
    ("5944", "jewelry stores", 450.0, 0.90, 0.03, (0.70, 0.30, 0.0, 0.0), 0.12),
)

MCC_CODES: tuple[str, ...] = tuple(row[0] for row in _MCC_ROWS)
MCC_NAMES: tuple[str, ...] = tuple(row[1] for row in _MCC_ROWS)
MCC_MEDIAN_EUR = np.array([row[2] for row in _MCC_ROWS], dtype=np.float64)
MCC_SIGMA = np.array([row[3] for row in _MCC_ROWS], dtype=np.float64)
MCC_MERCHANT_WEIGHT = np.array([row[4] for row in _MCC_ROWS], dtype=np.float64)
MCC_CHANNEL_CUMULATIVE = np.cumsum(np.array([row[5] for row in _MCC_ROWS], dtype=np.float64), axis=1)
MCC_RISK = np.array([row[6] for row in _MCC_ROWS], dtype=np.float64)


def mcc_indices(*codes: str) -> np.ndarray:
    """Indices into the MCC table of the given category codes."""
    return np.array([MCC_CODES.index(code) for code in codes], dtype=np.int16)


ATM_MCC = MCC_CODES.index("6011")
CARD_TESTING_MCCS = mcc_indices("5815", "5999", "4814")  # cheap online goods a bot can buy
LARGE_PURCHASE_MCCS = mcc_indices("5732", "5944", "4511")  # resellable or high-ticket goods
SKIMMING_MCCS = mcc_indices("5541", "5411", "5812", "5814", "6011")  # card-present, busy
MERCHANT_MIX_DRIFT_MCCS = mcc_indices("5815", "5732", "5999", "4121")  # the online-heavy mix

# Share of payments per local hour 0..23: quiet nights, a lunch peak and an evening peak.
HOURLY_PROFILE = np.array(
    [0.6, 0.4, 0.3, 0.25, 0.25, 0.4, 1.0, 2.0, 3.2, 4.0, 4.5, 5.0,
     6.0, 5.5, 4.8, 4.6, 5.0, 5.6, 6.0, 5.5, 4.5, 3.4, 2.2, 1.2],
    dtype=np.float64,
)  # fmt: skip
HOURLY_PROFILE = HOURLY_PROFILE / HOURLY_PROFILE.sum()
