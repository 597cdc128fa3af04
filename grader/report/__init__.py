"""The report: one pydantic model, its JSON, its schema, and its renderings."""
