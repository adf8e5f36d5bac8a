"""Vector search backends (Weaviate, Milvus Lite, in-memory), their settings, factory and embedding."""
