"""What LMSs read, computed from reports: one module per platform or format, each a function of ``Report``.

- ``reports``: a folder of ``OUTDIR/<student>.json`` reports read back (summaries and broken files skipped).
- ``student_view``: a report as students may see it: hidden tests' inputs and expected values removed.
- ``feedback``: the words of a test (message and hints) as plain text, in ``grader check``'s terms.
- ``canvas``, ``junit``, ``prairielearn``, ``gradescope``, ``classroom``: the formats.
- ``gradescope_bundle``, ``wheel``: Gradescope's autograder zip and the grader packed inside it.
- ``autograde``: grade the one submission an autograder container holds (Gradescope, PrairieLearn).
"""
