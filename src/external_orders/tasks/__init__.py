"""Scheduled tasks: what the worker runs on an interval (``scheduled_task``)."""
