"""grader: automated grading of softmax and BPTT gradient exercises, with targeted hints."""

__version__ = "0.1.0"
