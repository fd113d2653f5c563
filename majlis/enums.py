"""The domain's states and kinds, shared by models, services and serializers."""

from __future__ import annotations

import enum

StrEnum = enum.StrEnum


class Role(StrEnum):
    RESIDENT = "resident"
    MODERATOR = "moderator"
    STAFF = "staff"
    OFFICIAL = "official"
    ADMIN = "admin"


class SeriesKind(StrEnum):
    WEEKLY = "weekly"
    COORDINATING = "coordinating"
    SPECIAL = "special"
    FIELD_VISIT = "field_visit"  # the governor visiting an area


class SessionFormat(StrEnum):
    """Where a session is held: in the video room, in a hall (a place), or both at once."""

    ONLINE = "online"
    IN_PERSON = "in_person"
    HYBRID = "hybrid"


class SeatMode(StrEnum):
    """Which of a session's two seat pools a registration holds (or waits for): the video room's or the hall's."""

    ONLINE = "online"
    IN_PERSON = "in_person"


class Visibility(StrEnum):
    PUBLIC = "public"
    INVITED = "invited"


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    CANCELLED = "cancelled"


class RegistrationStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class InvitationResponse(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class QuestionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    ON_AIR = "on_air"
    ANSWERED = "answered"
    REJECTED = "rejected"
    MERGED = "merged"
    WITHDRAWN = "withdrawn"


class CaseStatus(StrEnum):
    SUBMITTED = "submitted"  # a resident's request, waiting for the office to triage it to a body
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    DECLINED = "declined"
    CONFIRMED = "confirmed"  # the resident confirmed the resolution


class CaseChannel(StrEnum):
    """How a need reached the governorate."""

    MAJLIS = "majlis"
    FIELD_VISIT = "field_visit"
    APP = "app"
    WEBSITE = "website"
    PHONE = "phone"
    SOCIAL_MEDIA = "social_media"
    EMAIL = "email"


class FeedbackOutcome(StrEnum):
    """The resident's answer to "was it fixed?"."""

    FIXED = "fixed"
    PARTLY_FIXED = "partly_fixed"
    NOT_FIXED = "not_fixed"


class MinutesStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    PUBLISHED = "published"


class AttachmentKind(StrEnum):
    RECORDING = "recording"
    TRANSCRIPT = "transcript"
    CHAT = "chat"


class AttachmentStatus(StrEnum):
    PENDING = "pending"  # due to be fetched, or waiting to retry
    STORED = "stored"
    FAILED = "failed"  # the link expired before a download succeeded, or the file was refused


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # attempts exhausted, or no renderer for its kind
    SKIPPED = "skipped"  # what it speaks of, or its recipient, is gone: nothing to send
