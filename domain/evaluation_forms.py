"""Evaluation forms as versioned data (docs/domain.md §10; seed 004 §6.3, Evalueringsskjema).

A form version lists its respondent roles and its questions; each question has an answer
type (`scale` 1-5, `yes_no`, `choice` among listed options, free `text` up to a length) and
the roles that answer it. `EvaluationSubmitted` is only recorded with answers valid for
their form version (`EvaluationForms.validate`, called by `Contract.submit_evaluation`);
the statistics aggregate them per question, free text never.

The shipped forms are `domain/data/evaluation-forms.json`; a form version is never
changed once it has answers: a new version is added beside it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from importlib import resources
from types import MappingProxyType
from typing import Any

from domain.errors import InvalidInputError

DEFAULT_FILE = "evaluation-forms.json"
SCALE = (1, 2, 3, 4, 5)


class AnswerType(Enum):
    SCALE = "scale"
    YES_NO = "yes_no"
    CHOICE = "choice"
    TEXT = "text"


class UnknownFormVersionError(InvalidInputError):
    """An evaluation must use a form version that exists."""


class RespondentRoleInvalidError(InvalidInputError):
    """The respondent's role must be one of the roles the form version is for."""


class AnswerInvalidError(InvalidInputError):
    """Each answer must be of its question's type, for a question the respondent's role answers."""


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    type: AnswerType
    roles: tuple[str, ...]
    options: tuple[str, ...] = ()
    max_length: int = 0

    @property
    def aggregated(self) -> bool:
        """Free text is never aggregated (nor shown to the county)."""
        return self.type is not AnswerType.TEXT

    def categories(self) -> tuple[str, ...]:
        """The answer values counted in the statistics (none for free text)."""
        if self.type is AnswerType.SCALE:
            return tuple(str(v) for v in SCALE)
        if self.type is AnswerType.YES_NO:
            return ("yes", "no")
        return self.options

    def category_of(self, answer: Any) -> str | None:
        """What a valid answer counts as in the statistics (None: not counted)."""
        if self.type is AnswerType.SCALE:
            return str(answer)
        if self.type is AnswerType.YES_NO:
            return "yes" if answer else "no"
        if self.type is AnswerType.CHOICE:
            return str(answer)
        return None

    def check(self, answer: Any) -> None:
        where = f"answer {self.id!r}"
        if self.type is AnswerType.SCALE:
            if type(answer) is not int or answer not in SCALE:
                raise AnswerInvalidError(f"{where} must be a whole number from 1 to 5, not {_shown(answer)}")
        elif self.type is AnswerType.YES_NO:
            if type(answer) is not bool:
                raise AnswerInvalidError(f"{where} must be true or false, not {_shown(answer)}")
        elif self.type is AnswerType.CHOICE:
            if not isinstance(answer, str) or answer not in self.options:
                raise AnswerInvalidError(
                    f"{where} must be one of {', '.join(self.options)}, not {_shown(answer)}"
                )
        elif not isinstance(answer, str) or len(answer) > self.max_length:
            raise AnswerInvalidError(f"{where} must be text of at most {self.max_length} characters")


@dataclass(frozen=True)
class EvaluationForm:
    version: str
    title: str
    roles: tuple[str, ...]
    questions: tuple[Question, ...]

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def questions_for(self, role: str) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if role in q.roles)

    def validate(self, role: str, answers: Mapping[str, Any]) -> dict[str, Any]:
        """The answers, if each is valid for a question of this form that `role` answers
        (questions may be left out); the first invalid one is refused by name."""
        if role not in self.roles:
            raise RespondentRoleInvalidError(
                f"form {self.version} is answered by {', '.join(self.roles)}, not {role!r}"
            )
        if not isinstance(answers, Mapping):
            raise AnswerInvalidError("the answers must be an object of question id to answer")
        for question_id, answer in answers.items():
            question = self.question(str(question_id))
            if question is None:
                raise AnswerInvalidError(f"form {self.version} has no question {str(question_id)[:80]!r}")
            if role not in question.roles:
                raise AnswerInvalidError(f"question {question.id!r} is not answered by {role!r}")
            question.check(answer)
        return dict(answers)

    def describe(self) -> dict[str, Any]:
        """The form as the API shows it."""
        return {
            "version": self.version,
            "title": self.title,
            "roles": list(self.roles),
            "questions": [
                {
                    "id": q.id,
                    "text": q.text,
                    "type": q.type.value,
                    "roles": list(q.roles),
                    **({"options": list(q.options)} if q.options else {}),
                    **({"max_length": q.max_length} if q.type is AnswerType.TEXT else {}),
                    "aggregated": q.aggregated,
                }
                for q in self.questions
            ],
        }


@dataclass(frozen=True)
class EvaluationForms:
    forms: Mapping[str, EvaluationForm]

    def form(self, version: str) -> EvaluationForm:
        found = self.forms.get(version)
        if found is None:
            known = ", ".join(sorted(self.forms)) or "none"
            raise UnknownFormVersionError(f"no evaluation form {version[:80]!r} (known: {known})")
        return found

    def validate(self, version: str, role: str, answers: Mapping[str, Any]) -> dict[str, Any]:
        return self.form(version).validate(role, answers)

    def get(self, version: str) -> EvaluationForm | None:
        return self.forms.get(version)


def _shown(value: Any) -> str:
    text = (
        json.dumps(value)
        if isinstance(value, bool | int | float | str | type(None))
        else type(value).__name__
    )
    return text[:40]


def parse_forms(text: str, origin: str) -> EvaluationForms:
    """The forms of a JSON document `{"forms": [...]}`; a `ValueError` names what is wrong."""
    try:
        data = json.loads(text)
        forms: dict[str, EvaluationForm] = {}
        for raw in data["forms"]:
            version = str(raw["version"])
            roles = tuple(str(r) for r in raw["roles"])
            questions = []
            for q in raw["questions"]:
                kind = AnswerType(q["type"])
                question = Question(
                    id=str(q["id"]),
                    text=str(q["text"]),
                    type=kind,
                    roles=tuple(str(r) for r in q["roles"]),
                    options=tuple(str(o) for o in q.get("options", ())),
                    max_length=int(q.get("max_length", 0)),
                )
                if kind is AnswerType.CHOICE and not question.options:
                    raise ValueError(f"question {question.id} of form {version}: a choice needs options")
                if kind is AnswerType.TEXT and question.max_length <= 0:
                    raise ValueError(
                        f"question {question.id} of form {version}: free text needs a max_length"
                    )
                if not set(question.roles) <= set(roles):
                    raise ValueError(
                        f"question {question.id} of form {version}: a role the form does not list"
                    )
                questions.append(question)
            if version in forms:
                raise ValueError(f"form {version} is listed twice")
            if len({q.id for q in questions}) != len(questions):
                raise ValueError(f"form {version} repeats a question id")
            forms[version] = EvaluationForm(version, str(raw.get("title", "")), roles, tuple(questions))
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"{origin}: not an evaluation form document ({error})") from None
    except ValueError as error:
        raise ValueError(f"{origin}: {error}") from None
    return EvaluationForms(MappingProxyType(forms))


def _default() -> EvaluationForms:
    data = resources.files("domain.data").joinpath(DEFAULT_FILE)
    return parse_forms(data.read_text(encoding="utf-8"), f"domain/data/{DEFAULT_FILE}")


DEFAULT_FORMS: EvaluationForms = _default()
