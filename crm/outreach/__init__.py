"""Outreach: angles, sequences, templates, sending windows and the pre-send gate."""
