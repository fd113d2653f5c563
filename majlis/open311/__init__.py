"""Open data of cases (CSV, JSON, a data dictionary) and the Open311 GeoReport v2 read interface: anonymised."""
