"""The benchmark: generate task data, run the synthesizer as a user would, judge its programs."""
