"""The governorate's directory: its areas and its government bodies (models only; every capability reads them)."""
