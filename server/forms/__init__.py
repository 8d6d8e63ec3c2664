"""Office-defined forms: definitions, the condition language, answers and XLSForm files.

Plain domain code (no views, no database): `definition` parses and checks a form's JSON,
`conditions` is the small `relevant` language, `answers` checks what a phone sends and says
which answers open a case, `xlsform` reads and writes the XLSForm subset. docs/forms.md
describes the formats.
"""
