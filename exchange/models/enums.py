"""Enumerations stored in the database (values are the contract's enum names)."""

from __future__ import annotations

from enum import StrEnum


class OrganisationKind(StrEnum):
    INTERNATIONAL = "INTERNATIONAL"
    GOVERNMENT = "GOVERNMENT"
    NGO = "NGO"
    EDUCATION = "EDUCATION"
    BUSINESS = "BUSINESS"
    COMMUNITY = "COMMUNITY"


class Theme(StrEnum):
    ECOLOGY = "ECOLOGY"
    EDUCATION = "EDUCATION"
    HEALTH = "HEALTH"
    EMERGENCY_RESPONSE = "EMERGENCY_RESPONSE"
    CULTURE = "CULTURE"
    SOCIAL = "SOCIAL"
    SPORT = "SPORT"
    OTHER = "OTHER"


class ExchangeStatus(StrEnum):
    DRAFT = "DRAFT"
    OPEN = "OPEN"
    CLOSED = "CLOSED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class SessionFormat(StrEnum):
    IN_PERSON = "IN_PERSON"
    ONLINE = "ONLINE"
    HYBRID = "HYBRID"


class ParticipationRole(StrEnum):
    PARTICIPANT = "PARTICIPANT"
    MENTOR = "MENTOR"
    SPEAKER = "SPEAKER"
    COORDINATOR = "COORDINATOR"


class ParticipationStatus(StrEnum):
    CONFIRMED = "CONFIRMED"
    WITHDRAWN = "WITHDRAWN"
    ATTENDED = "ATTENDED"
    # Beyond the contract: recorded by the host after the start; shown to hosts only.
    NO_SHOW = "NO_SHOW"


class InvitationStatus(StrEnum):
    QUEUED = "QUEUED"
    SENT = "SENT"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"
    FAILED = "FAILED"
    # Beyond the contract (exchange.invitations.waitlist): accepted when every place was taken,
    # on the exchange's waiting list; then offered a freed place for a claim window.
    WAITLISTED = "WAITLISTED"
    OFFERED = "OFFERED"
    # Accepted, then given up by the invitee before the exchange started.
    WITHDRAWN = "WITHDRAWN"


class ApiKeyRole(StrEnum):
    ADMIN = "ADMIN"
    ORGANISATION = "ORGANISATION"
    READ_ONLY = "READ_ONLY"


class MailKind(StrEnum):
    INVITATION = "INVITATION"
    RESEND = "RESEND"
    REMINDER = "REMINDER"
    UPDATE = "UPDATE"
    CANCELLATION = "CANCELLATION"
    # Not REMINDER (that one asks an invitee for an answer): a participant's session is near.
    SESSION_REMINDER = "SESSION_REMINDER"
    # A certificate of participation, its PDF attached (exchange.certificates.mail).
    CERTIFICATE = "CERTIFICATE"
    # The invitee withdrew: a calendar CANCEL of what the invitation put in their calendar.
    WITHDRAWAL = "WITHDRAWAL"
    # A freed place offered to the first on the waiting list, with the claim deadline.
    WAITLIST_OFFER = "WAITLIST_OFFER"


class MailStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
