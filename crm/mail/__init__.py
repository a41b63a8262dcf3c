"""Mail: composing and sending touches (SMTP), reading and classifying replies (IMAP)."""
