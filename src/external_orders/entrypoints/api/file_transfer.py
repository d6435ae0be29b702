"""``GET /topm-export/{token}``: the order XML SAN6 downloads (filetransferurl).

No login: the signed token is the proof (see ``adapters.signing``). Every
refusal, whatever its reason, is the same bare 404 as an unknown path, so
the answer tells nothing about which tokens or exports exist.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from external_orders.bootstrap import Services
from external_orders.entrypoints.api.errors import not_found
from external_orders.entrypoints.api.schemas import error
from external_orders.logs import log_event

XML_MEDIA_TYPE = "application/xml; charset=utf-8"


def router(services: Services) -> APIRouter:
    routes = APIRouter(tags=["file transfer"])

    @routes.get(
        "/topm-export/{token}",
        summary="The AuftragNeu2 XML of an export, by signed URL",
        response_class=Response,
        responses={
            200: {
                "description": "The attempt's request XML.",
                "content": {"application/xml": {"schema": {"type": "string"}}},
            },
            404: error("Invalid, tampered, expired or unknown token."),
        },
    )
    def file_transfer(token: str) -> Response:
        """Made by the exporter (and ``external-orders signed-url``), 600 s."""
        signer = services.signer
        export_id = signer.verify(token) if signer is not None else None
        attempt = services.exports.find(export_id) if export_id else None
        if attempt is None or attempt.request_xml is None:
            return not_found()

        log_event(
            "TopM export file served.",
            exportId=attempt.id.hex,
            orderId=attempt.order_id.hex,
            correlationId=attempt.correlation_id,
        )
        return Response(
            attempt.request_xml,
            media_type=XML_MEDIA_TYPE,
            headers={"Cache-Control": "no-store"},
        )

    @routes.api_route(
        "/topm-export/{anything:path}",
        methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        include_in_schema=False,
    )
    def anything_else(anything: str) -> Response:
        # Other methods, extra path parts, a trailing slash: the same bare 404
        # as a bad token, never a 405 or a redirect that says the path exists.
        return not_found()

    return routes
