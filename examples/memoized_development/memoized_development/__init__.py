"""Seed 002's dog / tree / sentence example in today's API."""
