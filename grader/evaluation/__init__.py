"""The trusted side's judgement: expected answers, comparisons, finite differences."""
