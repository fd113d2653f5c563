"""Questions' JSON: limits, request models and the one serializer of a question (questions/services.py imports the
limits)."""


from typing import Any

from majlis.enums import QuestionStatus
from majlis.schema_types import N_, Count, Id, Instant, Model, described, digits_id, enum_of, number, text

BODY_MIN, BODY_MAX = 3, 1000
NOTE_MAX = 1000
CATEGORIES = ("roads", "housing", "health", "education", "utilities", "environment", "social", "security", "other")

QuestionBody = text(N_("3 to 1000 characters; line breaks are kept"), min_length=BODY_MIN, max_length=BODY_MAX)


class AskInput(Model):
    body: QuestionBody
    anonymous: bool = False
    category: enum_of(CATEGORIES) | None = None


class EditInput(Model):
    body: QuestionBody


class ModerationInput(Model):
    action: enum_of(["approve", "reject", "on_air", "answered", "merge"])
    into: digits_id(N_("For merge: a question of the same session")) = None
    note: text(N_("For reject (required, the reason the author sees) and answered; at most 1000 characters"),
               max_length=NOTE_MAX) | None = None


class Author(Model):
    id: Id
    name: str


class Question(Model):
    """`author` is null for an anonymous question, except for moderators and the author"""

    id: Id
    session_id: Id
    body: str
    status: enum_of(QuestionStatus)
    votes: Count
    author: Author | None
    anonymous: bool
    category: enum_of(CATEGORIES) | None
    created_at: Instant
    answer_note: str | None
    merged_into: Id | None
    reject_reason: described(str, "Shown only to the author and moderators") | None

    @staticmethod
    def dump(question, viewer, *, is_moderator: bool) -> dict[str, Any]:
        """A question as a viewer may see it: anonymous authors hidden from all but moderators and themselves."""
        own_or_moderator = is_moderator or (viewer is not None and viewer.id == question.author_id)
        reveal = not question.is_anonymous or own_or_moderator
        return {
            "id": question.id,
            "session_id": question.session_id,
            "body": question.body,
            "status": question.status.value,
            "votes": question.votes_count,
            "author": {"id": question.author_id, "name": question.author.name} if reveal else None,
            "anonymous": question.is_anonymous,
            "category": question.category,
            "created_at": question.created_at.isoformat(),
            "answer_note": question.answer_note,
            "merged_into": question.merged_into_id,
            "reject_reason": question.reject_reason if own_or_moderator else None,
        }


class QuestionList(Model):
    version: number(0, description="Rises with every change; for polling")
    questions: list[Question]


class Votes(Model):
    votes: Count
