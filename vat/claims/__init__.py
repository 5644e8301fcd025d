"""Paternity and child-support claims, from report to outcome."""
