"""Reading submissions: bad files get a plain message; notebooks become cells, magics dropped."""

from __future__ import annotations

import json
import os

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.source import read_submission
from grader.source.reader import MAX_BYTES


def _nb(*cells) -> str:
    return nbformat.writes(new_notebook(cells=[new_code_cell(c) if not c.startswith("#md") else new_markdown_cell(c[3:]) for c in cells]))


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("empty.py", b"", "empty"),
        ("blank.py", b"   \n\n", "empty"),
        ("binary.py", b"\x7fELF\x00\x01\x02" * 100, "binary"),
        ("latin1.py", "x = 'caf\u00e9'\n".encode("latin-1"), "not UTF-8"),
        ("corrupt.ipynb", b'{"cells": [', "not valid notebook JSON"),
        ("notanotebook.ipynb", b'{"hello": 1}', "notebook"),
    ],
)
def test_bad_files_get_a_plain_message(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    source = read_submission(path)
    assert source.error and expected in source.error
    assert source.chunks == []


def test_a_symbolic_link_is_not_followed(tmp_path):
    link = tmp_path / "alice.py"
    link.symlink_to("/etc/passwd")
    source = read_submission(link)
    assert "symbolic link" in source.error
    assert "root" not in source.error and source.sha256 == ""


def test_a_huge_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.py"
    with open(path, "wb") as f:
        f.truncate(MAX_BYTES["py"] + 1)
    source = read_submission(path)
    assert "larger than" in source.error


@pytest.mark.parametrize("told_size", [0, 10])
def test_a_file_that_grew_after_its_size_was_read_is_read_whole(tmp_path, monkeypatch, told_size):
    """The read buffer is sized to the file: a file larger than fstat said (still being written, or a size-0
    file such as those of /proc) is still read to its end, and still refused past the limit."""
    path = tmp_path / "growing.py"
    text = "".join(f"def f{i}(x):\n    return x + {i}\n" for i in range(100))
    path.write_text(text)
    real_fstat = os.fstat

    def smaller(fd):
        info = real_fstat(fd)
        return os.stat_result((info.st_mode, info.st_ino, info.st_dev, info.st_nlink, info.st_uid, info.st_gid,
                               told_size, int(info.st_atime), int(info.st_mtime), int(info.st_ctime)))

    monkeypatch.setattr("grader.source.reader.os.fstat", smaller)
    source = read_submission(path)
    assert source.error is None and source.chunks == [("growing.py", text)] and "f99" in source.defined
    monkeypatch.setitem(MAX_BYTES, "py", len(text) - 1)
    assert "larger than allowed" in read_submission(path).error


def test_a_fifo_is_not_read(tmp_path):
    path = tmp_path / "pipe.py"
    os.mkfifo(path)
    assert "not a regular file" in read_submission(path).error


def test_a_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.py"
    path.write_bytes("\ufeffdef softmax(z):\n    return z\n".encode("utf-8"))
    source = read_submission(path)
    assert source.error is None and "softmax" in source.defined


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_a_file_saved_as_utf16_or_utf32_with_its_byte_order_mark_is_read_with_a_note(tmp_path, encoding):
    path = tmp_path / "sub.py"
    bom = {"utf-16": b"", "utf-16-be": b"\xfe\xff", "utf-32": b""}[encoding]  # Python writes the BOM of utf-16, utf-32
    path.write_bytes(bom + "def f(x):\n    return 'é' * x\n".encode(encoding))
    source = read_submission(path)
    assert source.error is None and "f" in source.defined
    assert any(note.startswith(f"the file is saved as {encoding.split('-be')[0].upper()}, and was read as such")
               for note in source.notes)
    path.write_bytes(b"\xff\xfe" + b"\x00\xd8")  # a lone surrogate: not UTF-16 at all
    assert "as its first bytes say it is" in read_submission(path).error
    plain = tmp_path / "plain.py"
    plain.write_text("x = 1\n")
    assert read_submission(plain).notes == []


def test_notebook_cells_become_chunks_named_after_the_cell(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(_nb("#md# Title", "import numpy as np", "def softmax(z):\n    return z"))
    source = read_submission(path)
    assert source.mode == "cells"
    assert [name for name, _ in source.chunks] == ["cell 2", "cell 3"]
    assert source.chunks[1][1].startswith("def softmax(z):")
    assert source.quote("cell 3", 2) == "return z"


def test_a_cell_that_was_run_is_also_named_by_the_number_jupyter_shows_beside_it(tmp_path):
    notebook = new_notebook(cells=[new_markdown_cell("# Title"), new_code_cell("import numpy as np", execution_count=3),
                                   new_code_cell("%matplotlib inline\ndef softmax(z):\n    return z", execution_count=5),
                                   new_code_cell("x = 1")])  # never run
    path = tmp_path / "nb.ipynb"
    path.write_text(nbformat.writes(notebook))
    source = read_submission(path)
    assert [name for name, _ in source.chunks] == ["cell 2 (In [3])", "cell 3 (In [5])", "cell 4"]
    assert source.quote("cell 3 (In [5])", 3) == "return z"
    assert any(note.startswith("cell 3 (In [5]), line 1: IPython magic") for note in source.notes), source.notes


def test_magics_and_shell_escapes_are_dropped_with_a_note(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(_nb("%matplotlib inline\n!pip install numpy\nx = !ls\nimport numpy as np", "np.exp?",
                        "%%bash\necho hi", "%%time\ny = 1", "for i in range(2):\n    %time pass"))
    source = read_submission(path)
    assert source.error is None
    code = "\n".join(c for _, c in source.chunks)
    assert "%" not in code and "!" not in code and "echo" not in code
    assert "y = 1" in code
    notes = " ".join(source.notes)
    assert "%matplotlib" in notes and "pip install" in notes and "%%bash" in notes


def test_a_cell_with_a_syntax_error_is_skipped_with_a_note_and_the_rest_kept(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(_nb("def softmax(z):\n    return z", "def broken(:\n    pass", "def softmax_jacobian(z):\n    return z"))
    source = read_submission(path)
    assert source.error is None
    assert {"softmax", "softmax_jacobian"} <= source.defined
    assert any("cell 2" in n and "syntax error" in n for n in source.notes)


def test_an_old_v3_notebook_is_read(tmp_path):
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [
        {"cells": [{"cell_type": "code", "input": "def softmax(z):\n    return z", "language": "python", "outputs": []}]}]}
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3))
    source = read_submission(path)
    assert source.error is None and "softmax" in source.defined


def test_a_notebook_of_markdown_only_cannot_be_graded(tmp_path):
    path = tmp_path / "md.ipynb"
    path.write_text(_nb("#md nothing here"))
    assert "no code cell" in read_submission(path).error


def test_the_packages_a_submission_imports_are_read_from_its_text(tmp_path):
    from grader.source import read_submission

    path = tmp_path / "s.py"
    path.write_text("import numpy as np\nfrom scipy.special import logsumexp\nimport os, sys.path\n\n"
                    "def f():\n    from math import exp\n    return 'import json'\n")
    assert read_submission(path).imports == {"numpy", "scipy", "os", "sys", "math"}


def test_code_that_only_compiling_finds_wrong_is_told_before_it_runs(tmp_path):
    path = tmp_path / "early_return.py"
    path.write_text("def softmax(z):\n    return z\n\nreturn softmax\n")
    source = read_submission(path)
    assert source.error == "early_return.py, line 4: syntax error: 'return' outside function: return softmax"
    assert source.chunks == [] and source.compiled == []


def test_the_compilers_warnings_on_student_code_stay_off_the_graders_terminal(tmp_path):
    import warnings

    path = tmp_path / "warns.py"
    path.write_text("x = 1\nif x is 1:\n    y = '\\d'\n")  # SyntaxWarning and DeprecationWarning when compiled
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        source = read_submission(path)
    assert source.error is None and len(source.compiled) == 1 and caught == []


def test_every_top_level_name_is_found_past_the_first_256(tmp_path):
    path = tmp_path / "many.py"
    path.write_text("import numpy as np\n" + "".join(f"def f{i}(x):\n    return x\n" for i in range(300)) + "for k in range(2):\n    pass\n")
    source = read_submission(path)
    assert {"np", "k", "f0", "f255", "f256", "f299"} <= source.defined and len(source.defined) == 302


def test_the_names_a_function_refers_to_are_read_from_its_code_in_any_cell(tmp_path):
    from grader.source.syntax import names_used_by

    path = tmp_path / "nb.ipynb"
    path.write_text(_nb(
        "import numpy as np\ndef softmax(z):\n    return np.exp(z) / np.exp(z).sum()",
        "def jacobian(z):\n    p = [softmax(v) for v in [z]][0]\n    return np.diag(p)",
        "def squared(z, y):\n    f = lambda x: helper(x)\n    return f(z) - y\ndef helper(x):\n    return x",
        "def scipys(z):\n    from scipy.special import softmax as sp\n    import scipy.special as special\n"
        "    return sp(z) + special.softmax(z) + z.softmax()",
    ))
    compiled = read_submission(path).compiled
    assert {"softmax", "np"} <= names_used_by(compiled, "jacobian")  # inside a comprehension too
    assert "helper" in names_used_by(compiled, "squared")  # inside a lambda
    assert "softmax" not in names_used_by(compiled, "squared")
    assert names_used_by(compiled, "absent") == set()
    assert "softmax" not in names_used_by(compiled, "scipys")  # an imported name or an attribute is not the global
    path.write_text(_nb("def jacobian(z):\n    return softmax(z)", "def jacobian(z):\n    return z"))
    assert "softmax" not in names_used_by(read_submission(path).compiled, "jacobian")  # the last definition counts


def test_a_cell_is_cut_before_the_top_level_statement_that_holds_a_line():
    from grader.source.syntax import statements_before

    code = "import numpy as np\n\n@decorate\ndef f(z):\n    return z\n\nfor i in range(3):\n    f(i)\n"
    assert statements_before(code, 8) == ("import numpy as np\n\n@decorate\ndef f(z):\n    return z\n\n", 7)
    assert statements_before(code, 7) == statements_before(code, 8)
    assert statements_before(code, 5) == ("import numpy as np\n\n", 3)  # a decorated def starts at its decorator
    assert statements_before(code, 1) == ("", 1)
    for not_a_statement in (2, 6, 9, 10**6, 0, -3):  # blank lines, past the end: no place to cut at
        assert statements_before(code, not_a_statement) is None
    assert statements_before("def f(:\n", 1) is None


def test_a_file_that_declares_its_encoding_is_read_as_python_reads_it(tmp_path):
    declared = tmp_path / "latin.py"  # saved by an old editor, with the coding line Python honours
    declared.write_bytes("# -*- coding: latin-1 -*-\n# Auteur : Ren\u00e9\ndef softmax(z):\n    return z\n".encode("latin-1"))
    source = read_submission(declared)
    assert not source.error and "softmax" in source.defined and "Ren\u00e9" in source.chunks[0][1]
    undeclared = tmp_path / "plain.py"  # the same bytes without the coding line: not UTF-8, and the line is said
    undeclared.write_bytes("def softmax(z):\n    # Ren\u00e9\n    return z\n".encode("latin-1"))
    assert read_submission(undeclared).error == "the file is not UTF-8 text (line 2 cannot be read); save it as UTF-8"
    wrong = tmp_path / "wrong.py"  # declares an encoding its bytes are not in
    wrong.write_bytes("# coding: ascii\nx = 'caf\u00e9'\n".encode("utf-8"))
    assert read_submission(wrong).error == ("the file is not ascii text, as its coding line says it is (line 2 cannot "
                                            "be read); save it as UTF-8")


def test_a_notebook_saved_with_a_py_extension_is_read_as_the_notebook_it_is(tmp_path):
    nb = new_notebook(cells=[new_markdown_cell("# HW"), new_code_cell("import numpy as np\ny = None"),
                             new_code_cell("def softmax(z):\n    return z")])
    path = tmp_path / "homework.py"
    path.write_text(nbformat.writes(nb))
    source = read_submission(path)
    assert source.error is None and source.kind == "ipynb" and "softmax" in source.defined
    assert [name for name, _ in source.chunks] == ["cell 2", "cell 3"]
    assert "homework.py holds a Jupyter notebook (JSON), not Python code: it was read as a notebook" in source.notes[0]
    plain = tmp_path / "plain.py"  # Python that only mentions notebooks is Python
    plain.write_text('{"cells": 1, "nbformat": 4}\nx = 1\n')
    assert read_submission(plain).kind == "py" and read_submission(plain).error is None
