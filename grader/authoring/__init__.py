"""Instructor-side authoring: student templates from marked solutions, and the shipped public data."""
