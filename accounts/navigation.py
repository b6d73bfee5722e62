"""The console's pages and the roles that may open each: one table for the navigation and the gates.

The navigation (`templates/base.html`, through `console.templatetags.navigation`) lists for the
signed-in user exactly the pages whose gate lets that role in, and each page's view takes its
roles from here (`page_roles("order-list")`), so a link in the navigation never answers 403.
"""

from dataclasses import dataclass

from accounts.models import WRITE_ROLES, Role

EVERYONE = frozenset(Role.values)
# The office: admins, dispatchers and viewers. Drivers have their own page and API.
OFFICE = frozenset({Role.ADMIN, Role.DISPATCHER, Role.VIEWER})
DRIVERS = frozenset({Role.DRIVER})
ADMINS = frozenset({Role.ADMIN})


@dataclass(frozen=True)
class Page:
    label: str
    url_name: str
    roles: frozenset[str]


PAGES: tuple[Page, ...] = (
    # A driver's `/` redirects to the driver app: the overview shows the organization's orders.
    Page("Overview", "home", OFFICE),
    Page("My route", "driver-app", DRIVERS),
    Page("Orders", "order-list", OFFICE),
    Page("Control tower", "control-tower", OFFICE),
    Page("Dispatch", "dispatch-home", OFFICE),
    Page("Forecast", "dispatch-forecast", OFFICE),
    # Customer messages sent, queued, failed or suppressed (notifications/views.py).
    Page("Messages", "notification-messages", OFFICE),
    # Importing writes orders: viewers can only read.
    Page("Import CSV", "order-import", WRITE_ROLES),
    Page("API keys", "api-key-list", ADMINS),
    Page("Webhooks", "webhook-list", ADMINS),
    # The schema is public documentation; drivers' app uses the driver endpoints it describes.
    Page("API docs", "api-docs", EVERYONE),
)
_BY_URL_NAME = {page.url_name: page for page in PAGES}


def page_roles(url_name: str) -> frozenset[str]:
    """The roles allowed on the page named `url_name`; a KeyError names a page missing here."""
    return _BY_URL_NAME[url_name].roles


def pages_for(role: str | None) -> list[Page]:
    """The navigation of `role`, in the table's order; nothing for users outside an organization."""
    return [page for page in PAGES if role in page.roles]
