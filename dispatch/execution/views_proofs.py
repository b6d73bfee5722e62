"""`/proofs/<token>`: a proof's file for whoever holds a signed URL that has not expired yet.

The token is the only key (like a presigned S3 URL), so ops can open it in a browser and a
merchant's system can fetch it with no session. A tampered or expired token answers 403 and a
proof that is gone 404, both without the file.
"""

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from dispatch.execution.proofs import proof_by_id, proof_id_from_token


@require_GET
def proof_file(request, token):
    proof_id = proof_id_from_token(token)
    if proof_id is None:
        raise PermissionDenied("This link to a proof of delivery has expired or is not valid.")
    proof = proof_by_id(proof_id=proof_id)
    if proof is None or not proof.file:
        raise Http404("No such proof of delivery.")
    try:
        handle = proof.file.open("rb")
    except FileNotFoundError:
        raise Http404("The proof's file is missing from storage.") from None
    response = FileResponse(handle, content_type=proof.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    # Personal data behind an expiring link: never kept by shared caches.
    patch_cache_control(response, private=True, no_store=True)
    return response
