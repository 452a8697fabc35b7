"""Departments' Kafka principals: a SCRAM user per department key, allowed to write one topic.

`KafkaAccess` works as the admin principal (`GONGSHI_KAFKA_ADMIN_USERNAME`, ALTER and DESCRIBE on
the cluster: SCRAM users and ACLs), never as the platform's own principal, so the processes that
run all day (serve, the workers) cannot make users or grant anything. Each writer gets WRITE and
DESCRIBE on one topic, as a literal ACL: the platform's `<prefix>.publications` (a test's prefix
is its own, so its writers can write its topic only). Revoking deletes the writer's ACLs first
(the broker checks them on every request, so an open connection is refused from then on) and
then its SCRAM credential (no new connection authenticates).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)
from kafka.errors import KafkaError, NoError

from adapters.publication_log.base import LogAccess, LogUnavailable, WriterLogin
from adapters.publication_log.kafka import SaslLogin

log = logging.getLogger(__name__)

SCRAM = ("SCRAM-SHA-512", "SCRAM-SHA-256")
WRITER_OPERATIONS = (ACLOperation.WRITE, ACLOperation.DESCRIBE)


class KafkaAccessError(LogUnavailable):
    """The broker refused to make or remove a writer (e.g. the admin principal lacks rights)."""


class KafkaAccess(LogAccess):
    def __init__(
        self,
        bootstrap: str,
        admin: SaslLogin | None,
        *,
        client_id: str = "gongshi-admin",
        request_timeout_s: float = 15.0,
    ) -> None:
        self.bootstrap = bootstrap
        self.admin = admin
        self.client_id = client_id
        self.request_timeout_s = request_timeout_s
        self._client: KafkaAdminClient | None = None

    @property
    def mechanism(self) -> str | None:
        return self.admin.mechanism if self.admin is not None and self.admin.mechanism in SCRAM else None

    def _admin(self) -> KafkaAdminClient:
        if self._client is None:
            assert self.admin is not None
            try:
                self._client = KafkaAdminClient(
                    bootstrap_servers=self.bootstrap.split(","),
                    client_id=self.client_id,
                    request_timeout_ms=int(self.request_timeout_s * 1000),
                    bootstrap_timeout_ms=int(self.request_timeout_s * 1000),
                    **self.admin.client_config(),
                )
            except (KafkaError, OSError) as err:
                raise LogUnavailable(
                    f"Kafka at {self.bootstrap}: connecting as {self.admin.username}: {err!r}"
                ) from err
        return self._client

    @staticmethod
    def writer_acls(username: str, topic: str) -> list[ACL]:
        pattern = ResourcePattern(ResourceType.TOPIC, topic, ACLResourcePatternType.LITERAL)
        return [
            ACL(f"User:{username}", "*", operation, ACLPermissionType.ALLOW, pattern)
            for operation in WRITER_OPERATIONS
        ]

    def grant_writer(self, username: str, topic: str) -> WriterLogin | None:
        mechanism = self.mechanism
        if mechanism is None:  # a broker without SCRAM: its users are not ours to make
            return None
        password = secrets.token_urlsafe(24)
        admin = self._admin()
        try:
            errors = admin.alter_user_scram_credentials(
                [UserScramCredentialUpsertion(username, mechanism, password)]
            )
            if errors.get(username):
                raise KafkaAccessError(f"Kafka refused to make user {username}: {errors[username]}")
        except (KafkaError, OSError) as err:
            raise KafkaAccessError(f"Kafka at {self.bootstrap}: making user {username}: {err!r}") from err
        try:
            result: dict[str, Any] = admin.create_acls(self.writer_acls(username, topic))
            if result.get("failed"):
                raise KafkaAccessError(f"Kafka refused the ACLs of {username}: {result['failed']!r}")
        except (KafkaError, OSError, KafkaAccessError) as err:
            self._undo(username)  # no user left behind without its ACLs
            if isinstance(err, KafkaAccessError):
                raise
            raise KafkaAccessError(f"Kafka at {self.bootstrap}: granting {username}: {err!r}") from err
        return WriterLogin(username=username, password=password, mechanism=mechanism)

    def _undo(self, username: str) -> None:
        try:
            self.revoke_writer(username)
        except LogUnavailable as err:
            log.warning("could not remove the half-made Kafka user %s: %r", username, err)

    def revoke_writer(self, username: str) -> bool:
        mechanism = self.mechanism
        if mechanism is None:
            return False
        admin = self._admin()
        everything = ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)
        try:
            deleted = admin.delete_acls(
                [ACLFilter(f"User:{username}", None, ACLOperation.ANY, ACLPermissionType.ANY, everything)]
            )
            errors = admin.alter_user_scram_credentials([UserScramCredentialDeletion(username, mechanism)])
        except (KafkaError, OSError) as err:
            raise KafkaAccessError(f"Kafka at {self.bootstrap}: revoking {username}: {err!r}") from err
        for _filter, _acls, error in deleted:
            if error is not None and error is not NoError:
                raise KafkaAccessError(f"Kafka refused to delete the ACLs of {username}: {error!r}")
        acls_removed = sum(len(acls) for _f, acls, _e in deleted)
        user_removed = not errors.get(username)
        if errors.get(username) and "does not exist" not in str(errors[username]):
            log.warning("removing the SCRAM user %s: %s", username, errors[username])
        return acls_removed > 0 or user_removed

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            except (KafkaError, OSError) as err:
                log.warning("closing the Kafka admin client failed: %r", err)
            self._client = None
