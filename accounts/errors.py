from common.errors import ConflictError


class ApiKeyRevoked(ConflictError):
    code = "api_key_revoked"
