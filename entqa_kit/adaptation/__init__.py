"""Adapting to a new KB or domain without labels: silver mentions from KB names."""
