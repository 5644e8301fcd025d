"""Allegations of sexual exploitation and abuse, their clock and their outcome."""
