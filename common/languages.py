"""The languages Waypoint writes to customers in.

Each has a folder of message templates (templates/notifications/messages/<code>/), and a test
holds this list to those folders. It lives here, below every app, because orders validate an
order's `language` against it while the templates belong to notifications, a layer above.
"""

CUSTOMER_LANGUAGES: list[tuple[str, str]] = [("en", "English"), ("fi", "Suomi")]
CUSTOMER_LANGUAGE_CODES: tuple[str, ...] = tuple(code for code, _name in CUSTOMER_LANGUAGES)
