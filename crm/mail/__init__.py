"""Mail protocol code: composing and sending over SMTP, reading IMAP, parsing and classifying.

Nothing here knows about touches, prospects or the database: `crm.outreach`
sends through it and `crm.replies` reads replies through it.
"""
