"""Pure monitoring logic: windows, PSI, ranking metrics, bias, reports, alerts. No I/O, no SDK."""
