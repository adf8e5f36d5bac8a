"""`rtinfer model`: point-in-time training, evaluation, synthetic artifacts, a model server launcher."""
