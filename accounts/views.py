from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.models import ApiKeyScope, Role
from accounts.navigation import page_roles
from accounts.tenancy import organization_page

ADMIN_ONLY = frozenset({Role.ADMIN})


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Who uses it, e.g. 'Web shop'")
    scope = forms.ChoiceField(choices=ApiKeyScope.choices, initial=ApiKeyScope.READ_WRITE)


@organization_page(roles=page_roles("api-key-list"))
def api_key_list(request):
    organization = request.actor.organization
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _, raw_key = services.api_key_create(organization=organization, created_by=request.user, **form.cleaned_data)
        # Post/redirect/get: a reload must neither create a second key nor show this one again.
        request.session["new_api_key"] = raw_key
        return redirect("api-key-list")
    context = {
        "keys": selectors.api_key_list(organization=organization),
        "form": form,
        "new_key": request.session.pop("new_api_key", None),
    }
    return render(request, "accounts/api_keys.html", context)


@require_POST
@organization_page(roles=ADMIN_ONLY)
def api_key_revoke(request, pk):
    api_key = get_object_or_404(selectors.api_key_list(organization=request.actor.organization), pk=pk)
    services.api_key_revoke(api_key=api_key)
    messages.success(request, f"Key '{api_key.name}' revoked.")
    return redirect("api-key-list")
