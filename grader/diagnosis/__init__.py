"""Which known mistake fits a wrong answer: mutant matching, structural checks, ranking."""
