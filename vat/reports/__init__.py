"""Reports that read both domains: per-victim support, the fund statement, assistance and the
allegation clock; their charts, exports and small-cell suppression."""
