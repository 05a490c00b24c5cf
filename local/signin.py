"""The local provider's sign-in page: one form, one button per user of local/provider.json, no passwords.

A browser shows it; a test posts the same form (the hidden fields and `user`) with any HTTP client.
"""

from __future__ import annotations

from html import escape

#: The page runs no script, loads nothing and is never framed.
PAGE_HEADERS = (
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)

_STYLE = "body{font-family:sans-serif;max-width:36em;margin:3em auto}button{display:block;margin:.5em 0}"


def sign_in_page(action: str, fields: dict[str, str], users: list[tuple[str, str, frozenset[str]]]) -> str:
    """The form re-sends the authorization request in hidden fields, with the user who signs in."""
    hidden = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields.items()
    )
    buttons = "".join(
        f'<button type="submit" name="user" value="{escape(user_id)}">Sign in as {escape(name)}'
        f" ({escape(' '.join(sorted(scopes)) or 'none of the scopes asked for')})</button>"
        for user_id, name, scopes in users
    )
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>Local sign-in</title><style>{_STYLE}</style>"
        f"</head><body><h1>Local sign-in</h1><p>{escape(fields['client_id'])} asks for "
        f"<code>{escape(fields.get('scope', 'its default scopes'))}</code>. The token gets what the "
        "client and the user may both have. For development only: anyone on this machine can sign in "
        "as anyone.</p>"
        f'<form method="post" action="{escape(action)}">{hidden}{buttons}'
        '<button type="submit" name="deny" value="1">Decline</button></form></body></html>'
    )


def error_page(message: str) -> str:
    """For a request that cannot be sent back to its client: an unknown client or redirect URI."""
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>Sign-in error</title></head><body>"
        f"<h1>This sign-in request is not valid</h1><p>{escape(message)}</p></body></html>"
    )
