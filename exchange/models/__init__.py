"""Tortoise models, one module per aggregate; the app label is ``models``."""

from exchange.models.apikey import ApiKey
from exchange.models.certificate import Certificate, CertificateStatus
from exchange.models.enums import (
    ApiKeyRole,
    DeliveryStatus,
    ExchangeStatus,
    InvitationStatus,
    MailKind,
    MailStatus,
    OrganisationKind,
    ParticipationRole,
    ParticipationStatus,
    SessionFormat,
    Theme,
)
from exchange.models.exchange import Exchange, Session
from exchange.models.invitation import Invitation
from exchange.models.organisation import Organisation
from exchange.models.outbox import (
    IdempotencyRecord,
    OutboxMail,
    PersistedDocument,
    WebhookDelivery,
    WebhookEndpoint,
)
from exchange.models.participation import Participation
from exchange.models.report import (
    ExchangeOutcome,
    ExperienceReport,
    OutcomeMetric,
    ReportAuthorKind,
    ReportStatus,
)
from exchange.models.volunteer import Volunteer

__all__ = [
    "ApiKey",
    "ApiKeyRole",
    "Certificate",
    "CertificateStatus",
    "DeliveryStatus",
    "Exchange",
    "ExchangeOutcome",
    "ExchangeStatus",
    "ExperienceReport",
    "IdempotencyRecord",
    "Invitation",
    "InvitationStatus",
    "MailKind",
    "MailStatus",
    "Organisation",
    "OrganisationKind",
    "OutboxMail",
    "OutcomeMetric",
    "Participation",
    "ParticipationRole",
    "ParticipationStatus",
    "PersistedDocument",
    "ReportAuthorKind",
    "ReportStatus",
    "Session",
    "SessionFormat",
    "Theme",
    "Volunteer",
    "WebhookDelivery",
    "WebhookEndpoint",
]
