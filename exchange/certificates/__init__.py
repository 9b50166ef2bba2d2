"""Certificates of participation: issued for attended hours, verified by a code on a public page."""
