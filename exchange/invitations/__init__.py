"""Invitations: invite, respond, resend, revoke, expiry and reminders."""
