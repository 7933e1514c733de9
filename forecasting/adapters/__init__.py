"""Adapters to outside weather sources (Django-free)."""
