"""The governorate of the follow-up tests (bodies, categories, areas, accounts)."""

from tests.followups.conftest import office  # noqa: F401 - a fixture, shared
