"""Loading the evaluation forms (`RUSKONTRAKT_EVALUATION_FORMS`).

Without a file the service uses the forms shipped with the domain
(`domain/data/evaluation-forms.json`); a file replaces them whole and has the same form:
`{"forms": [{"version", "title", "roles", "questions": [...]}]}` (docs/domain.md §10). A form
version answers were given under must stay in the file: answers are checked and counted
against their own version.
"""

from __future__ import annotations

import json
from pathlib import Path

from domain.evaluation_forms import DEFAULT_FORMS, EvaluationForms, parse_forms
from infra.setting_files import read_setting_file
from infra.settings import ConfigurationError

SETTING = "RUSKONTRAKT_EVALUATION_FORMS"


class FormsFileError(ConfigurationError):
    """The evaluation forms file is missing, unreadable or not a forms document: start-up
    stops with one line naming the setting, the file and what is wrong."""


def load_forms(path: Path | None) -> EvaluationForms:
    if path is None:
        return DEFAULT_FORMS
    text = read_setting_file(path, SETTING, "evaluation forms file", FormsFileError)
    try:
        forms = parse_forms(text, str(path))
    except (ValueError, json.JSONDecodeError) as error:
        raise FormsFileError(f"{SETTING}: {error}") from None
    if not forms.forms:
        raise FormsFileError(f"{SETTING}: {path} holds no form")
    return forms
