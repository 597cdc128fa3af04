"""The offline HTML pages: the class at a glance (``index.html``) and one page per student.

``grader.report.folder`` reads the reports; ``classdata`` and ``studentdata`` compute what the pages show,
``notation`` typesets the hints' math, ``plots`` draws with pygal, ``render`` fills the Jinja2
templates, ``site`` writes the files and ``command`` is ``grader report``.
"""

from grader.report.html.site import Site, build_site

__all__ = ["Site", "build_site"]
