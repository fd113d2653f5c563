"""The scheduler process: timed work derived from the database, run by exactly one leader."""
