"""Vector search over labelled past cases: settings, embedding, indexing, exact oracle, CLI."""
