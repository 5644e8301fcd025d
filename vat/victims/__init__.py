"""Victims, their consents, the assistance they receive, their children and every contact."""
