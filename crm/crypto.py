"""Secrets at rest (mailbox passwords), encrypted with the instance's Fernet key."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from crm.core.errors import UserError


def encrypt_secret(key: str, plaintext: str) -> bytes:
    """Return the Fernet token of a secret."""
    return Fernet(key.encode()).encrypt(plaintext.encode())


def decrypt_secret(key: str, token: bytes) -> str:
    """Return a secret; a changed or lost key is a user error that says what to do."""
    try:
        return Fernet(key.encode()).decrypt(token).decode()
    except InvalidToken:
        raise UserError(
            "a stored secret cannot be decrypted with this ENCRYPTION_KEY: "
            "restore instance/encryption_key or enter the password again"
        ) from None
