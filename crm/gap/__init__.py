"""Pure gap engine: export parsers, domain normalisation, gap, scoring, mapping."""
