"""Renderings of results for people and scripts (text, JSON, …)."""
