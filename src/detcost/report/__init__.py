"""Figures (pure functions of frames) and the pages that show them."""
