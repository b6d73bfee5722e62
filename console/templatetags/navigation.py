"""`{% navigation_links as links %}`: the signed-in user's navigation, from accounts.navigation."""

from django import template
from django.urls import reverse

from accounts.navigation import pages_for

register = template.Library()


@register.simple_tag(takes_context=True)
def navigation_links(context) -> list[dict]:
    request = context.get("request")
    user = getattr(request, "user", None)
    # The pages' gate (accounts.tenancy.organization_page) admits members of an organization only.
    if user is None or not user.is_authenticated or not getattr(user, "organization_id", None):
        return []
    links = [{"label": page.label, "url": reverse(page.url_name), "current": False} for page in pages_for(user.role)]
    # The page being shown is the link with the longest matching prefix (/dispatch/forecast/ is
    # "Forecast", not "Dispatch"); "/" matches only itself.
    matches = [link for link in links if _shows(request.path, link["url"])]
    if matches:
        max(matches, key=lambda link: len(link["url"]))["current"] = True
    return links


def _shows(path: str, url: str) -> bool:
    return path == url or (url != "/" and path.startswith(url))
