"""Widgets that show plain records; each declares the messages it emits."""
