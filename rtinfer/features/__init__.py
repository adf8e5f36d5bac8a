"""`rtinfer features`: Feast apply/materialize, the offline backfill and point-in-time training sets."""
