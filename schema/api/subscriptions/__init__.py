"""Subscription root: invitation updates (``invitations``) and participation updates
(``participations``), over one way of opening a stream (``stream``: who may subscribe,
which filters, the hub) and one execution per event for subscribers that would get the same
answer (``shared_execution``)."""
