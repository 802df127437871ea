"""Sending alert e-mails through the SMTP settings (SMTP_HOST ... ALERTS_MAIL_FROM) with
smtplib and email.message: one connection per run, one message per alert."""
import smtplib
from collections.abc import Iterable
from email.message import EmailMessage

from flask import current_app


def configured() -> bool:
    """Whether e-mail is set up at all (SMTP_HOST given)."""
    return bool(current_app.config["SMTP_HOST"])


def message(*, to: list[str], subject: str, body: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = current_app.config["ALERTS_MAIL_FROM"]
    mail["To"] = ", ".join(to)
    mail["Subject"] = subject
    mail.set_content(body)
    return mail


def send_all(messages: Iterable[tuple[int, EmailMessage]]) -> dict[int, str | None]:
    """Send each (key, message); the answer maps each key to None (sent) or the error's
    text. A connection that cannot be made fails every message with its reason."""
    config = current_app.config
    pending = list(messages)
    outcome: dict[int, str | None] = {}
    if not pending:
        return outcome
    try:
        smtp = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"],
                            timeout=config["SMTP_TIMEOUT_SECONDS"])
    except (OSError, smtplib.SMTPException) as error:
        return {key: f"connect: {error}" for key, _ in pending}
    try:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
        for key, mail in pending:
            try:
                smtp.send_message(mail)
                outcome[key] = None
            except (OSError, smtplib.SMTPException) as error:
                outcome[key] = str(error)[:1000]
    except (OSError, smtplib.SMTPException) as error:
        for key, _ in pending:
            outcome.setdefault(key, str(error)[:1000])
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    return outcome
