from django.db.models import QuerySet

from accounts.models import ApiKey


def api_key_list(*, organization) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(organization=organization).select_related("created_by")
