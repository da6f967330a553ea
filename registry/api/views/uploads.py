from rest_framework.negotiation import DefaultContentNegotiation

from ...artifacts import HashingUploadHandler
from ..parsers import StrictJSONParser, StrictMultiPartParser


class StreamedUploadMixin:
    """Views that accept an artifact: multipart or JSON, streamed and hashed on arrival.

    The handler must be in place before anything reads the body (including the CSRF
    check of session authentication), hence initialize_request. Whatever happens to the
    request, an unfinished temporary file is deleted before the response leaves.
    """

    parser_classes = [StrictJSONParser, StrictMultiPartParser]

    def initialize_request(self, request, *args, **kwargs):
        self.upload_handler = HashingUploadHandler(request)
        request.upload_handlers = [self.upload_handler]
        return super().initialize_request(request, *args, **kwargs)

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            if hasattr(self, "upload_handler"):
                self.upload_handler.discard_unfinished()


class JSONWhateverAccepted(DefaultContentNegotiation):
    """Downloads bypass renderers; everything else from the view (errors, a link to an
    external artifact) is JSON even when the client asked for application/octet-stream."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
