"""Regression stage: one formula per state variable or output of the extracted state machine."""
