"""evaluation service: satisfaction, per-service records, staff efficiency,
half-year summaries and improvement plans (clause 9)."""
