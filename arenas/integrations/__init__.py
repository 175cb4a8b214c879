"""Bridges to the frameworks users train with (each imports its framework lazily)."""
