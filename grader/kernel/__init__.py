"""The student's own loop: ``grader.check()`` runs the public tests on the functions of a notebook's kernel."""
