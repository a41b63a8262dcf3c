"""Replies: IMAP polling into the database, matching, what a message changes, the inbox.

- `poll_pass`: one pass over every mailbox's folders (the `crm worker` job).
- `receive`: store fetched messages and apply their effects; the database side of matching.
- `matching` (pure): the touch a message answers, and how.
- `effect_rules` (pure): what a matched message changes; `effects` applies it.
- `outcome` (pure): the reply outcome a human reply suggests.
- `inbox`: who sees what, the JSON shape, outcomes, assigning by hand, triage.
- `notifications`: in-app notifications of replies.

The protocol side (IMAP, parsing, classification) lives in `crm.mail`.
"""
