"""Import every model so the metadata (and Alembic) sees the whole domain."""

from majlis.audit.models import AuditEntry
from majlis.auth.models import AccountThrottle, ApiToken, EmailVerification, User
from majlis.cache import CacheVersion
from majlis.calendar.models import CalendarFeed
from majlis.db import Base
from majlis.directory.models import Area, GovernmentBody
from majlis.followups.models import Case, CaseCategory, CaseFeedback, CaseUpdate
from majlis.heartbeat import SchedulerHeartbeat
from majlis.jitsi.models import RoomEvent
from majlis.minutes.models import ArchiveDocument, Attachment, Minutes, MinutesRevision, SessionNote
from majlis.notifications.models import NotificationSettings, OutboxMessage, PhoneVerification, PushSubscription
from majlis.questions.models import Question, Vote
from majlis.registration.models import Registration
from majlis.sessions.models import Invitation, MajlisSession, Series

__all__ = [
    "AccountThrottle", "ApiToken", "ArchiveDocument", "Area", "Attachment", "AuditEntry", "Base", "CacheVersion",
    "CalendarFeed", "Case", "CaseCategory", "CaseFeedback", "CaseUpdate", "EmailVerification", "GovernmentBody",
    "Invitation", "MajlisSession", "Minutes", "MinutesRevision", "NotificationSettings", "OutboxMessage",
    "PhoneVerification", "PushSubscription", "Question", "Registration", "RoomEvent", "SchedulerHeartbeat", "Series",
    "SessionNote", "User", "Vote",
]
