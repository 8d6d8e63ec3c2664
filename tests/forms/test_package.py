"""server/forms is plain domain code: no views, no database, no app needed."""

from __future__ import annotations

import subprocess
import sys

MODULES = ["server.forms.definition", "server.forms.answers", "server.forms.xlsform"]


def test_forms_import_without_views_or_database() -> None:
    code = (
        "import sys, importlib\n"
        f"for name in {MODULES!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'sqlalchemy', 'flask_sqlalchemy', 'sync', 'geo'} "
        "or m.startswith(('server.app_setup', 'server.api', 'server.web', 'server.models')) "
        "or (m.startswith('server.') and m.endswith('.views')))\n"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_errors_work_without_an_application() -> None:
    from server.forms.definition import parse_definition
    from server.forms.problems import FormDefinitionError

    try:
        parse_definition({"format": 1, "title": {"zh": "空"}, "questions": []})
    except FormDefinitionError as error:
        assert str(error.message) == "The form definition has problems; see the list."
        assert error.code == "form_definition_invalid"
        assert error.codes() == ["no_questions"]
    else:  # pragma: no cover
        raise AssertionError("an empty form was accepted")
