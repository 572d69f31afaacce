"""E-mail over SMTP (aiosmtplib)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from peerloop_notifications.adapters.senders import DeliveryError, Outgoing
from peerloop_notifications.domain.calendar import method_of


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    sender: str
    timeout: float = 10.0
    start_tls: bool | None = None
    use_tls: bool = False
    username: str | None = None
    password: str | None = None

    def build(self, message: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.address
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(usegmt=True)
        # Stable across retries: a message re-sent after a crash in mid-send is a duplicate
        # the receiving side can recognise.
        mail["Message-ID"] = f"<{_local_part(message.delivery_id)}@peerloop.notifications>"
        mail["X-Peerloop-Delivery"] = message.delivery_id
        mail.set_content(message.body)
        if message.calendar is not None:
            # The iTIP part beside the text (RFC 6047): calendar clients offer to add,
            # update or remove the event; the method is repeated in the content type.
            mail.add_alternative(
                message.calendar,
                subtype="calendar",
                params={"method": method_of(message.calendar).value},
            )
        return mail

    async def send(self, message: Outgoing) -> None:
        try:
            await aiosmtplib.send(
                self.build(message),
                hostname=self.host,
                port=self.port,
                timeout=self.timeout,
                start_tls=self.start_tls,
                use_tls=self.use_tls,
                username=self.username,
                password=self.password,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise DeliveryError(
                f"recipient refused: {codes}", permanent=all(c >= 500 for c in codes)
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"smtp {exc.code}: {exc.message}", permanent=exc.code >= 500
            ) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryError(f"smtp unreachable: {type(exc).__name__}: {exc}") from exc


def _local_part(delivery_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-._" else "." for c in delivery_id)
