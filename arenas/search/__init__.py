"""Conversational search arena (ConvSearch-R1): query rewriting and search over Wikipedia passages."""
