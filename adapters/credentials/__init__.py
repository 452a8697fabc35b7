"""Credentials of every role: API keys, enterprise accounts and tokens, failed-login counts."""

from adapters.credentials.keys import key_id_of, new_secret
from adapters.credentials.refusals import RefusedKey
from adapters.credentials.store import (
    AccountError,
    ApiKey,
    CredentialStore,
    CredentialsUnavailable,
    EnterpriseAccount,
    EnterpriseUser,
    LoginRefused,
    LoginThrottled,
    PostgresCredentialStore,
    SQLiteCredentialStore,
)

KEY_PREFIX = "gs_"  # department keys

__all__ = [
    "KEY_PREFIX",
    "AccountError",
    "ApiKey",
    "CredentialStore",
    "CredentialsUnavailable",
    "EnterpriseAccount",
    "EnterpriseUser",
    "LoginRefused",
    "LoginThrottled",
    "PostgresCredentialStore",
    "RefusedKey",
    "SQLiteCredentialStore",
    "key_id_of",
    "new_secret",
]
