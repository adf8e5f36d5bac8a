"""`rtinfer demo`: the whole pipeline on embedded defaults, or against the native stack."""
